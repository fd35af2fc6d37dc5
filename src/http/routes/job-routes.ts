import { Readable } from 'node:stream';

import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import type { Services } from '../../app.js';
import { MIN_ID_PREFIX } from '../../domain/ids.js';
import { durationSchema } from '../../domain/projects/service-fields.js';
import type { ResolvedSecret } from '../../domain/secrets/resolve-service.js';
import { toMaterial } from '../../jobs/runner.js';
import { requestContext } from '../auth.js';
import { addRoute, type RouteRegistry } from '../route.js';

const orgParams = z.object({ org: z.string() });
/** An `:id` path parameter: a full id, or a prefix of one (resolved by `resolveIdRef`). */
export const idRefParam = z
  .string()
  .describe(`a full id, or a prefix of at least ${MIN_ID_PREFIX} characters naming one`);
const idParams = orgParams.extend({ id: idRefParam });

/** The longest a runtime read waits for a change (`Prefer: wait=N`, RFC 7240), in seconds. */
export const MAX_WAIT_SECONDS = 120;

/** The `wait` preference of a Prefer header, capped at {@link MAX_WAIT_SECONDS}; 0 for none. */
function preferredWait(prefer: string | undefined): number {
  const match = /(?:^|[,;\s])wait\s*=\s*"?(\d{1,6})"?/i.exec(prefer ?? '');
  return match ? Math.min(Number(match[1]), MAX_WAIT_SECONDS) : 0;
}

/** Jobs (trigger, list, show, logs, cancel) and the runtime read of values for `hush run`. */
export function registerJobRoutes(
  app: FastifyInstance,
  registry: RouteRegistry,
  s: Services,
): void {
  const runtimeBodies = new WeakMap<object, string>();
  addRoute(
    app,
    registry,
    {
      method: 'POST',
      url: '/api/v1/orgs/:org/jobs',
      summary: "Queue a job: a service's command, or an ad-hoc argv (needs jobs:shell)",
      tag: 'jobs',
      params: orgParams,
      status: 201,
      body: z
        .object({
          project: z.string(),
          env: z.string().optional(),
          service: z.string().optional(),
          command: z.array(z.string().max(65536)).min(1).max(1000).optional(),
          timeout: durationSchema.optional(),
        })
        .strict(),
    },
    ({ ctx, params, body }) =>
      s.jobs.trigger(ctx, params.org, { ...body, timeoutSeconds: body.timeout }),
  );
  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/jobs/sandbox',
      summary: "How this server's workers isolate jobs (bwrap or none), and whether they can run",
      tag: 'jobs',
    },
    () => {
      const { settings } = s.sandbox;
      const status = s.sandbox.status();
      return Promise.resolve({
        mode: settings.mode,
        network: settings.network,
        // False on a node without workers of its own (--workers 0): other nodes run its jobs.
        runsJobs: s.sandbox.probed(),
        // Null while the first probe runs, or on a node without workers.
        available: status?.available ?? null,
        reason: status?.reason ?? null,
      });
    },
  );
  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/orgs/:org/projects/:project/jobs',
      summary: 'Jobs of a project, newest first',
      tag: 'jobs',
      params: orgParams.extend({ project: z.string() }),
      query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }).strict(),
    },
    ({ ctx, params, query }) => s.jobs.list(ctx, params.org, params.project, query.limit),
  );
  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/orgs/:org/jobs/:id',
      summary: 'A job: status, exit code, timings',
      tag: 'jobs',
      params: idParams,
    },
    ({ ctx, params }) => s.jobs.show(ctx, params.org, params.id),
  );
  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/orgs/:org/jobs/:id/logs',
      summary: 'Redacted log lines after a sequence number (poll with after= to follow)',
      tag: 'jobs',
      params: idParams,
      query: z.object({ after: z.coerce.number().int().min(0).default(0) }).strict(),
    },
    ({ ctx, params, query }) => s.jobs.logs(ctx, params.org, params.id, query.after),
  );
  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/orgs/:org/jobs/:id/logs/download',
      summary: "The whole redacted log as text/plain, streamed (the job's output as it wrote it)",
      tag: 'jobs',
      params: idParams,
    },
    async ({ ctx, params, reply }) => {
      const { job, chunks } = await s.jobs.logText(ctx, params.org, params.id);
      reply
        .header('content-type', 'text/plain; charset=utf-8')
        .header('content-disposition', `attachment; filename="hush-job-${job.id}.log"`)
        .header('cache-control', 'private, no-store');
      return Readable.from(chunks);
    },
  );
  addRoute(
    app,
    registry,
    {
      method: 'POST',
      url: '/api/v1/orgs/:org/jobs/:id/cancel',
      summary: 'Cancel a queued or running job (kills its process tree)',
      tag: 'jobs',
      params: idParams,
    },
    ({ ctx, params }) => s.jobs.cancel(ctx, params.org, params.id),
  );
  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/orgs/:org/runtime/secrets',
      summary: 'The resolved set with values, for service tokens (hush run); audited as ACCESS',
      tag: 'runtime',
      params: orgParams,
      query: z
        .object({ project: z.string(), env: z.string().optional(), service: z.string().optional() })
        .strict(),
    },
    async ({ ctx, params, query, request, reply }) => {
      const ifNoneMatch = request.headers['if-none-match'];
      const waitSeconds = ifNoneMatch
        ? preferredWait([request.headers.prefer ?? []].flat().join(','))
        : 0;
      let etag: string;
      let values: ResolvedSecret[] | null;
      if (waitSeconds > 0) {
        // A long poll (hush run --watch): answer when the set changes or the wait is over.
        const gone = new AbortController();
        const onClose = () => gone.abort();
        reply.raw.once('close', onClose);
        try {
          ({ etag, values } = await s.resolve.waitForValues(ctx, params.org, query, ifNoneMatch, {
            ms: waitSeconds * 1000,
            signal: gone.signal,
            reauthenticate: () => requestContext(request, true),
          }));
        } finally {
          reply.raw.off('close', onClose);
        }
        reply.header('preference-applied', `wait=${waitSeconds}`);
      } else {
        ({ etag, values } = await s.resolve.readValuesIfChanged(
          ctx,
          params.org,
          query,
          ifNoneMatch,
        ));
      }
      reply.header('etag', etag).header('cache-control', 'private, no-store');
      if (values === null) return reply.code(304).send();
      // A cached read hands out the same array until the organization changes: serialize once.
      let body = runtimeBodies.get(values);
      if (body === undefined) {
        body = JSON.stringify(values.map(toMaterial));
        runtimeBodies.set(values, body);
      }
      return reply.type('application/json; charset=utf-8').send(body);
    },
  );
}
