import { randomUUID } from 'node:crypto';

import type { Kysely } from 'kysely';

import { hushError, invalid } from '../../errors.js';
import {
  findJob,
  findJobsByIdPrefix,
  insertJob,
  listJobs,
  readJobLogs,
  updateJob,
} from '../../store/job-store.js';
import { findEnvironmentById, listEnvironments } from '../../store/project-store.js';
import type { JobRow, OrganizationRow, Schema } from '../../store/schema.js';
import type { AuditService } from '../audit/audit-service.js';
import { actorName, now, type RequestContext } from '../context.js';
import { resolveIdRef } from '../ids.js';
import { loadOrganization } from '../orgs/org-service.js';
import { authorize, type Resource } from '../policy/authorize.js';
import { loadProject } from '../projects/project-service.js';
import { resolveContext } from '../secrets/scope.js';
import type { UnitOfWork } from '../unit-of-work.js';

export interface TriggerInput {
  project: string;
  env?: string | undefined;
  service?: string | undefined;
  /** Ad-hoc command (argv) instead of a service's command line. */
  command?: string[] | undefined;
  timeoutSeconds?: number | undefined;
}

const FINISHED = new Set(['succeeded', 'failed', 'cancelled', 'timed_out']);

/** The public shape of a job. */
export function toJob(row: JobRow, environment: string | null) {
  return {
    id: row.id,
    kind: row.kind,
    /** The slug of the environment it runs in, or null for a project-level job. */
    environment,
    status: row.status,
    exitCode: row.exitCode,
    error: row.error,
    command: row.kind === 'adhoc' ? (JSON.parse(row.command) as string[]) : row.command,
    triggeredBy: row.triggeredBy,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    timeoutSeconds: row.timeoutSeconds,
  };
}

const LOG_PAGE_ROWS = 1000;

/** The texts of a job's log rows, a page of rows a chunk; ends at the first short page. */
async function* logChunks(db: Kysely<Schema>, jobId: string): AsyncGenerator<string> {
  for (let after = 0; ;) {
    const rows = await readJobLogs(db, jobId, after, LOG_PAGE_ROWS);
    if (rows.length > 0) yield rows.map((r) => r.text).join('');
    // A running job's log grows while it is read: the download stops where it was at the end.
    if (rows.length < LOG_PAGE_ROWS) return;
    after = rows[rows.length - 1]!.seq;
  }
}

