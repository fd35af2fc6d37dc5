import { type Kysely, sql } from 'kysely';
import { describe, expect, it } from 'vitest';

import type { Schema } from '../../src/store/schema.js';
import { DIALECTS } from '../helpers/databases.js';
import { migratedDatabases } from '../helpers/store.js';

// On PostgreSQL a transaction's BEGIN goes out with its first statement (one round trip); on
// both databases a transaction must behave exactly as before: all or nothing, errors where they
// happened, and no transaction left open on the connection afterwards.
describe.each(DIALECTS)('transactions on %s', (dialect) => {
  const migrated = migratedDatabases(dialect);
  const open = (poolSize = 1) => migrated({ poolSize });

  const keys = async (db: Kysely<Schema>) =>
    (await db.selectFrom('instanceSettings').select('key').orderBy('key').execute()).map(
      (r) => r.key,
    );

  it('undoes the first statement when the transaction fails later', async () => {
    const db = await open();
    const failed = await db
      .transaction()
      .execute(async (trx) => {
        await trx.insertInto('instanceSettings').values({ key: 'first', value: '1' }).execute();
        throw new Error('later');
      })
      .catch((e: Error) => e.message);
    expect(failed).toBe('later');
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('instanceSettings').values({ key: 'kept', value: '1' }).execute();
    });
    expect(await keys(db)).toEqual(['kept']);
  });

  it('rejects with the first statement’s own error and leaves the connection usable', async () => {
    const db = await open();
    await db.insertInto('instanceSettings').values({ key: 'taken', value: '1' }).execute();
    const error = await db
      .transaction()
      .execute((trx) =>
        trx.insertInto('instanceSettings').values({ key: 'taken', value: '2' }).execute(),
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(String(error)).toMatch(/unique|UNIQUE/);
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('instanceSettings').values({ key: 'after', value: '1' }).execute();
    });
    expect(await keys(db)).toEqual(['after', 'taken']);
  });

  it('commits or rolls back a transaction that ran no statement, leaving none open', async () => {
    const db = await open();
    await db.transaction().execute(() => Promise.resolve());
    await db
      .transaction()
      .execute(() => Promise.reject(new Error('before any statement')))
      .catch(() => undefined);
    if (dialect === 'postgres') {
      // Outside a transaction every statement has its own now(); inside one they would match.
      const at = async () =>
        (await sql<{ t: string }>`select now()::text as t`.execute(db)).rows[0]!.t;
      const first = await at();
      await sql`select pg_sleep(0.01)`.execute(db);
      expect(await at()).not.toBe(first);
    }
    await db.insertInto('instanceSettings').values({ key: 'plain', value: '1' }).execute();
    expect(await keys(db)).toEqual(['plain']);
  });

  it('keeps concurrent transactions apart on a small pool', async () => {
    const db = await open(3);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) =>
        db.transaction().execute(async (trx) => {
          await trx
            .insertInto('instanceSettings')
            .values({ key: `k${String(i).padStart(2, '0')}`, value: String(i) })
            .execute();
          if (i % 3 === 0) throw new Error(`refused ${i}`);
          await trx
            .updateTable('instanceSettings')
            .set({ value: `done ${i}` })
            .where('key', '=', `k${String(i).padStart(2, '0')}`)
            .execute();
        }),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(14);
    const rows = await db.selectFrom('instanceSettings').select(['key', 'value']).execute();
    expect(rows).toHaveLength(26);
    for (const row of rows) {
      const i = Number(row.key.slice(1));
      expect(i % 3).not.toBe(0);
      expect(row.value).toBe(`done ${i}`);
    }
  });
});
