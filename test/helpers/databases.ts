import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { inject } from 'vitest';

import { pgAdmin, pgUrl } from './postgres.js';
import { track } from './resources.js';

export type TestDialect = 'sqlite' | 'postgres';

/** The dialects this run covers (HUSH_TEST_DIALECTS narrows; global setup drops a missing PostgreSQL loudly). */
export const DIALECTS: TestDialect[] = inject('dialects').filter(
  (d): d is TestDialect => d === 'sqlite' || d === 'postgres',
);

/** A temporary directory removed when the test file ends. */
export function tempDir(prefix = 'hush-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  track(`dir ${dir}`, () => fs.rmSync(dir, { recursive: true, force: true }), { lingering: true });
  return dir;
}

/**
 * A fresh database for one test: a SQLite file in a temp data directory, or a PostgreSQL
 * database cloned from the migrated template. Returns the settings `loadConfig` takes.
 */
export async function freshDatabase(
  dialect: TestDialect,
): Promise<{ dataDir: string; databaseUrl?: string; drop: () => Promise<void> }> {
  const dataDir = tempDir();
  if (dialect === 'sqlite') return { dataDir, drop: () => Promise.resolve() };
  const name = `hush_t_${randomBytes(6).toString('hex')}`;
  await pgAdmin((c) => c.query(`create database ${name} template ${inject('pgTemplate')}`));
  const drop = () =>
    pgAdmin((c) => c.query(`drop database if exists ${name} with (force)`)).then(() => undefined);
  track(`postgres database ${name}`, drop, { lingering: true });
  return { dataDir, databaseUrl: pgUrl(name), drop };
}
