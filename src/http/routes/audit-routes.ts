import { Readable } from 'node:stream';

import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import type { Services } from '../../app.js';
import { EXPORT_FORMATS, exportMedia } from '../../domain/audit/audit-export.js';
import { EVENT_TYPES, TARGET_TYPES } from '../../domain/audit/audit-service.js';
import { type AuditCheckpoint, CHECKPOINT_FORMAT } from '../../domain/audit/checkpoint.js';
import { invalid } from '../../errors.js';
import { addRoute, type RouteRegistry, validationError } from '../route.js';
import { idRefParam } from './job-routes.js';

const orgParams = z.object({ org: z.string() });
const isoTime = z.iso.datetime({ offset: true }).transform((v) => new Date(v).toISOString());

const filters = {
  since: isoTime.optional(),
  until: isoTime.optional(),
  targetType: z.enum(TARGET_TYPES).optional(),
  target: z.string().optional(),
  eventType: z.enum(EVENT_TYPES).optional(),
  actor: z.string().optional(),
};

const listQuery = z
  .object({
    ...filters,
    limit: z.coerce.number().int().min(1).max(1000).default(50),
    cursor: z.string().optional(),
  })
  .strict();

const exportQuery = z.object({ ...filters, format: z.enum(EXPORT_FORMATS) }).strict();

/** A checkpoint as `GET …/audit/checkpoint` answers it (its fields are all signed). */
const checkpointSchema = z
  .object({
    format: z.literal(CHECKPOINT_FORMAT),
    organizationId: z.string(),
    organization: z.string(),
    seq: z.number().int().min(0),
    hash: z.string(),
    timestamp: z.string().nullable(),
    signedAt: z.string(),
    keyId: z.string(),
    signature: z.string(),
  })
  .strict();

const verifyQuery = z
  .object({
    checkpoint: z
      .string()
      .max(4096)
      .optional()
      .describe('A checkpoint from GET …/audit/checkpoint, as its JSON text'),
  })
  .strict();

/** The checkpoint a verify query carries as JSON text; VALIDATION_FAILED naming what is wrong. */
function parseCheckpoint(text: string): AuditCheckpoint {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid('query.checkpoint', 'is not JSON');
  }
  const result = checkpointSchema.safeParse(value);
  if (!result.success) throw validationError('query.checkpoint', result.error);
  return result.data;
}

/** The audit log of an organization: list with filters, detail, chain verification, checkpoints. */
export function registerAuditRoutes(
  app: FastifyInstance,
  registry: RouteRegistry,
  s: Services,
): void {
  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/orgs/:org/audit',
      summary: 'Audit events, newest first, filtered, cursor-paginated',
      tag: 'audit',
      params: orgParams,
      query: listQuery,
    },
    ({ ctx, params, query }) => s.auditQuery.list(ctx, params.org, query),
  );
  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/orgs/:org/audit/export',
      summary:
        'Export the filtered events, oldest first, as JSON Lines or CSV (streamed; audited as EXPORT)',
      tag: 'audit',
      params: orgParams,
      query: exportQuery,
    },
    async ({ ctx, params, query, reply }) => {
      const { format, ...rest } = query;
      const exported = await s.auditQuery.exportEvents(ctx, params.org, format, rest);
      const media = exportMedia(format);
      reply
        .header('content-type', media.contentType)
        .header(
          'content-disposition',
          `attachment; filename="hush-audit-${exported.organization}.${media.extension}"`,
        )
        // Counted in the transaction that wrote the EXPORT event: clients show progress with it.
        .header('x-hush-event-count', String(exported.count));
      return Readable.from(exported.chunks);
    },
  );
  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/orgs/:org/audit/verify',
      summary:
        'Recompute the keyed hash chain up to its head and name the first broken link; with a checkpoint, also prove the log still holds its event',
      tag: 'audit',
      params: orgParams,
      query: verifyQuery,
    },
    ({ ctx, params, query }) =>
      s.auditQuery.verify(
        ctx,
        params.org,
        query.checkpoint === undefined ? undefined : parseCheckpoint(query.checkpoint),
      ),
  );
  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/orgs/:org/audit/checkpoint',
      summary:
        'Verify the chain and sign its head (seq, hash, time) as a checkpoint to keep outside Hush',
      tag: 'audit',
      params: orgParams,
    },
    ({ ctx, params }) => s.auditQuery.checkpoint(ctx, params.org),
  );
  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/orgs/:org/audit/:id',
      summary: "An event's full JSON",
      tag: 'audit',
      params: orgParams.extend({ id: idRefParam }),
    },
    ({ ctx, params }) => s.auditQuery.show(ctx, params.org, params.id),
  );
}
