import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type Database, openDatabase } from '../../src/store/db.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { namedStatements, preparedQuery } from '../../src/store/prepared.js';
import { DIALECTS, freshDatabase } from '../helpers/databases.js';

const byName = preparedQuery({ name: null }, (db, a: { name: string }) =>
  db.selectFrom('instanceSettings').select(['key', 'value']).where('key', '=', a.name),
);

describe.each(DIALECTS.filter((d) => d === 'postgres'))('named statements on %s', (dialect) => {
  let database: Database;

  beforeAll(async () => {
    const { dataDir, databaseUrl } = await freshDatabase(dialect);
    database = openDatabase({ dataDir, databaseUrl });
    await migrateToLatest(database.db);
    await database.db
      .insertInto('instanceSettings')
      .values([
        { key: 'alpha', value: 'a' },
        { key: 'beta', value: 'b' },
      ])
      .execute();
  });
  afterAll(() => database.close());

  it('runs a prepared query as a statement PostgreSQL parsed once on the connection', async () => {
    await database.db.transaction().execute(async (trx) => {
      expect((await byName(trx, { name: 'alpha' })).rows).toEqual([{ key: 'alpha', value: 'a' }]);
      expect((await byName(trx, { name: 'beta' })).rows).toEqual([{ key: 'beta', value: 'b' }]);
      const { rows } = await sql<{
        name: string;
        statement: string;
      }>`select name, statement from pg_prepared_statements`.execute(trx);
      const ours = rows.filter((r) => r.statement.includes('instance_settings'));
      expect(ours).toHaveLength(1);
      expect(ours[0]!.name).toMatch(/^hush_\d+$/);
      expect(namedStatements.get(ours[0]!.statement)).toBe(ours[0]!.name);
    });
  });

  it('sends every other query unnamed', async () => {
    await database.db.transaction().execute(async (trx) => {
      await trx.selectFrom('instanceSettings').selectAll().where('key', '=', 'alpha').execute();
      const { rows } = await sql<{
        statement: string;
      }>`select statement from pg_prepared_statements`.execute(trx);
      // Only prepared queries (maybe parsed on this pooled connection before) are named.
      const unnamed = rows.filter((r) => !namedStatements.has(r.statement));
      expect(unnamed).toEqual([]);
    });
  });
});
