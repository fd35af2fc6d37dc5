import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Kysely } from 'kysely';
import type { Logger } from 'pino';

import type { AuditService } from '../domain/audit/audit-service.js';
import { now, type RequestContext, type TokenScope } from '../domain/context.js';
import { checkWorkingDir } from '../domain/jobs/working-dir.js';
import { can } from '../domain/policy/authorize.js';
import type { MayRead } from '../domain/secrets/reference-views.js';
import type { ResolvedSecret, ResolveService } from '../domain/secrets/resolve-service.js';
import type { ContextScopes } from '../domain/secrets/scope.js';
import { HushError } from '../errors.js';
import { findLiveServiceToken } from '../store/account-store.js';
import {
  appendJobLogs,
  findJobContext,
  heartbeat,
  JOB_LOG_ROWS_PER_INSERT,
  updateJob,
} from '../store/job-store.js';
import type { JobLogRow, JobRow, JobStatus, Schema } from '../store/schema.js';
import { JOB_PATH, type MaterialSecret, planMaterial } from './materialize.js';
import { createRedactor } from './redact.js';
import { commandExists, type Sandbox } from './sandbox.js';

const SYSTEM: RequestContext = { actor: { kind: 'system' }, tool: 'system', ip: null };
const KILL_GRACE_MS = 3000;

export interface RunnerDeps {
  db: Kysely<Schema>;
  audit: AuditService;
  resolve: ResolveService;
  jobsDir: string;
  sandbox: Sandbox;
  logger: Logger;
}

/** Turns a resolved secret into what materialization writes. */
export function toMaterial(s: ResolvedSecret): MaterialSecret {
  switch (s.value.kind) {
    case 'env':
      return { name: s.name, kind: 'env', value: s.value.value };
    case 'file':
      return {
        name: s.name,
        kind: 'file',
        fileName: s.fileName,
        contentBase64: s.value.content.toString('base64'),
      };
    case 'pgservice':
      return { name: s.name, kind: 'pgservice', settings: s.value.settings };
    case 'alias':
      // Resolution turns an alias into the env value it names; none reaches a job.
      throw new Error(`alias ${s.name} was not resolved`);
  }
}

/**
 * Which other contexts a job's references may take values from: those where whoever started it
 * may run jobs — the member, or the service token while it is still live (they would receive
 * the values there anyway).
 */
async function jobMayRead(
  db: Kysely<Schema>,
  job: JobRow,
  memberEmail: string | null,
): Promise<MayRead> {
  let starter: RequestContext['actor'] | null = null;
  let who: string;
  if (job.memberId !== null) {
    starter = { kind: 'user', userId: job.memberId, email: memberEmail ?? '' };
    who = memberEmail ?? 'the member who started this job';
  } else {
    const token = job.tokenId ? await findLiveServiceToken(db, job.tokenId, now()) : undefined;
    who = token ? `token ${token.name}` : 'the token that started this job (no longer valid)';
    if (token?.orgId && token.role)
      starter = {
        kind: 'service-token',
        tokenId: token.id,
        name: token.name,
        orgId: token.orgId,
        role: token.role,
        scope: JSON.parse(token.scope) as TokenScope,
      };
  }
  const ctx: RequestContext | null = starter && { actor: starter, tool: 'system', ip: null };
  return {
    // A member removed since has no role left: a refusal, not an error of the job's own.
    may: (resource) =>
      ctx
        ? can(db, ctx, 'jobs:run', resource).catch((error: unknown) => {
            if (error instanceof HushError && error.code === 'ORGANIZATION_NOT_FOUND') return false;
            throw error;
          })
        : Promise.resolve(false),
    denied: `${who} may not run jobs in it`,
  };
}

async function loadContext(db: Kysely<Schema>, job: JobRow) {
  const rows = await findJobContext(db, job);
  const scopes: ContextScopes['scopes'] = new Map([
    [rows.org.id, 'organization'],
    [rows.project.id, 'project'],
  ]);
  if (rows.environment) scopes.set(rows.environment.id, 'environment');
  if (rows.service) scopes.set(rows.service.id, 'service');
  const context: ContextScopes = {
    project: rows.project,
    environment: rows.environment,
    service: rows.service,
    scopes,
  };
  return { org: rows.org, context, memberEmail: rows.memberEmail };
}

/**
 * Runs one claimed job to its end: resolve and decrypt its secrets (auditing the ACCESS first),
 * write its private directory, spawn the process in a clean environment, capture and redact its
 * output, enforce timeout and cancel on the whole process group, then record the outcome and
 * delete the directory. A failure is stored on the job; the runner never throws.
 */
