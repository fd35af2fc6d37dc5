/** Shared pieces of the benchmark: figures, medians, throw-away databases, progress on stderr. */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import pg from 'pg';

import type { createApp } from '../src/app.js';
import type { RequestContext } from '../src/domain/context.js';

export type Dialect = 'sqlite' | 'postgres';
export type Figure = { dialect: string; value: number; unit: string };
export type Figures = Record<string, Figure[]>;

export const PG_ADMIN =
  process.env.HUSH_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const SYSTEM: RequestContext = { actor: { kind: 'system' }, tool: 'system', ip: null };

export function record(figures: Figures, key: string, f: Figure): void {
  (figures[key] ??= []).push(f);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

export function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

export interface DatabaseSettings {
  dataDir: string;
  databaseUrl?: string;
}

/** Runs `work` against a fresh data directory (and, for PostgreSQL, a fresh database), then drops both. */
export async function withDatabase<T>(
  dialect: Dialect,
  work: (settings: DatabaseSettings) => Promise<T>,
): Promise<T> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hush-bench-'));
  let drop = async () => {};
  let databaseUrl: string | undefined;
  if (dialect === 'postgres') {
    const name = `hush_bench_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: PG_ADMIN });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = new URL(PG_ADMIN);
    url.pathname = `/${name}`;
    databaseUrl = url.toString();
    drop = async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    };
  }
  try {
    return await work({ dataDir, ...(databaseUrl ? { databaseUrl } : {}) });
  } finally {
    await drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The bench organization: `bench`, its Owner bootstrapped, with project `p`. */
export async function benchOrganization(app: Awaited<ReturnType<typeof createApp>>): Promise<void> {
  await app.services.setup.bootstrap(SYSTEM, {
    email: 'bench@example.com',
    password: 'bench password',
    org: 'bench',
  });
  await app.services.projects.createProject(SYSTEM, 'bench', { slug: 'p' });
}
