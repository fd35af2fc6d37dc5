import { hkdfSync, randomBytes } from 'node:crypto';

import type { Kysely } from 'kysely';

import type { MasterKeyProvider } from '../../crypto/key-provider.js';
import { hushError } from '../../errors.js';
import { countSealedAuditHeads, sealUnsealedAuditHeads } from '../../store/audit-store.js';
import { findAuditKey, insertAuditKey } from '../../store/key-store.js';
import type { Schema } from '../../store/schema.js';
import { now } from '../context.js';
import { sealHead } from './chain.js';

/** Id of the instance's one audit key row. */
export const AUDIT_KEY_ID = 'instance';

/** The keys derived from the audit root key, one per purpose, and the root's fingerprint. */
export interface AuditKeys {
  /** A public fingerprint of the root key: names it in checkpoints (a replaced key shows). */
  id: string;
  /** Hashes events (HMAC-SHA-256). */
  event: Buffer;
  /** Seals chain heads. */
  head: Buffer;
  /** Signs checkpoints. */
  checkpoint: Buffer;
}

/**
 * Derives the audit keys from a 32-byte root with HKDF-SHA-256, one `info` per purpose, so that
 * no MAC made for one purpose is ever valid for another.
 */
export function deriveAuditKeys(root: Buffer): AuditKeys {
  const derive = (info: string, length = 32) =>
    Buffer.from(hkdfSync('sha256', root, Buffer.alloc(0), info, length));
  return {
    id: `ak_${derive('hush/audit/key-id/1', 8).toString('hex')}`,
    event: derive('hush/audit/event/1'),
    head: derive('hush/audit/head/1'),
    checkpoint: derive('hush/audit/checkpoint/1'),
  };
}

/** What {@link AuditKey.load} found. */
export interface AuditKeyLoad {
  /** Whether this start made the key (the first start after migration 0008, or a fresh database). */
  created: boolean;
  /** Chains that existed unkeyed when the key was made, now sealed as keyed from their next event. */
  sealedChains: number;
}

/**
 * The audit MAC key (SPEC §6 chain): a random 32-byte root, wrapped by the master key and stored
 * in `audit_keys` like a data key, unwrapped once at start and kept in memory, so an append costs
 * one HMAC and no unwrap. The master-key re-wrap (`rewrapAll`) re-wraps it with the data keys.
 * Throws KEY_UNAVAILABLE when the master key cannot unwrap it, or when it is missing although
 * chains were sealed with it.
 */
export function createAuditKey(deps: {
  masterKey: MasterKeyProvider;
  /** Wraps a new key with the master key the cluster wraps with (the key service's `wrap`). */
  wrap: (db: Kysely<Schema>, key: Buffer) => Promise<{ wrapped: string; masterKeyId: string }>;
}) {
  let keys: AuditKeys | undefined;

  /**
   * Unwraps the audit key, or makes it when the database has none. Making it seals, in the same
   * transaction, every chain head that exists unsealed (chains written before keying), so that
   * only the start that makes the key ever accepts a chain as unkeyed.
   */
  async function load(db: Kysely<Schema>): Promise<AuditKeyLoad> {
    let result: AuditKeyLoad = { created: false, sealedChains: 0 };
    let row = await findAuditKey(db, AUDIT_KEY_ID);
    if (!row) {
      result = await db.transaction().execute(async (trx) => {
        const sealed = await countSealedAuditHeads(trx);
        if (sealed > 0) {
          // A new key would declare every keyed chain broken: the row was lost, refuse instead.
          throw hushError(
            'KEY_UNAVAILABLE',
            `the audit key is missing from the database but ${sealed} audit chains were sealed with it; restore the audit_keys table from a backup`,
          );
        }
        const root = randomBytes(32);
        const { wrapped, masterKeyId } = await deps.wrap(trx, root);
        const made = { id: AUDIT_KEY_ID, wrappedKey: wrapped, masterKeyId, createdAt: now() };
        // Two servers starting at once: one insert wins, the other reads the winner's key.
        if (!(await insertAuditKey(trx, made))) return { created: false, sealedChains: 0 };
        const headKey = deriveAuditKeys(root).head;
        const sealedChains = await sealUnsealedAuditHeads(trx, (orgId, terms) =>
          sealHead(headKey, orgId, terms),
        );
        return { created: true, sealedChains };
      });
      row = await findAuditKey(db, AUDIT_KEY_ID);
      if (!row) throw hushError('KEY_UNAVAILABLE', 'the audit key could not be created');
    }
    keys = deriveAuditKeys(await deps.masterKey.unwrap(row.wrappedKey, row.masterKeyId));
    return result;
  }

  /** The loaded audit keys; throws KEY_UNAVAILABLE before {@link load}. */
  function current(): AuditKeys {
    if (!keys) throw hushError('KEY_UNAVAILABLE', 'the audit key is not loaded');
    return keys;
  }

  return { load, current };
}

export type AuditKey = ReturnType<typeof createAuditKey>;
