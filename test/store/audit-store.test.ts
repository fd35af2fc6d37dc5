import type { Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';

import { computeEventHash } from '../../src/domain/audit/chain.js';
import { advanceAuditHead, insertAuditEvents } from '../../src/store/audit-store.js';
import { isUniqueViolation } from '../../src/store/db-errors.js';
import type { AuditEventRow, Schema } from '../../src/store/schema.js';
import { DIALECTS } from '../helpers/databases.js';
import { migratedDatabases } from '../helpers/store.js';

const T = '2026-01-01T00:00:00.000Z';

function event(id: string, seq: number, prevHash: string): AuditEventRow {
  const fields = {
    id,
    orgId: 'org-1',
    seq,
    timestamp: T,
    eventType: 'CREATE',
    targetType: 'secret',
    targetId: null,
    targetName: 'API_KEY',
    change: 'added API_KEY',
    actor: 'token:ci',
    actorId: null,
    tool: 'api',
    ip: null,
    details: '{}',
  };
  return { ...fields, prevHash, hash: computeEventHash(fields, prevHash) };
}

describe.each(DIALECTS)('the audit store on %s', (dialect) => {
  const open = migratedDatabases(dialect);

  const appendOne = (db: Kysely<Schema>, id: string) =>
    db.transaction().execute(async (trx) => {
      const { seq, prevHash } = await advanceAuditHead(trx, 'org-1');
      const row = event(id, seq, prevHash);
      await insertAuditEvents(trx, [row]);
      return row;
    });

  const head = (db: Kysely<Schema>) =>
    db
      .selectFrom('auditHeads')
      .select(['seq', 'hash'])
      .where('orgId', '=', 'org-1')
      .executeTakeFirstOrThrow();

  it('inserts one event or several and moves the head hash to the last', async () => {
    const db = await open();
    const first = await appendOne(db, 'e-1');
    expect(await head(db)).toEqual({ seq: 1, hash: first.hash });

    const [second, third] = await db.transaction().execute(async (trx) => {
      const { seq, prevHash } = await advanceAuditHead(trx, 'org-1', 2);
      const a = event('e-2', seq, prevHash);
      const b = event('e-3', seq + 1, a.hash);
      await insertAuditEvents(trx, [a, b]);
      return [a, b];
    });
    expect(second.prevHash).toBe(first.hash);
    expect(await head(db)).toEqual({ seq: 3, hash: third.hash });
    const rows = await db.selectFrom('auditEvents').select(['id', 'seq']).orderBy('seq').execute();
    expect(rows).toEqual([
      { id: 'e-1', seq: 1 },
      { id: 'e-2', seq: 2 },
      { id: 'e-3', seq: 3 },
    ]);
  });

  it('leaves the head hash where it was when the event cannot be inserted', async () => {
    const db = await open();
    const first = await appendOne(db, 'e-1');
    // A second event with the same id: the insert fails, and with it the head's new hash.
    const error = await db
      .transaction()
      .execute(async (trx) => {
        await insertAuditEvents(trx, [event('e-1', 2, first.hash)]);
      })
      .catch((e: unknown) => e);
    expect(isUniqueViolation(error)).toBe(true);
    // Even a caller that swallows the error and commits keeps the head on the last stored event.
    await db
      .transaction()
      .execute((trx) =>
        insertAuditEvents(trx, [event('e-1', 2, first.hash)]).catch(() => undefined),
      )
      .catch(() => undefined);
    expect(await head(db)).toEqual({ seq: 1, hash: first.hash });
  });
});
