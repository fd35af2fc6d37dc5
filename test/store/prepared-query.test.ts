import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type Database, openDatabase } from '../../src/store/db.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { namedStatements, preparedQuery } from '../../src/store/prepared.js';
import { DIALECTS, freshDatabase } from '../helpers/databases.js';

const byName = preparedQuery((db, a: { name: string; min: string }) =>
  db
    .selectFrom('instanceSettings')
    .select(['key', 'value'])
    .where('key', '=', a.name)
    .where('value', '>=', a.min),
);

describe.each(DIALECTS)('preparedQuery on %s', (dialect) => {
  let database: Database;

  beforeAll(async () => {
    const { dataDir, databaseUrl } = await freshDatabase(dialect);
    database = openDatabase({ dataDir, databaseUrl });
    await migrateToLatest(database.db);
    await database.db
      .insertInto('instanceSettings')
      .values([
        { key: 'alpha', value: 'b' },
        { key: 'beta', value: 'y' },
      ])
      .execute();
  });
  afterAll(() => database.close());

  it('runs with new arguments each call and maps rows like the built query', async () => {
    expect(await byName(database.db, { name: 'alpha', min: 'a' })).toEqual([
      { key: 'alpha', value: 'b' },
    ]);
    expect(await byName(database.db, { name: 'beta', min: 'a' })).toEqual([
      { key: 'beta', value: 'y' },
    ]);
    expect(await byName(database.db, { name: 'alpha', min: 'c' })).toEqual([]);
  });

  it('runs inside a transaction and sees its uncommitted writes', async () => {
    await database.db.transaction().execute(async (trx) => {
      await trx.insertInto('instanceSettings').values({ key: 'gamma', value: 'g' }).execute();
      expect(await byName(trx, { name: 'gamma', min: 'a' })).toHaveLength(1);
    });
  });

  it.runIf(dialect === 'postgres')(
    'runs as a named statement that PostgreSQL parsed once on the connection',
    async () => {
      await database.db.transaction().execute(async (trx) => {
        await byName(trx, { name: 'alpha', min: 'a' });
        await byName(trx, { name: 'beta', min: 'a' });
        const { rows } = await sql<{
          name: string;
          statement: string;
        }>`select name, statement from pg_prepared_statements`.execute(trx);
        const ours = rows.filter((r) => r.statement.includes('instance_settings'));
        expect(ours).toHaveLength(1);
        expect(ours[0]!.name).toMatch(/^hush_\d+$/);
        expect(namedStatements.get(ours[0]!.statement)).toBe(ours[0]!.name);
      });
    },
  );

  it('refuses a builder that does not use an argument as a value', async () => {
    const wrong = preparedQuery((db, a: { name: string; unused: string }) =>
      db.selectFrom('instanceSettings').selectAll().where('key', '=', a.name),
    );
    await expect(wrong(database.db, { name: 'alpha', unused: 'x' })).rejects.toThrow(
      /ignores unused/,
    );
  });
});