export async function runJob(deps: RunnerDeps, job: JobRow, shutdown?: AbortSignal): Promise<void> {
  const { db, audit } = deps;
  const dir = path.join(deps.jobsDir, job.id);
  let seq = 0;
  let pending: JobLogRow[] = [];
  const log = (stream: JobLogRow['stream'], text: string) => {
    if (text) pending.push({ jobId: job.id, seq: ++seq, stream, text, at: now() });
  };
  // One flush at a time, in seq order; rows leave `pending` only once stored, so a failed
  // INSERT is retried by the next flush instead of losing the output.
  let flushing: Promise<void> = Promise.resolve();
  const storePending = async () => {
    while (pending.length > 0) {
      const rows = pending.slice(0, JOB_LOG_ROWS_PER_INSERT);
      await appendJobLogs(db, rows);
      pending = pending.slice(rows.length);
    }
  };
  const flush = (): Promise<void> => {
    const next = flushing.then(storePending);
    flushing = next.catch((error: unknown) => {
      deps.logger.warn({ err: error, jobId: job.id }, 'storing job output failed; retrying');
    });
    return next;
  };
  const finish = async (status: JobStatus, patch: Partial<JobRow>) => {
    // One more try for output a failed flush left; the outcome is recorded either way.
    await flush()
      .catch(() => flush())
      .catch(() => undefined);
    const recorded = await db.transaction().execute(async (trx) => {
      if (!(await updateOwnJob(trx, job, { status, finishedAt: now(), ...patch }))) return false;
      await audit.append(trx, SYSTEM, {
        orgId: job.orgId,
        eventType: 'UPDATE',
        targetType: 'job',
        targetId: job.id,
        targetName: job.id,
        change: `job ${status}${patch.exitCode !== undefined && patch.exitCode !== null ? ` with exit code ${patch.exitCode}` : ''}`,
        details: { status, exitCode: patch.exitCode ?? null, error: patch.error ?? null },
      });
      return true;
    });
    if (!recorded)
      deps.logger.warn(
        { jobId: job.id, status },
        'job already ended by the reaper (this worker missed its heartbeats): outcome not recorded',
      );
  };

  try {
    const { org, context, memberEmail } = await loadContext(db, job);
    const resolved = await deps.resolve.resolveValues(
      db,
      org,
      context,
      job.memberId,
      await jobMayRead(db, job, memberEmail),
    );
    // The ACCESS event is durable before any value leaves the worker's memory.
    await db.transaction().execute((trx) =>
      audit.append(trx, SYSTEM, {
        orgId: job.orgId,
        eventType: 'ACCESS',
        targetType: 'job',
        targetId: job.id,
        targetName: job.id,
        change: `job received ${resolved.length} secrets`,
        details: {
          secrets: resolved.map((s) => ({
            name: s.name,
            kind: s.kind,
            level: s.level,
            assigned: s.assigned,
          })),
          member: memberEmail,
        },
      }),
    );
    const workingDir = checkWorkingDir(job.workingDir, deps.sandbox.settings.mounts);
    if ('error' in workingDir) {
      await finish('failed', { error: `working directory: ${workingDir.error}` });
      return;
    }
    if (workingDir.kind === 'mount' && !fs.existsSync(workingDir.absolute)) {
      await finish('failed', { error: `working directory ${workingDir.absolute} does not exist` });
      return;
    }
    const home = deps.sandbox.home(dir);
    // A plain value is not redacted from the log (the runtime read's answer stays as it is).
    const material = resolved.map((s) => ({
      ...toMaterial(s),
      sensitivity: s.sensitivity,
      ...(s.parts ? { redactAlso: s.parts } : {}),
    }));
    const { env, files, redact } = planMaterial(home, material, {
      PATH: JOB_PATH,
      LANG: 'C.UTF-8',
      HOME: home,
      HUSH_JOB_ID: job.id,
      HUSH_ORGANIZATION: org.slug,
      HUSH_PROJECT: context.project.slug,
      HUSH_ENVIRONMENT: context.environment?.slug ?? '',
      HUSH_SERVICE: context.service?.name ?? '',
      HUSH_TRIGGERED_BY: job.triggeredBy,
    });
    const argv =
      job.kind === 'service'
        ? ['/bin/sh', '-c', job.command]
        : (JSON.parse(job.command) as string[]);
    if (!commandExists(argv[0] ?? '')) {
      await finish('failed', { error: `command not found: ${argv[0] ?? ''}` });
      return;
    }
    if (deps.sandbox.settings.mode === 'none')
      deps.logger.warn(
        { jobId: job.id },
        "WARNING: this job runs WITHOUT a sandbox (HUSH_JOB_SANDBOX=none): it can read the data directory, the master key and every organization's secrets",
      );
    if (shutdown?.aborted) {
      // The node is stopping and the process never started: another worker takes the job.
      await handBack(deps, job);
      return;
    }
    const child = deps.sandbox.spawn({ hostDir: dir, argv, workingDir, env, files });
    const outcome = await watch(deps, job, child, redact, log, flush, shutdown);
    await finish(outcome.status, outcome.patch);
  } catch (error) {
    deps.logger.warn(
      { jobId: job.id, err: (error as Error).message },
      'job failed before its process ran',
    );
    await finish('failed', { error: (error as Error).message }).catch((e: unknown) =>
      deps.logger.error({ err: e }, 'could not record job failure'),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Updates a job this worker claimed only while it is still running here, and says whether it did.
 * A worker that missed its heartbeats (paused, starved) may find its job already failed by
 * another node's reaper: that end stands, so no job ends twice or goes back to the queue after it
 * ended.
 */
async function updateOwnJob(
  db: Kysely<Schema>,
  job: JobRow,
  patch: Partial<JobRow>,
): Promise<boolean> {
  if (job.workerId === null) return false;
  const result = await db
    .updateTable('jobs')
    .set(patch)
    .where('id', '=', job.id)
    .where('status', '=', 'running')
    .where('workerId', '=', job.workerId)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Puts a job whose process never started back in the queue, audited, for another worker. */
async function handBack(deps: RunnerDeps, job: JobRow): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    const handed = await updateOwnJob(trx, job, {
      status: 'queued',
      workerId: null,
      startedAt: null,
      heartbeatAt: null,
    });
    if (!handed) return;
    await deps.audit.append(trx, SYSTEM, {
      orgId: job.orgId,
      eventType: 'UPDATE',
      targetType: 'job',
      targetId: job.id,
      targetName: job.id,
      change: 'job handed back to the queue: its node is shutting down',
      details: { status: 'queued' },
    });
  });
}

/** The signal behind an exit code of 128 + n (bwrap reports a killed job that way). */
function signalOf(code: number | null): string | null {
  if (code === null || code <= 128) return null;
  const entry = Object.entries(os.constants.signals).find(([, n]) => n === code - 128);
  return entry ? entry[0] : null;
}

async function watch(
  deps: RunnerDeps,
  job: JobRow,
  child: ChildProcess,
  redactValues: string[],
  log: (stream: JobLogRow['stream'], text: string) => void,
  flush: () => Promise<void>,
  shutdown?: AbortSignal,
): Promise<{ status: JobStatus; patch: Partial<JobRow> }> {
  const redactors = { stdout: createRedactor(redactValues), stderr: createRedactor(redactValues) };
  let reason: 'timeout' | 'cancel' | 'shutdown' | null = null;
  const killTree = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };
  const stop = (why: NonNullable<typeof reason>) => {
    if (reason) return;
    reason = why;
    killTree('SIGTERM');
    setTimeout(() => killTree('SIGKILL'), KILL_GRACE_MS).unref();
  };
  child.on(
    'spawn',
    () => void updateJob(deps.db, job.id, { processStartedAt: now() }).catch(() => undefined),
  );
  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream]?.setEncoding('utf8');
    child[stream]?.on('data', (chunk: string) => log(stream, redactors[stream].push(chunk)));
  }
  const timer = setTimeout(() => stop('timeout'), job.timeoutSeconds * 1000);
  const onShutdown = () => stop('shutdown');
  shutdown?.addEventListener('abort', onShutdown, { once: true });
  const flusher = setInterval(() => void flush().catch(() => undefined), 100);
  const beat = setInterval(() => {
    void heartbeat(deps.db, job.id, now())
      .then(({ cancelRequested }) => cancelRequested && stop('cancel'))
      .catch(() => undefined);
  }, 1000);
  const result = await new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    error?: Error;
  }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const exitedAt = now();
  clearTimeout(timer);
  shutdown?.removeEventListener('abort', onShutdown);
  clearInterval(flusher);
  clearInterval(beat);
  log('stdout', redactors.stdout.flush());
  log('stderr', redactors.stderr.flush());
  // Whatever the group left behind dies with the job.
  killTree('SIGKILL');
  const patch: Partial<JobRow> = { processExitedAt: exitedAt, exitCode: result.code };
  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code;
    return {
      status: 'failed',
      patch: {
        ...patch,
        error:
          code === 'ENOENT'
            ? `command not found: ${child.spawnfile}`
            : `could not start the command (${code ?? 'error'})`,
      },
    };
  }
  if (reason === 'cancel') return { status: 'cancelled', patch: { ...patch, error: 'cancelled' } };
  if (reason === 'shutdown')
    return { status: 'cancelled', patch: { ...patch, error: 'cancelled: node shutting down' } };
  if (reason === 'timeout')
    return {
      status: 'timed_out',
      patch: { ...patch, error: `timed out after ${job.timeoutSeconds} s` },
    };
  if (result.code === 0) return { status: 'succeeded', patch };
  return {
    status: 'failed',
    patch: {
      ...patch,
      error: result.signal
        ? `killed by ${result.signal}`
        : deps.sandbox.settings.mode === 'bwrap' && signalOf(result.code)
          ? `killed by ${signalOf(result.code)}`
          : `exited with code ${result.code}`,
    },
  };
}
