import { CamelCasePlugin, Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

import { migrateToLatest } from '../../src/store/migrate.js';
import type { Schema } from '../../src/store/schema.js';
import { PG_ADMIN_URL, pgAdmin, pgUrl, postgresAvailable } from './postgres.js';

/**
 * Once per run: decides whether the PostgreSQL half runs, and migrates a template database that
 * every PostgreSQL test file clones (CREATE DATABASE … TEMPLATE), as graphile-worker does.
 */
export default async function globalSetup(
  project: TestProject,
): Promise<(() => Promise<void>) | undefined> {
  // One template per run, so two runs on one machine never drop each other's template.
  const TEMPLATE_DB = `hush_test_template_${process.pid}`;
  project.provide('pgTemplate', TEMPLATE_DB);
  const wanted = (process.env.HUSH_TEST_DIALECTS ?? 'sqlite,postgres').split(',');
  project.provide('dialects', wanted);
  if (!wanted.includes('postgres')) return undefined;
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
    return undefined;
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
  return async () => {
    await pgAdmin((c) => c.query(`drop database if exists ${TEMPLATE_DB} with (force)`));
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    dialects: string[];
    pgTemplate: string;
  }
}
