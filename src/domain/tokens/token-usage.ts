import type { Kysely } from 'kysely';

import { recordTokenUse } from '../../store/account-store.js';
import type { Schema } from '../../store/schema.js';
import { currentTime } from '../context.js';

/** A token's use is written at most this often per node. */
const RESOLUTION_MS = 60_000;
/** Uses wait at most this long in memory before one transaction writes them all. */
const FLUSH_MS = 5_000;

/**
 * When each API token was last used, for the hygiene report, without a write per request: a use
 * is noted in memory only when this node has not noted one for that token in the last minute,
 * and the noted uses are written together, one transaction every few seconds (`last_used_at`
 * only moves forward, so nodes writing out of order cannot move it back).
 */
export function createTokenUsage(deps: { db: Kysely<Schema> }) {
  const noted = new Map<string, number>();
  const pending = new Map<string, string>();
  let timer: NodeJS.Timeout | null = null;
  let flushing: Promise<void> = Promise.resolve();

  function touch(tokenId: string): void {
    const t = currentTime().getTime();
    const last = noted.get(tokenId);
    if (last !== undefined && t - last < RESOLUTION_MS && t >= last) return;
    if (noted.size > 100_000) noted.clear();
    noted.set(tokenId, t);
    pending.set(tokenId, new Date(t).toISOString());
    timer ??= setTimeout(() => void flush(), FLUSH_MS).unref();
  }

  /** Writes the noted uses now (the report calls it so this node's uses are current). */
  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = null;
    const batch = [...pending];
    pending.clear();
    flushing = flushing.then(async () => {
      if (batch.length === 0) return;
      await deps.db
        .transaction()
        .execute(async (trx) => {
          for (const [id, at] of batch) await recordTokenUse(trx, id, at);
        })
        .catch(() => undefined);
    });
    return flushing;
  }

  return { touch, flush };
}

export type TokenUsage = ReturnType<typeof createTokenUsage>;
