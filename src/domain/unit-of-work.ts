import type { Kysely } from 'kysely';

import { HushError } from '../errors.js';
import { isRetryableConflict } from '../store/db-errors.js';
import type { Schema } from '../store/schema.js';
import type { AuditService, TargetType } from './audit/audit-service.js';
import type { ChangeFeed } from './change-feed.js';
import type { RequestContext } from './context.js';

/** How often a change is tried when concurrent transactions conflict (then it fails). */
const CONFLICT_ATTEMPTS = 3;

/**
 * Runs one state change in one transaction: the callback authorizes, writes and appends its
 * audit event with `trx`. A denial rolls the transaction back and is then recorded as a DENIED
 * event in a transaction of its own, so the refusal is durable while nothing else is.
 */
export function createUnitOfWork(deps: {
  db: Kysely<Schema>;
  audit: AuditService;
  changes?: ChangeFeed;
}) {
  async function guarded<T>(ctx: RequestContext, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof HushError && error.code === 'PERMISSION_DENIED') {
        await recordDenial(deps, ctx, error);
      }
      throw error;
    }
  }
  return {
    /** The database, for reads that outlive one call (streamed exports), after authorizing. */
    db: deps.db,
    /** A state change: authorize, write and audit inside one transaction. */
    write<T>(ctx: RequestContext, work: (trx: Kysely<Schema>) => Promise<T>): Promise<T> {
      return guarded(ctx, async () => {
        for (let attempt = 1; ; attempt++) {
          let done: Kysely<Schema> | undefined;
          try {
            const result = await deps.db.transaction().execute((trx) => {
              done = trx;
              return work(trx);
            });
            if (done) deps.changes?.committed(done);
            return result;
          } catch (error) {
            // Rolled back whole: running it again on fresh reads is safe.
            if (!isRetryableConflict(error) || attempt >= CONFLICT_ATTEMPTS) throw error;
          }
        }
      });
    },
    /** A read: authorize and read without a transaction; denials are audited all the same. */
    read<T>(ctx: RequestContext, work: (db: Kysely<Schema>) => Promise<T>): Promise<T> {
      return guarded(ctx, () => work(deps.db));
    },
  };
}

export type UnitOfWork = ReturnType<typeof createUnitOfWork>;

/** Appends the DENIED event for a PERMISSION_DENIED error raised by `authorize`. */
export async function recordDenial(
  deps: { db: Kysely<Schema>; audit: AuditService },
  ctx: RequestContext,
  error: HushError,
): Promise<void> {
  const d = error.details ?? {};
  if (typeof d.orgId !== 'string') return;
  const orgId = d.orgId;
  await deps.db.transaction().execute((trx) =>
    deps.audit.append(trx, ctx, {
      orgId,
      eventType: 'DENIED',
      targetType: d.targetType as TargetType,
      targetId: (d.targetId as string | null) ?? null,
      targetName: (d.targetName as string | null) ?? null,
      change: `denied: ${String(d.permission)}`,
      details: { permission: d.permission, role: d.role },
    }),
  );
}
