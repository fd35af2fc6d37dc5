/** The in-process figures: resolution with decryption, and job start/done with an in-process worker. */
import { randomBytes } from 'node:crypto';

import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { buildContext, type SourceSecret } from '../src/domain/secrets/references.js';
import { resolveContext } from '../src/domain/secrets/scope.js';
import type { SecretInput } from '../src/domain/secrets/secret-values.js';
import { parseTemplate, refsOfTemplate } from '../src/domain/secrets/templates.js';
import { createWorkerPool } from '../src/jobs/worker.js';
import { createLogger } from '../src/logger.js';
import { findOrganizationBySlug } from '../src/store/org-store.js';
import {
  benchOrganization,
  type Dialect,
  type Figures,
  median,
  record,
  SYSTEM,
  withDatabase,
} from './common.js';

export async function resolveBench(dialect: Dialect, quick: boolean, figures: Figures) {
  await withDatabase(dialect, async (settings) => {
    const app = await createApp(loadConfig({ ...settings, logLevel: 'silent' }, {}));
    try {
      const s = app.services;
      await benchOrganization(app);
      await s.projects.createEnvironment(SYSTEM, 'bench', 'p', {
        slug: 'prod',
        type: 'production',
      });
      const inputs = (prefix: string): SecretInput[] =>
        Array.from({ length: 100 }, (_, i) => ({
          kind: 'env',
          name: `VAR_${i}`,
          value: `${prefix}-${randomBytes(16).toString('hex')}`,
          sensitivity: 'secret',
        }));
      await s.secrets.add(SYSTEM, 'bench', {}, inputs('org'));
      await s.secrets.add(SYSTEM, 'bench', { project: 'p' }, inputs('proj'));
      await s.secrets.add(SYSTEM, 'bench', { project: 'p', env: 'prod' }, inputs('env'));
      const db = app.database.db;
      const org = (await findOrganizationBySlug(db, 'bench'))!;
      const context = await resolveContext(db, org, { project: 'p', env: 'prod' });
      const runs = quick ? 50 : 300;
      const times: number[] = [];
      for (let i = 0; i < runs + 10; i++) {
        const t0 = process.hrtime.bigint();
        const values = await s.resolve.resolveValues(db, org, context, null);
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        if (values.length !== 100) throw new Error(`resolved ${values.length} names`);
        if (i >= 10) times.push(ms);
      }
      record(figures, 'resolve_3x100_p50_ms', {
        dialect,
        value: +median(times).toFixed(3),
        unit: 'ms',
      });
      await refsBench(s, db, org, quick, dialect, figures);
    } finally {
      await app.close();
    }
  });
}

/**
 * `resolve_refs_1000_ms`: resolve, decrypt and build 1,000 names of one environment of which a
 * third are references (111 of depth 1, 2 and 3, two references each); `resolve_1000_ms`, the
 * same 1,000 names all literal, is its floor: the difference is what building costs.
 */
async function refsBench(
  s: Awaited<ReturnType<typeof createApp>>['services'],
  db: Awaited<ReturnType<typeof createApp>>['database']['db'],
  org: NonNullable<Awaited<ReturnType<typeof findOrganizationBySlug>>>,
  quick: boolean,
  dialect: Dialect,
  figures: Figures,
) {
  const literal = (name: string): SecretInput => ({
    kind: 'env',
    name,
    value: randomBytes(16).toString('hex'),
    sensitivity: 'secret',
  });
  const refs: SecretInput[] = [];
  // With the 100 names of the organization level: 1,000 names, 333 of them references.
  for (let i = 0; i < 567; i++) refs.push(literal(`LIT_${i}`));
  for (let depth = 1; depth <= 3; depth++)
    for (let i = 0; i < 111; i++) {
      const below = (k: number) =>
        depth === 1 ? `LIT_${(i * 5 + k) % 567}` : `REF${depth - 1}_${(i + k) % 111}`;
      refs.push({
        kind: 'env',
        name: `REF${depth}_${i}`,
        value: `pre-\${${below(0)}}-mid-\${${below(1)}}-post`,
        sensitivity: 'secret',
      });
    }
  const flat = Array.from({ length: 1000 }, (_, i) => literal(`VAR_${i}`));
  await s.projects.createProject(SYSTEM, 'bench', { slug: 'refs' });
  for (const slug of ['prod', 'flat'])
    await s.projects.createEnvironment(SYSTEM, 'bench', 'refs', { slug, type: 'production' });
  await s.secrets.add(SYSTEM, 'bench', { project: 'refs', env: 'prod' }, refs);
  await s.secrets.add(SYSTEM, 'bench', { project: 'refs', env: 'flat' }, flat);
  const runs = quick ? 30 : 150;
  for (const [figure, env] of [
    ['resolve_refs_1000_ms', 'prod'],
    ['resolve_1000_ms', 'flat'],
  ] as const) {
    const context = await resolveContext(db, org, { project: 'refs', env });
    const times: number[] = [];
    for (let i = 0; i < runs + 10; i++) {
      const t0 = process.hrtime.bigint();
      const values = await s.resolve.resolveValues(db, org, context, null);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (values.length !== 1000) throw new Error(`resolved ${values.length} names`);
      if (i >= 10) times.push(ms);
    }
    record(figures, figure, { dialect, value: +median(times).toFixed(3), unit: 'ms' });
  }
  // The building alone (references.ts, pure): the same graph with its values in memory.
  const views = new Map([['self', { key: 'self', label: 'refs/prod', secrets: sourcesOf(refs) }]]);
  const times: number[] = [];
  for (let i = 0; i < runs * 4 + 10; i++) {
    const t0 = process.hrtime.bigint();
    buildContext(views);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (i >= 10) times.push(ms);
  }
  record(figures, 'build_refs_1000_ms', { dialect, value: +median(times).toFixed(3), unit: 'ms' });
}

