import type { Kysely } from 'kysely';

import { secretAad } from '../../crypto/envelope.js';
import { hushError } from '../../errors.js';
import { isRetryableConflict } from '../../store/db-errors.js';
import {
  countVersionsNotSealedWith,
  deleteUnusedDataKeys,
  findVersionsNotSealedWith,
  listOrganizationKeys,
  listOrgDataKeys,
  resealVersion,
} from '../../store/key-store.js';
import type { Schema } from '../../store/schema.js';
import type { AuditService } from '../audit/audit-service.js';
import type { RequestContext } from '../context.js';
import type { UnitOfWork } from '../unit-of-work.js';
import type { KeyService } from './key-service.js';

/** What one organization's data-key rotation did. */
export interface DataKeyRotationResult {
  organization: string;
  /** The data key every value is sealed with now. */
  dataKeyId: string;
  /** Whether this run continued a rotation a crash or a stop had left unfinished. */
  resumed: boolean;
  /** Values (secret versions) re-encrypted by this run. */
  reencrypted: number;
  /** Older data keys deleted once nothing was sealed with them. */
  deletedKeys: number;
}

/** Progress of one organization, after each batch. */
export interface DataKeyProgress {
  organization: string;
  done: number;
  total: number;
}

const BATCH_ATTEMPTS = 5;

/**
 * `hush admin rotate-data-keys`: gives each organization a new data key and re-encrypts every
 * value sealed with an older one, online, in batches (each its own short transaction, so reads
 * and writes keep flowing), then deletes the older keys. Resumable: an organization whose values
 * are still sealed with older keys (a run that crashed or was stopped) continues with its
 * current key instead of making another. Unlike a master-key rotation, this leaves an old backup
 * and a leaked old master key unable to read anything written or re-encrypted after it.
 */
export function createDataKeyRotation(deps: {
  db: Kysely<Schema>;
  uow: UnitOfWork;
  audit: AuditService;
  keys: KeyService;
}) {
  async function rotate(
    ctx: RequestContext,
    options: {
      org?: string;
      batchSize?: number;
      onProgress?: (progress: DataKeyProgress) => void;
    } = {},
  ): Promise<DataKeyRotationResult[]> {
    const batchSize = options.batchSize ?? 500;
    const orgs = (await listOrganizationKeys(deps.db)).filter(
      (o) => options.org === undefined || o.slug === options.org,
    );
    if (options.org !== undefined && orgs.length === 0) {
      throw hushError('ORGANIZATION_NOT_FOUND', `no organization ${options.org}`);
    }
    const results: DataKeyRotationResult[] = [];
    for (const org of orgs) results.push(await rotateOne(ctx, org, batchSize, options.onProgress));
    return results;
  }

  async function rotateOne(
    ctx: RequestContext,
    org: { id: string; slug: string; activeDataKeyId: string | null },
    batchSize: number,
    onProgress: ((progress: DataKeyProgress) => void) | undefined,
  ): Promise<DataKeyRotationResult> {
    const current = org.activeDataKeyId ?? (await listOrgDataKeys(deps.db, org.id)).at(-1)?.id;
    const unfinished =
      current !== undefined && (await countVersionsNotSealedWith(deps.db, org.id, current)) > 0;
    const dataKeyId =
      unfinished && current
        ? current
        : await deps.uow.write(ctx, async (trx) => {
            // Waits (PostgreSQL) for the seals under way with the old key: none comes after.
            const id = await deps.keys.createDataKey(trx, org.id);
            await deps.audit.append(trx, ctx, {
              orgId: org.id,
              eventType: 'ROTATE',
              targetType: 'organization',
              targetId: org.id,
              targetName: org.slug,
              change:
                'rotated the data key: new values are sealed with a new key, older ones are re-encrypted',
              details: { dataKeyId: id, previousDataKeyId: current ?? null },
            });
            return id;
          });
    const total = await countVersionsNotSealedWith(deps.db, org.id, dataKeyId);
    let done = 0;
    onProgress?.({ organization: org.slug, done, total });
    for (;;) {
      const moved = await reencryptBatch(org.id, dataKeyId, batchSize);
      if (moved === 0) break;
      done += moved;
      onProgress?.({ organization: org.slug, done, total: Math.max(total, done) });
    }
    const deletedKeys = await deps.uow.write(ctx, async (trx) => {
      const deleted = await deleteUnusedDataKeys(trx, org.id, dataKeyId);
      await deps.audit.append(trx, ctx, {
        orgId: org.id,
        eventType: 'UPDATE',
        targetType: 'organization',
        targetId: org.id,
        targetName: org.slug,
        change: `finished the data-key rotation: every value is sealed with the new key; deleted ${deleted} older keys`,
        details: { dataKeyId, deletedKeys: deleted, resumed: unfinished },
      });
      return deleted;
    });
    return {
      organization: org.slug,
      dataKeyId,
      resumed: unfinished,
      reencrypted: done,
      deletedKeys,
    };
  }

  /**
   * Re-encrypts up to `limit` versions sealed with another key, in one transaction (tried again
   * on a conflict with concurrent writers); returns how many it found (0: none left).
   */
  async function reencryptBatch(orgId: string, dataKeyId: string, limit: number): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await deps.db.transaction().execute(async (trx) => {
          const rows = await findVersionsNotSealedWith(trx, orgId, dataKeyId, limit);
          for (const row of rows) {
            const aad = secretAad(row.secretId, row.version);
            // A pruned version keeps no ciphertext: only the key it names moves.
            const sealed =
              row.ciphertext === null
                ? { keyId: dataKeyId, ciphertext: null }
                : await deps.keys.seal(
                    trx,
                    { id: orgId },
                    await deps.keys.open(
                      trx,
                      { keyId: row.keyId, ciphertext: row.ciphertext },
                      aad,
                    ),
                    aad,
                  );
            if (sealed.keyId !== dataKeyId) {
              throw hushError(
                'CONFLICT',
                'another data-key rotation of this organization started meanwhile: run hush admin rotate-data-keys again',
              );
            }
            await resealVersion(trx, { ...row, fromKeyId: row.keyId, ...sealed });
          }
          return rows.length;
        });
      } catch (error) {
        if (!isRetryableConflict(error) || attempt >= BATCH_ATTEMPTS) throw error;
      }
    }
  }

  return { rotate };
}

export type DataKeyRotation = ReturnType<typeof createDataKeyRotation>;
