import { createHmac } from 'node:crypto';

import { macEquals } from './chain.js';

/** The `format` of every checkpoint this version issues. */
export const CHECKPOINT_FORMAT = 'hush-audit-checkpoint/1';

/**
 * A signed chain head, printed by `hush audit checkpoint` to be kept outside Hush's database:
 * verifying against it later proves the log still holds that event with that hash.
 */
export interface AuditCheckpoint {
  format: typeof CHECKPOINT_FORMAT;
  /** Organization id (what the signature binds) and its slug when signed. */
  organizationId: string;
  organization: string;
  /** The last event's seq and hash (0 and the genesis for an empty chain). */
  seq: number;
  hash: string;
  /** The last event's time (null for an empty chain). */
  timestamp: string | null;
  /** When the checkpoint was signed. */
  signedAt: string;
  /** Fingerprint of the audit key that signed it (a replaced key shows here). */
  keyId: string;
  /** HMAC-SHA-256 (hex) under the audit checkpoint key over every field above. */
  signature: string;
}

/** A checkpoint's fields without its signature. */
export type CheckpointFields = Omit<AuditCheckpoint, 'signature'>;

function signatureOf(key: Buffer, fields: CheckpointFields): string {
  // Every field, in a fixed order: the signature covers the whole checkpoint as printed.
  const encoded = JSON.stringify([
    fields.format,
    fields.organizationId,
    fields.organization,
    fields.seq,
    fields.hash,
    fields.timestamp,
    fields.signedAt,
    fields.keyId,
  ]);
  return createHmac('sha256', key).update(encoded, 'utf8').digest('hex');
}

/**
 * Signs a checkpoint with the audit checkpoint key (a key of its own, derived apart from the one
 * that hashes events, so a signature can never pass for an event hash or a head seal).
 */
export function signCheckpoint(key: Buffer, fields: CheckpointFields): AuditCheckpoint {
  return { ...fields, signature: signatureOf(key, fields) };
}

/** Whether a checkpoint's signature is the one `key` makes over its fields (constant time). */
export function checkpointSignatureValid(key: Buffer, checkpoint: AuditCheckpoint): boolean {
  const { signature, ...fields } = checkpoint;
  return macEquals(signatureOf(key, fields), signature);
}