/** Jobs: trigger (service or ad-hoc), list, show, logs, cancel. Workers run them (src/jobs). */
export function createJobService(deps: {
  uow: UnitOfWork;
  audit: AuditService;
  onQueued: () => void;
  /** Why this node cannot run jobs now, or null. */
  refusal?: () => string | null;
}) {
  const { uow, audit } = deps;

  function trigger(ctx: RequestContext, orgSlug: string, input: TriggerInput) {
    if (!input.service && !input.command) throw invalid('service', 'give a service or a command');
    if (input.service && input.command)
      throw invalid('command', 'give either a service or a command');
    const refusal = deps.refusal?.();
    if (refusal) throw hushError('JOB_SANDBOX_UNAVAILABLE', refusal);
    return uow
      .write(ctx, async (trx) => {
        // The job permission itself gates the trigger: no separate project:read check.
        const org = await loadOrganization(trx, ctx, orgSlug, 'org:read');
        const context = await resolveContext(trx, org, input, ctx);
        const project = context.project;
        await authorize(trx, ctx, input.command ? 'jobs:shell' : 'jobs:run', {
          orgId: org.id,
          orgSlug: org.slug,
          targetType: 'job',
          targetName: input.service ?? input.command?.[0] ?? null,
          projectId: project.id,
          ...(context.environment ? { environmentId: context.environment.id } : {}),
        });
        const service = context.service;
        const row: JobRow = {
          id: randomUUID(),
          orgId: org.id,
          projectId: project.id,
          environmentId: context.environment?.id ?? null,
          serviceId: service?.id ?? null,
          kind: service ? 'service' : 'adhoc',
          command: service ? service.command : JSON.stringify(input.command),
          workingDir: service?.workingDir ?? null,
          timeoutSeconds: input.timeoutSeconds ?? service?.timeoutSeconds ?? 3600,
          memberId: ctx.actor.kind === 'user' ? ctx.actor.userId : null,
          tokenId: ctx.actor.kind === 'service-token' ? ctx.actor.tokenId : null,
          triggeredBy: actorName(ctx.actor),
          status: 'queued',
          attempts: 0,
          exitCode: null,
          error: null,
          workerId: null,
          heartbeatAt: null,
          cancelRequestedAt: null,
          createdAt: now(),
          startedAt: null,
          processStartedAt: null,
          processExitedAt: null,
          finishedAt: null,
        };
        await insertJob(trx, row);
        await audit.append(trx, ctx, {
          orgId: org.id,
          eventType: 'TRIGGER_JOB',
          targetType: 'job',
          targetId: row.id,
          targetName: service
            ? `${project.slug}/${service.name}`
            : `${project.slug}: ${input.command?.join(' ') ?? ''}`.slice(0, 200),
          change: service ? `triggered service ${service.name}` : 'triggered an ad-hoc job',
          details: {
            job: toJob(row, context.environment?.slug ?? null),
            environment: context.environment?.slug ?? null,
          },
        });
        return toJob(row, context.environment?.slug ?? null);
      })
      .then((job) => {
        deps.onQueued();
        return job;
      });
  }

  /**
   * The job `id` names (a full id or a unique prefix, see `resolveIdRef`) in the organization,
   * authorized for `action`. Throws JOB_NOT_FOUND, VALIDATION_FAILED, CONFLICT (ambiguous
   * prefix) and PERMISSION_DENIED.
   */
  async function loadJob(
    db: Kysely<Schema>,
    ctx: RequestContext,
    orgSlug: string,
    id: string,
    action: 'environment:read' | 'jobs:run',
  ): Promise<{ org: OrganizationRow; job: JobRow; environment: string | null }> {
    const org = await loadOrganization(db, ctx, orgSlug, 'org:read');
    const resource = (job: JobRow): Resource => ({
      orgId: org.id,
      orgSlug: org.slug,
      targetType: 'job',
      targetId: job.id,
      projectId: job.projectId,
      ...(job.environmentId ? { environmentId: job.environmentId } : {}),
    });
    const job = await resolveIdRef(id, {
      noun: 'job',
      exact: async (full) => {
        const row = await findJob(db, full);
        return row?.orgId === org.id ? row : undefined;
      },
      byPrefix: (prefix, limit) => findJobsByIdPrefix(db, org.id, prefix, limit),
      authorizeRead: (row) => authorize(db, ctx, 'environment:read', resource(row)),
      notFound: () => hushError('JOB_NOT_FOUND', `job ${id} not found`),
    });
    await authorize(db, ctx, action, resource(job));
    const environment = job.environmentId
      ? ((await findEnvironmentById(db, job.environmentId))?.slug ?? null)
      : null;
    return { org, job, environment };
  }

  function list(ctx: RequestContext, orgSlug: string, projectSlug: string, limit = 50) {
    return uow.read(ctx, async (db) => {
      const { project } = await loadProject(db, ctx, orgSlug, projectSlug, 'environment:read');
      const slugs = new Map((await listEnvironments(db, project.id)).map((e) => [e.id, e.slug]));
      return (await listJobs(db, project.id, limit)).map((row) =>
        toJob(row, row.environmentId ? (slugs.get(row.environmentId) ?? null) : null),
      );
    });
  }

  function show(ctx: RequestContext, orgSlug: string, id: string) {
    return uow.read(ctx, async (db) => {
      const { job, environment } = await loadJob(db, ctx, orgSlug, id, 'environment:read');
      return toJob(job, environment);
    });
  }

  /** Log lines after `afterSeq` (already redacted when stored) and whether the job is finished. */
  function logs(ctx: RequestContext, orgSlug: string, id: string, afterSeq: number) {
    return uow.read(ctx, async (db) => {
      const { job, environment } = await loadJob(db, ctx, orgSlug, id, 'environment:read');
      const lines = await readJobLogs(db, job.id, afterSeq);
      return {
        job: toJob(job, environment),
        finished: FINISHED.has(job.status),
        lines: lines.map((l) => ({ seq: l.seq, stream: l.stream, text: l.text, at: l.at })),
      };
    });
  }

  /**
   * A job's whole log as text, oldest first (already redacted when stored), for a download:
   * authorized as {@link logs}, then read page by page while it is sent, up to where the log
   * ends at that moment. Throws JOB_NOT_FOUND, VALIDATION_FAILED, CONFLICT and PERMISSION_DENIED.
   */
  async function logText(
    ctx: RequestContext,
    orgSlug: string,
    id: string,
  ): Promise<{ job: ReturnType<typeof toJob>; chunks: AsyncGenerator<string> }> {
    const { job, environment } = await uow.read(ctx, (db) =>
      loadJob(db, ctx, orgSlug, id, 'environment:read'),
    );
    return { job: toJob(job, environment), chunks: logChunks(uow.db, job.id) };
  }

  function cancel(ctx: RequestContext, orgSlug: string, id: string) {
    return uow.write(ctx, async (trx) => {
      const { org, job, environment } = await loadJob(trx, ctx, orgSlug, id, 'jobs:run');
      if (FINISHED.has(job.status))
        throw hushError('CONFLICT', `job ${job.id} already finished (${job.status})`);
      const at = now();
      // A queued job is cancelled at once; a running one is stopped by its worker.
      const patch: Partial<JobRow> =
        job.status === 'queued'
          ? {
              status: 'cancelled',
              cancelRequestedAt: at,
              finishedAt: at,
              error: 'cancelled before it started',
            }
          : { cancelRequestedAt: at };
      await updateJob(trx, job.id, patch);
      await audit.append(trx, ctx, {
        orgId: org.id,
        eventType: 'CANCEL_JOB',
        targetType: 'job',
        targetId: job.id,
        targetName: job.id,
        change: `cancelled job ${job.id} (${job.status})`,
      });
      return toJob({ ...job, ...patch }, environment);
    });
  }

  return { trigger, list, show, logs, logText, cancel };
}

export type JobService = ReturnType<typeof createJobService>;
