import type { Kysely } from 'kysely';
import { afterEach } from 'vitest';

import { type Database, openDatabase } from '../../src/store/db.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import type { Schema } from '../../src/store/schema.js';
import { freshDatabase, type TestDialect } from './databases.js';
import { track } from './resources.js';

/**
 * Opens a fresh, migrated database for each call in a test file's store tests and closes the
 * last one after each test. It lives apart from databases.ts because importing the store sets
 * pg's global int8 parser, which tests querying PostgreSQL with a bare pg client must not inherit.
 */
export function migratedDatabases(
  dialect: TestDialect,
): (options?: { poolSize?: number }) => Promise<Kysely<Schema>> {
  let database: Database | undefined;
  afterEach(async () => {
    await database?.close();
    database = undefined;
  });
  return async (options = {}) => {
    const opened = openDatabase({ ...(await freshDatabase(dialect)), ...options });
    const handle = track(`database (${dialect})`, () => opened.close());
    database = { ...opened, close: () => handle.close() };
    await migrateToLatest(database.db);
    return database.db;
  };
}
