import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import type { Logger } from 'pino';

import type { AuditService } from '../domain/audit/audit-service.js';
import { now, SYSTEM_CONTEXT } from '../domain/context.js';
import type { ResolveService } from '../domain/secrets/resolve-service.js';
import type { Database } from '../store/db.js';
import { claimNextJob, failStaleJob, listStaleJobs } from '../store/job-store.js';
import { runJob } from './runner.js';
import type { Sandbox } from './sandbox.js';

const POLL_MS = 250;
const REAP_EVERY_MS = 5000;
// 20 missed heartbeats: a dead worker's job fails (and its directory goes) well within 30 s.
const STALE_AFTER_MS = 20_000;

export interface WorkerPoolOptions {
  database: Database;
  audit: AuditService;
  resolve: ResolveService;
  dataDir: string;
  concurrency: number;
  sandbox: Sandbox;
  logger: Logger;
}

/**
 * Runs up to `concurrency` jobs at once: claims queued jobs (woken at once by `wake()` in this
 * process, by polling otherwise), fails jobs whose worker died, and removes the job directories
 * of jobs no longer running (left by a crash, or by a worker the reaper gave up on) at start and
 * at every reap. Claims nothing when the job sandbox cannot start here.
 */
export function createWorkerPool(options: WorkerPoolOptions) {
  const { database, logger } = options;
  const db = database.db;
  const workerId = `worker-${randomUUID()}`;
  const jobsDir = path.join(options.dataDir, 'jobs');
  const active = new Set<Promise<void>>();
  const activeIds = new Set<string>();
  let stopped = false;
  // Aborted when a shutdown's grace period ends: running jobs are cancelled.
  const shutdown = new AbortController();
  let wakeUp: (() => void) | null = null;
  let lastReap = 0;

  async function removeLeftovers(): Promise<void> {
    fs.mkdirSync(jobsDir, { recursive: true, mode: 0o700 });
    const names = fs.readdirSync(jobsDir).filter((name) => !activeIds.has(name));
    if (names.length === 0) return;
    // A directory another worker on this machine still uses belongs to a running job.
    const running = new Set(
      (await db.selectFrom('jobs').select('id').where('status', '=', 'running').execute()).map(
        (r) => r.id,
      ),
    );
    for (const name of names) {
      if (!running.has(name) && !activeIds.has(name))
        fs.rmSync(path.join(jobsDir, name), { recursive: true, force: true });
    }
  }

  async function reap(): Promise<void> {
    if (Date.now() - lastReap < REAP_EVERY_MS) return;
    lastReap = Date.now();
    const staleBefore = new Date(Date.now() - STALE_AFTER_MS).toISOString();
    const stale = await listStaleJobs(db, staleBefore);
    // Each job fails with its audit event in a transaction of its own: a reaper killed midway
    // leaves no failed job unaudited, and it never holds two organizations' chain heads at once
    // (two transactions taking two heads in opposite orders deadlock).
    for (const job of stale) {
      await db.transaction().execute(async (trx) => {
        // It beat since, or it ended, or another node's reaper was first.
        if (!(await failStaleJob(trx, job.id, staleBefore, now()))) return;
        await options.audit.append(trx, SYSTEM_CONTEXT, {
          orgId: job.orgId,
          eventType: 'UPDATE',
          targetType: 'job',
          targetId: job.id,
          targetName: job.id,
          change: 'job failed: its worker stopped sending heartbeats',
        });
      });
    }
    // Plaintext of jobs the reaper (on any node) gave up on goes now, not at the next restart.
    await removeLeftovers();
  }

  async function loop(): Promise<void> {
    while (!stopped) {
      try {
        await reap();
        if (active.size < options.concurrency) {
          const job = await claimNextJob(database, workerId, now());
          if (job) {
            activeIds.add(job.id);
            const run = runJob(
              {
                db,
                audit: options.audit,
                resolve: options.resolve,
                jobsDir,
                sandbox: options.sandbox,
                logger,
              },
              job,
              shutdown.signal,
            ).finally(() => {
              active.delete(run);
              activeIds.delete(job.id);
              wake();
            });
            active.add(run);
            continue;
          }
        }
      } catch (error) {
        logger.error({ err: error }, 'worker loop error');
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, POLL_MS);
        wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wakeUp = null;
    }
  }

  function wake(): void {
    wakeUp?.();
  }

  let running: Promise<void> | null = null;
  return {
    workerId,
    /** Probes the sandbox, then claims jobs; without a sandbox it logs why and claims none. */
    async start(): Promise<void> {
      await removeLeftovers();
      const sandbox = await options.sandbox.probe();
      if (!sandbox.available) {
        logger.error(sandbox.reason ?? 'jobs cannot run here');
        return;
      }
      if (sandbox.mode === 'none')
        logger.warn(
          "WARNING: jobs run WITHOUT a sandbox (HUSH_JOB_SANDBOX=none): any job can read the data directory, the master key and every organization's secrets; use it on development machines only",
        );
      running = loop();
    },
    wake,
    /**
     * Stops claiming and waits for running jobs to end; after `graceMs` (none: no limit) they
     * are cancelled ("node shutting down"), and a job whose process had not started yet goes
     * back to the queue.
     */
    async stop(graceMs?: number): Promise<void> {
      stopped = true;
      wake();
      await running;
      if (active.size === 0) return;
      if (graceMs !== undefined) {
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
        await Promise.race([Promise.all(active), grace]);
        clearTimeout(timer);
        if (active.size > 0) {
          logger.warn({ jobs: [...activeIds] }, 'cancelling running jobs: node shutting down');
          shutdown.abort();
        }
      }
      await Promise.all(active);
    },
  };
}

export type WorkerPool = ReturnType<typeof createWorkerPool>;
