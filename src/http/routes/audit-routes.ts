import { Readable } from 'node:stream';

import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import type { Services } from '../../app.js';
import { EXPORT_FORMATS, exportMedia } from '../../domain/audit/audit-export.js';
import { EVENT_TYPES, TARGET_TYPES } from '../../domain/audit/audit-service.js';
import { addRoute, type RouteRegistry } from '../route.js';

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

/** The audit log of an organization: list with filters, detail, chain verification. */
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
      summary: 'Recompute the hash chain and name the first broken link',
      tag: 'audit',
      params: orgParams,
    },
    ({ ctx, params }) => s.auditQuery.verify(ctx, params.org),
  );
  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/orgs/:org/audit/:id',
      summary: "An event's full JSON",
      tag: 'audit',
      params: orgParams.extend({ id: z.string() }),
    },
    ({ ctx, params }) => s.auditQuery.show(ctx, params.org, params.id),
  );
}
