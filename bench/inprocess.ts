/** The in-process figures: resolution with decryption, and job start/done with an in-process worker. */
import { randomBytes } from 'node:crypto';

import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { resolveContext } from '../src/domain/secrets/scope.js';
import type { SecretInput } from '../src/domain/secrets/secret-values.js';
import { createWorkerPool } from '../src/jobs/worker.js';
import { createLogger } from '../src/logger.js';
import { findOrganizationBySlug } from '../src/store/org-store.js';
import { type Dialect, type Figures, median, record, SYSTEM, withDatabase } from './common.js';

export async function resolveBench(dialect: Dialect, quick: boolean, figures: Figures) {
  await withDatabase(dialect, async (settings) => {
    const app = await createApp(loadConfig({ ...settings, logLevel: 'silent' }, {}));
    try {
      const s = app.services;
      await s.setup.bootstrap(SYSTEM, {
        email: 'bench@example.com',
        password: 'bench password',
        org: 'bench',
      });
      await s.projects.createProject(SYSTEM, 'bench', { slug: 'p' });
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
    } finally {
      await app.close();
    }
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
      await s.setup.bootstrap(SYSTEM, {
        email: 'bench@example.com',
        password: 'bench password',
        org: 'bench',
      });
      await s.projects.createProject(SYSTEM, 'bench', { slug: 'p' });
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