/** The env inputs as the resolver's sources, their references parsed as a write stores them. */
function sourcesOf(inputs: SecretInput[]): SourceSecret[] {
  return inputs.flatMap((input, i) => {
    if (input.kind !== 'env') return [];
    const parsed = parseTemplate(input.value);
    return [
      {
        id: `s${i}`,
        name: input.name,
        kind: 'env' as const,
        level: 'environment' as const,
        version: 1,
        sensitivity: 'secret' as const,
        refs: Array.isArray(parsed) && input.value.includes('${') ? refsOfTemplate(parsed) : null,
        exportEnv: false,
        value: { kind: 'env' as const, value: input.value },
      },
    ];
  });
}

/**
 * Trigger → process running, process exit → job marked done, and trigger → process exit, with an
 * in-process worker: in the bubblewrap sandbox (the default), and without one, so that the
 * difference is what the sandbox costs.
 */
export async function jobBench(dialect: Dialect, quick: boolean, figures: Figures) {
  await jobBenchIn('bwrap', dialect, quick, figures);
  await jobBenchIn('none', dialect, quick, figures);
}

async function jobBenchIn(
  sandbox: 'bwrap' | 'none',
  dialect: Dialect,
  quick: boolean,
  figures: Figures,
) {
  await withDatabase(dialect, async (settings) => {
    const config = loadConfig({ ...settings, logLevel: 'silent', jobSandbox: sandbox }, {});
    const app = await createApp(config);
    const pool = createWorkerPool({
      database: app.database,
      audit: app.services.audit,
      resolve: app.services.resolve,
      sandbox: app.services.sandbox,
      dataDir: config.dataDir,
      concurrency: 1,
      logger: createLogger('silent'),
    });
    await pool.start();
    app.onJobQueued(pool.wake);
    try {
      const s = app.services;
      await benchOrganization(app);
      await s.projects.createService(SYSTEM, 'bench', 'p', {
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
      await s.secrets.add(SYSTEM, 'bench', { project: 'p' }, inputs);
      const starts: number[] = [];
      const dones: number[] = [];
      const exits: number[] = [];
      const runs = quick ? 10 : 40;
      for (let i = 0; i < runs; i++) {
        const t0 = Date.now();
        const job = await s.jobs.trigger(SYSTEM, 'bench', { project: 'p', service: 'noop' });
        for (;;) {
          const row = await app.database.db
            .selectFrom('jobs')
            .selectAll()
            .where('id', '=', job.id)
            .executeTakeFirstOrThrow();
          if (row.finishedAt && row.processStartedAt && row.processExitedAt) {
            starts.push(Date.parse(row.processStartedAt) - t0);
            dones.push(Date.parse(row.finishedAt) - Date.parse(row.processExitedAt));
            exits.push(Date.parse(row.processExitedAt) - t0);
            break;
          }
          await new Promise((r) => setTimeout(r, 5));
        }
      }
      if (sandbox === 'bwrap') {
        record(figures, 'job_start_p50_ms', { dialect, value: median(starts), unit: 'ms' });
        record(figures, 'job_done_p50_ms', { dialect, value: median(dones), unit: 'ms' });
        record(figures, 'job_exit_p50_ms', { dialect, value: median(exits), unit: 'ms' });
      } else {
        // The floor of the sandbox's cost: the same jobs run as plain child processes.
        record(figures, 'job_start_unsandboxed_p50_ms', {
          dialect,
          value: median(starts),
          unit: 'ms',
        });
        record(figures, 'job_exit_unsandboxed_p50_ms', {
          dialect,
          value: median(exits),
          unit: 'ms',
        });
      }
    } finally {
      await pool.stop();
      await app.close();
    }
  });
}
