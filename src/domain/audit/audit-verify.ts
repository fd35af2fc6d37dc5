import type { Kysely } from 'kysely';

import { hushError } from '../../errors.js';
import { findAuditEventBySeq, iterateAuditChain, readAuditHead } from '../../store/audit-store.js';
import type { Schema } from '../../store/schema.js';
import { now } from '../context.js';
import type { AuditKeys } from './audit-key.js';
import { type ChainVerdict, createChainVerifier, macEquals, sealHead } from './chain.js';
import {
  type AuditCheckpoint,
  CHECKPOINT_FORMAT,
  checkpointSignatureValid,
  signCheckpoint,
} from './checkpoint.js';

/**
 * Recomputes an organization's chain and names the first broken link: the head's seal first (its
 * `keyedFromSeq` and anchor say how to read the rest), then every event from the anchor up to the
 * head's seq, then the tail (the last event must be the head's) and the checkpoint, if given.
 * Throws AUDIT_CHECKPOINT_INVALID for a checkpoint this server's audit key did not sign for the
 * organization.
 */
export async function verifyChain(
  db: Kysely<Schema>,
  keys: AuditKeys,
  orgId: string,
  checkpoint?: AuditCheckpoint,
): Promise<ChainVerdict> {
  if (checkpoint) assertCheckpoint(keys, orgId, checkpoint);
  const head = await readAuditHead(db, orgId);
  if (!head) {
    // No head: no event was ever appended, unless the head row itself was deleted.
    for await (const first of iterateAuditChain(db, orgId, undefined, 1)) {
      return {
        ok: false,
        checked: 0,
        brokenAt: { id: first.id, seq: first.seq, reason: 'head-missing' },
      };
    }
    return createChainVerifier({ key: keys.event, checkpoint }).result();
  }
  const expected = sealHead(keys.head, orgId, head);
  if (head.headMac === null || !macEquals(expected, head.headMac)) {
    return {
      ok: false,
      checked: 0,
      brokenAt: { id: null, seq: head.seq, reason: 'head-seal-mismatch' },
    };
  }
  const verifier = createChainVerifier({
    key: keys.event,
    keyedFromSeq: head.keyedFromSeq,
    anchorSeq: head.anchorSeq,
    anchorHash: head.anchorHash,
    head,
    checkpoint,
  });
  for await (const row of iterateAuditChain(db, orgId, head.seq)) {
    const broken = verifier.push(row);
    if (broken) return broken;
  }
  return verifier.result();
}

/** Refuses a checkpoint that is not for this organization or not signed by this audit key. */
function assertCheckpoint(keys: AuditKeys, orgId: string, checkpoint: AuditCheckpoint): void {
  if (checkpoint.keyId !== keys.id) {
    throw hushError(
      'AUDIT_CHECKPOINT_INVALID',
      `checkpoint was signed by audit key ${checkpoint.keyId}, but this server's audit key is ${keys.id}: either the checkpoint is forged or the audit key was replaced`,
      { keyId: checkpoint.keyId },
    );
  }
  if (!checkpointSignatureValid(keys.checkpoint, checkpoint)) {
    throw hushError(
      'AUDIT_CHECKPOINT_INVALID',
      'checkpoint signature does not match: the checkpoint was edited or forged',
    );
  }
  if (checkpoint.organizationId !== orgId) {
    throw hushError(
      'AUDIT_CHECKPOINT_INVALID',
      `checkpoint is for organization ${checkpoint.organizationId} (${checkpoint.organization}), not this one`,
      { organizationId: checkpoint.organizationId },
    );
  }
}

/**
 * Verifies the chain and signs its head as a checkpoint to keep elsewhere. Throws
 * AUDIT_CHAIN_BROKEN (with the first broken link in details) rather than sign a broken chain.
 */
export async function issueCheckpoint(
  db: Kysely<Schema>,
  keys: AuditKeys,
  org: { id: string; slug: string },
): Promise<AuditCheckpoint> {
  const verdict = await verifyChain(db, keys, org.id);
  if (!verdict.ok) {
    throw hushError(
      'AUDIT_CHAIN_BROKEN',
      `audit chain is broken at seq ${verdict.brokenAt.seq} (${verdict.brokenAt.reason}); run "hush audit verify"`,
      { brokenAt: verdict.brokenAt },
    );
  }
  const last =
    verdict.lastSeq > 0 ? await findAuditEventBySeq(db, org.id, verdict.lastSeq) : undefined;
  return signCheckpoint(keys.checkpoint, {
    format: CHECKPOINT_FORMAT,
    organizationId: org.id,
    organization: org.slug,
    seq: verdict.lastSeq,
    hash: verdict.lastHash,
    timestamp: last?.timestamp ?? null,
    signedAt: now(),
    keyId: keys.id,
  });
}
