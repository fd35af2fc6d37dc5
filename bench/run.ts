/**
 * `npm run bench`: resolve and decrypt a 3-level context of 100 names each, in process, on
 * SQLite and PostgreSQL. Prints figures; asserts nothing.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import pg from 'pg';

import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { RequestContext } from '../src/domain/context.js';
import { resolveContext } from '../src/domain/secrets/scope.js';
import type { SecretInput } from '../src/domain/secrets/secret-values.js';
import { createWorkerPool } from '../src/jobs/worker.js';
import { createLogger } from '../src/logger.js';
import { findOrganizationBySlug } from '../src/store/org-store.js';

const quick = process.argv.includes('--quick');
const asJson = process.argv.includes('--json');
const PG_ADMIN =
  process.env.HUSH_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const CLI: RequestContext = { actor: { kind: 'system' }, tool: 'system', ip: null };

type Figure = { dialect: string; value: number; unit: string };
const figures: Record<string, Figure[]> = {};
const record = (key: string, f: Figure) => (figures[key] ??= []).push(f);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function withDatabase(
  dialect: 'sqlite' | 'postgres',
  work: (settings: { dataDir: string; databaseUrl?: string }) => Promise<void>,
) {
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
    await work({ dataDir, ...(databaseUrl ? { databaseUrl } : {}) });
  } finally {
    await drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function resolveBench(dialect: 'sqlite' | 'postgres') {
  await withDatabase(dialect, async (settings) => {
    const app = await createApp(loadConfig({ ...settings, logLevel: 'silent' }, {}));
    try {
      const s = app.services;
      await s.setup.bootstrap(CLI, {
        email: 'bench@example.com',
        password: 'bench password',
        org: 'bench',
      });
      await s.projects.createProject(CLI, 'bench', { slug: 'p' });
      await s.projects.createEnvironment(CLI, 'bench', 'p', { slug: 'prod', type: 'production' });
      const inputs = (prefix: string): SecretInput[] =>
        Array.from({ length: 100 }, (_, i) => ({
          kind: 'env',
          name: `VAR_${i}`,
          value: `${prefix}-${randomBytes(16).toString('hex')}`,
          sensitivity: 'secret',
        }));
      await s.secrets.add(CLI, 'bench', {}, inputs('org'));
      await s.secrets.add(CLI, 'bench', { project: 'p' }, inputs('proj'));
      await s.secrets.add(CLI, 'bench', { project: 'p', env: 'prod' }, inputs('env'));
      const db = app.database.db;
      const org = (await findOrganizationBySlug(db, 'bench'))!;
      const context = await resolveContext(db, org, { project: 'p', env: 'prod' });
      const runs = quick ? 50 : 300;
      const times: number[] = [];
      for (let i = 0; i < runs + 10; i++) {
        const t0 = process.hrtime.bigint();
        const values = await s.resolve.resolveValues(db, context, null);
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        if (values.length !== 100) throw new Error(`resolved ${values.length} names`);
        if (i >= 10) times.push(ms);
      }
      record('resolve_3x100_p50_ms', { dialect, value: +median(times).toFixed(3), unit: 'ms' });
    } finally {
      await app.close();
    }
  });
}

/** Trigger → process running, and process exit → job marked done, with an in-process worker. */
async function jobBench(dialect: 'sqlite' | 'postgres') {
  await withDatabase(dialect, async (settings) => {
    const config = loadConfig({ ...settings, logLevel: 'silent' }, {});
    const app = await createApp(config);
    const pool = createWorkerPool({
      database: app.database,
      audit: app.services.audit,
      resolve: app.services.resolve,
      dataDir: config.dataDir,
      concurrency: 1,
      logger: createLogger('silent'),
    });
    await pool.start();
    app.onJobQueued(pool.wake);
    try {
      const s = app.services;
      await s.setup.bootstrap(CLI, {
        email: 'bench@example.com',
        password: 'bench password',
        org: 'bench',
      });
      await s.projects.createProject(CLI, 'bench', { slug: 'p' });
      await s.projects.createService(CLI, 'bench', 'p', {
        name: 'noop',
        command: 'true',
        timeoutSeconds: 60,
      });
      const inputs: SecretInput[] = Array.from({ length: 100 }, (_, i) => ({
        kind: 'env',
        name: `VAR_${i}`,
        value: randomBytes(16).toString('hex'),
        sensitivity: 'secret',
      }));
      await s.secrets.add(CLI, 'bench', { project: 'p' }, inputs);
      const starts: number[] = [];
      const dones: number[] = [];
      const runs = quick ? 10 : 40;
      for (let i = 0; i < runs; i++) {
        const t0 = Date.now();
        const job = await s.jobs.trigger(CLI, 'bench', { project: 'p', service: 'noop' });
        for (;;) {
          const row = await app.database.db
            .selectFrom('jobs')
            .selectAll()
            .where('id', '=', job.id)
            .executeTakeFirstOrThrow();
          if (row.finishedAt && row.processStartedAt && row.processExitedAt) {
            starts.push(Date.parse(row.processStartedAt) - t0);
            dones.push(Date.parse(row.finishedAt) - Date.parse(row.processExitedAt));
            break;
          }
          await new Promise((r) => setTimeout(r, 5));
        }
      }
      record('job_start_p50_ms', { dialect, value: median(starts), unit: 'ms' });
      record('job_done_p50_ms', { dialect, value: median(dones), unit: 'ms' });
    } finally {
      await pool.stop();
      await app.close();
    }
  });
}

async function main() {
  for (const dialect of ['sqlite', 'postgres'] as const) {
    await resolveBench(dialect);
    await jobBench(dialect);
  }
  if (asJson) {
    process.stdout.write(JSON.stringify(figures) + '\n');
    return;
  }
  for (const [key, list] of Object.entries(figures)) {
    for (const f of list)
      process.stdout.write(
        `${key.padEnd(28)} ${f.dialect.padEnd(9)} ${String(f.value).padStart(10)} ${f.unit}\n`,
      );
  }
}

await main();
