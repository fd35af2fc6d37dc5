import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import type { Logger } from 'pino';

import type { AuditService } from '../domain/audit/audit-service.js';
import { now, SYSTEM_CONTEXT } from '../domain/context.js';
import type { ResolveService } from '../domain/secrets/resolve-service.js';
import type { Database } from '../store/db.js';
import { claimNextJob, failStaleJobs } from '../store/job-store.js';
import { runJob } from './runner.js';

const POLL_MS = 250;
const REAP_EVERY_MS = 5000;
const STALE_AFTER_MS = 30_000;

export interface WorkerPoolOptions {
  database: Database;
  audit: AuditService;
  resolve: ResolveService;
  dataDir: string;
  concurrency: number;
  logger: Logger;
}

/**
 * Runs up to `concurrency` jobs at once: claims queued jobs (woken at once by `wake()` in this
 * process, by polling otherwise), fails jobs whose worker died, and removes job directories
 * left by a crash when it starts.
 */
export function createWorkerPool(options: WorkerPoolOptions) {
  const { database, logger } = options;
  const db = database.db;
  const workerId = `worker-${randomUUID()}`;
  const jobsDir = path.join(options.dataDir, 'jobs');
  const active = new Set<Promise<void>>();
  let stopped = false;
  let wakeUp: (() => void) | null = null;
  let lastReap = 0;

  async function removeLeftovers(): Promise<void> {
    fs.mkdirSync(jobsDir, { recursive: true, mode: 0o700 });
    const running = new Set(
      (await db.selectFrom('jobs').select('id').where('status', '=', 'running').execute()).map(
        (r) => r.id,
      ),
    );
    for (const name of fs.readdirSync(jobsDir)) {
      if (!running.has(name)) fs.rmSync(path.join(jobsDir, name), { recursive: true, force: true });
    }
  }

  async function reap(): Promise<void> {
    if (Date.now() - lastReap < REAP_EVERY_MS) return;
    lastReap = Date.now();
    const stale = await failStaleJobs(
      db,
      new Date(Date.now() - STALE_AFTER_MS).toISOString(),
      now(),
    );
    for (const job of stale) {
      await db.transaction().execute((trx) =>
        options.audit.append(trx, SYSTEM_CONTEXT, {
          orgId: job.orgId,
          eventType: 'UPDATE',
          targetType: 'job',
          targetId: job.id,
          targetName: job.id,
          change: 'job failed: its worker stopped sending heartbeats',
        }),
      );
    }
  }

  async function loop(): Promise<void> {
    while (!stopped) {
      try {
        await reap();
        if (active.size < options.concurrency) {
          const job = await claimNextJob(database, workerId, now());
          if (job) {
            const run = runJob(
              { db, audit: options.audit, resolve: options.resolve, jobsDir, logger },
              job,
            ).finally(() => {
              active.delete(run);
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
    async start(): Promise<void> {
      await removeLeftovers();
      running = loop();
    },
    wake,
    /** Stops claiming and waits for running jobs to end. */
    async stop(): Promise<void> {
      stopped = true;
      wake();
      await running;
      await Promise.all(active);
    },
  };
}

export type WorkerPool = ReturnType<typeof createWorkerPool>;
