import type { Kysely } from 'kysely';

import { type App, createApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import {
  type ChainedFields,
  computeEventHash,
  computeKeyedEventHash,
  GENESIS_HASH,
  type StoredEvent,
} from '../../../src/domain/audit/chain.js';
import { SYSTEM_CONTEXT } from '../../../src/domain/context.js';
import type { Schema } from '../../../src/store/schema.js';
import { track } from '../../helpers/resources.js';

/** Where a test's database lives (as `freshDatabase` returns it). */
export interface Settings {
  dataDir: string;
  databaseUrl?: string | undefined;
}

/** The real app over `settings`, closed with the test file if the test does not. */
export async function openApp(settings: Settings): Promise<App> {
  const app = await createApp(
    loadConfig({ dataDir: settings.dataDir, databaseUrl: settings.databaseUrl }, {}),
  );
  const handle = track('app', () => app.close());
  return { ...app, close: () => handle.close() };
}

/** Appends `n` CREATE project events to `orgId`'s chain through the audit service. */
export async function appendEvents(app: App, orgId: string, n: number, from = 1): Promise<void> {
  for (let i = from; i < from + n; i++) {
    await app.database.db.transaction().execute((trx) =>
      app.services.audit.append(trx, SYSTEM_CONTEXT, {
        orgId,
        eventType: 'CREATE',
        targetType: 'project',
        targetName: `p${i}`,
        change: `created project p${i}`,
      }),
    );
  }
}

/** The organization's stored events, oldest first. */
export async function storedEvents(db: Kysely<Schema>, orgId: string): Promise<StoredEvent[]> {
  const rows = await db
    .selectFrom('auditEvents')
    .selectAll()
    .where('orgId', '=', orgId)
    .orderBy('seq', 'asc')
    .execute();
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}

/** How a database-only attacker re-hashes: plain SHA-256, or HMAC under a key they made up. */
export type Forger = (fields: ChainedFields, prevHash: string) => string;
export const plainSha256: Forger = computeEventHash;
export const guessedKey: Forger = (f, prev) => computeKeyedEventHash(Buffer.alloc(32, 9), f, prev);

/**
 * What an attacker with only database access does to hide an action: rewrites the `change` of
 * the event at `seq`, re-hashes it and every later event with `forge`, and moves the head's hash
 * to the new last event, so every link and the head agree again.
 */
export async function rewriteAndRehash(
  db: Kysely<Schema>,
  orgId: string,
  seq: number,
  change: string,
  forge: Forger,
): Promise<void> {
  const events = await storedEvents(db, orgId);
  let prevHash = events.find((e) => e.seq === seq - 1)?.hash ?? GENESIS_HASH;
  for (const e of events.filter((x) => x.seq >= seq)) {
    const fields = e.seq === seq ? { ...e, change } : e;
    const hash = forge(fields, prevHash);
    await db
      .updateTable('auditEvents')
      .set({ change: fields.change, prevHash, hash })
      .where('id', '=', e.id)
      .execute();
    prevHash = hash;
  }
  await db.updateTable('auditHeads').set({ hash: prevHash }).where('orgId', '=', orgId).execute();
}
