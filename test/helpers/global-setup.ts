import { CamelCasePlugin, Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

import { migrateToLatest } from '../../src/store/migrate.js';
import type { Schema } from '../../src/store/schema.js';
import { PG_ADMIN_URL, pgAdmin, pgUrl, postgresAvailable, TEMPLATE_DB } from './postgres.js';

/**
 * Once per run: decides whether the PostgreSQL half runs, and migrates a template database that
 * every PostgreSQL test file clones (CREATE DATABASE … TEMPLATE), as graphile-worker does.
 */
export default async function globalSetup(project: TestProject): Promise<void> {
  const wanted = (process.env.HUSH_TEST_DIALECTS ?? 'sqlite,postgres').split(',');
  project.provide('dialects', wanted);
  if (!wanted.includes('postgres')) return;
  if (!(await postgresAvailable())) {
    if (process.env.HUSH_TEST_REQUIRE_POSTGRES === '1') {
      throw new Error(
        `HUSH_TEST_REQUIRE_POSTGRES=1 but PostgreSQL at ${PG_ADMIN_URL} does not answer`,
      );
    }
    console.warn(
      `\n!!!!! PostgreSQL at ${PG_ADMIN_URL} does not answer: SKIPPING every PostgreSQL test. !!!!!\n`,
    );
    project.provide(
      'dialects',
      wanted.filter((d) => d !== 'postgres'),
    );
    return;
  }
  await pgAdmin(async (c) => {
    await c.query(`drop database if exists ${TEMPLATE_DB} with (force)`);
    await c.query(`create database ${TEMPLATE_DB}`);
  });
  const db = new Kysely<Schema>({
    dialect: new PostgresDialect({
      pool: new pg.Pool({ connectionString: pgUrl(TEMPLATE_DB), max: 1 }),
    }),
    plugins: [new CamelCasePlugin()],
  });
  await migrateToLatest(db);
  await db.destroy();
}

declare module 'vitest' {
  export interface ProvidedContext {
    dialects: string[];
  }
}
