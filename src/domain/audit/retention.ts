import type { Kysely } from 'kysely';
import type { Logger } from 'pino';

import { listRetentionPolicies, purgeAuditPrefix } from '../../store/audit-store.js';
import type { Schema } from '../../store/schema.js';
import { SYSTEM_CONTEXT } from '../context.js';
import type { AuditService } from './audit-service.js';

const DAY_MS = 86_400_000;

/** What one organization's purge removed. */
export interface PurgeResult {
  orgId: string;
  deleted: number;
  /** Seq of the last event purged: the kept chain starts after it. */
  anchorSeq: number;
}

/**
 * Audit retention (SPEC §6): deletes each organization's events older than its retention days,
 * oldest first in batches of `batchSize`, each batch one transaction that also appends a
 * `DELETE settings audit-retention` event by `system` — the purge is itself audited, and the
 * chain head's anchor moves to the last purged event (re-sealed with the audit key, so nobody
 * else can move it) so the kept chain still verifies.
 */
export function createAuditRetention(deps: {
  db: Kysely<Schema>;
  audit: AuditService;
  batchSize?: number | undefined;
  /** The clock the background task purges by (tests move it forward). */
  now?: (() => Date) | undefined;
}) {
  const { db, audit } = deps;
  const clock = deps.now ?? (() => new Date());
  const batchSize = deps.batchSize ?? 10_000;

  async function purgeOrganization(orgId: string, days: number, at: Date): Promise<PurgeResult> {
    const cutoff = new Date(at.getTime() - days * DAY_MS).toISOString();
    const result: PurgeResult = { orgId, deleted: 0, anchorSeq: 0 };
    for (;;) {
      const batch = await db.transaction().execute(async (trx) => {
        const purged = await purgeAuditPrefix(trx, orgId, cutoff, batchSize, (terms) =>
          audit.sealHead(orgId, terms),
        );
        if (purged.deleted > 0) {
          await audit.append(trx, SYSTEM_CONTEXT, {
            orgId,
            eventType: 'DELETE',
            targetType: 'settings',
            targetName: 'audit-retention',
            change: `purged ${purged.deleted} audit events older than ${days} days`,
            details: { retentionDays: days, cutoff, ...purged },
          });
        }
        return purged;
      });
      result.deleted += batch.deleted;
      result.anchorSeq = batch.anchorSeq;
      if (batch.deleted < batchSize) return result;
    }
  }

  /** Purges every organization that has a retention period; returns what each lost. */
  async function purgeExpired(at: Date = new Date(), logger?: Logger): Promise<PurgeResult[]> {
    const results: PurgeResult[] = [];
    for (const policy of await listRetentionPolicies(db)) {
      const result = await purgeOrganization(policy.orgId, policy.days, at);
      if (result.deleted > 0) {
        logger?.info({ orgId: policy.orgId, deleted: result.deleted }, 'audit events purged');
      }
      results.push(result);
    }
    return results;
  }

  /**
   * Runs {@link purgeExpired} shortly after start and then every `intervalMs` (default hourly)
   * in the background; a failure is logged and retried at the next tick. Returns a stopper that
   * waits for a purge in progress.
   */
  function start(
    logger: Logger,
    intervalMs = 3_600_000,
    firstDelayMs = 30_000,
  ): { stop(): Promise<void> } {
    let running: Promise<unknown> = Promise.resolve();
    const tick = () => {
      running = purgeExpired(clock(), logger).catch((error: unknown) =>
        logger.error({ err: error }, 'audit retention purge failed'),
      );
    };
    const first = setTimeout(tick, firstDelayMs);
    const timer = setInterval(tick, intervalMs);
    first.unref();
    timer.unref();
    return {
      async stop() {
        clearTimeout(first);
        clearInterval(timer);
        await running;
      },
    };
  }

  return { purgeExpired, start };
}

export type AuditRetention = ReturnType<typeof createAuditRetention>;
