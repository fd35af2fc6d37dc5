import type { Kysely } from 'kysely';

import type { Schema } from '../../store/schema.js';
import type { RequestContext } from '../context.js';
import type { Telemetry } from '../telemetry.js';
import type { AuditEntry, AuditService } from './audit-service.js';

interface Waiting {
  ctx: RequestContext;
  entry: AuditEntry;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit of events that have no change to share a transaction with (ACCESS, SPEC §6):
 * `append` resolves once its event is committed, and the events of concurrent callers are
 * committed together, one transaction per batch instead of one per request. A batch starts on
 * the next turn of the event loop (so requests arriving together join it); events arriving
 * while it commits form the next one. A failed commit rejects every caller of that batch, so
 * none of them hands out values whose read was not recorded.
 */
export function createGroupCommit(deps: {
  db: Kysely<Schema>;
  audit: AuditService;
  telemetry?: Telemetry;
}) {
  let waiting: Waiting[] = [];
  let running = false;

  async function drain(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    while (waiting.length > 0) {
      const batch = waiting;
      waiting = [];
      try {
        const started = process.hrtime.bigint();
        await deps.db.transaction().execute((trx) => deps.audit.appendMany(trx, batch));
        deps.telemetry?.auditBatch(batch.length, Number(process.hrtime.bigint() - started) / 1e9);
        for (const w of batch) w.resolve();
      } catch (error) {
        for (const w of batch) w.reject(error);
      }
    }
    running = false;
  }

  /** Appends an event and resolves when it is durable (committed with its batch). */
  function append(ctx: RequestContext, entry: AuditEntry): Promise<void> {
    return new Promise((resolve, reject) => {
      waiting.push({ ctx, entry, resolve, reject });
      if (!running) {
        running = true;
        void drain();
      }
    });
  }

  return { append };
}

export type GroupCommit = ReturnType<typeof createGroupCommit>;
