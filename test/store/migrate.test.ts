import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';

import { HushError } from '../../src/errors.js';
import { migrateToLatest, pendingMigrations } from '../../src/store/migrate.js';
import { DIALECTS } from '../helpers/databases.js';
import { migratedDatabases } from '../helpers/store.js';

// Nodes are upgraded one at a time: a node of an older version that starts on a database a
// newer one migrated is told so, instead of "migration unknown failed".
describe.each(DIALECTS)('migrations on %s', (dialect) => {
  const open = migratedDatabases(dialect);

  it('runs again as a no-op, and names a newer Hush that migrated the database', async () => {
    const db = await open();
    expect(await migrateToLatest(db)).toEqual([]);
    expect(await pendingMigrations(db)).toEqual([]);
    await sql`insert into hush_migrations (name, timestamp) values ('9999-from-the-future', '2027-01-01T00:00:00.000Z')`.execute(
      db,
    );
    const error = await migrateToLatest(db).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HushError);
    expect((error as HushError).message).toBe(
      'the database was migrated by a newer Hush (it has run 9999-from-the-future, which this program lacks): upgrade this node',
    );
  });
});
