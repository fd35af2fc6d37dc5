import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import type { Services } from '../../app.js';
import { parseImport } from '../../domain/secrets/import-format.js';
import { MAX_SET_ENTRIES } from '../../domain/secrets/secret-set-service.js';
import { emailLookupSchema } from '../../domain/validation.js';
import { toMaterial } from '../../jobs/runner.js';
import { addRoute, type RouteRegistry } from '../route.js';

const orgParams = z.object({ org: z.string() });

const levelFields = {
  project: z.string().optional(),
  env: z.string().optional(),
  service: z.string().optional(),
  assignee: emailLookupSchema.optional(),
  sensitivity: z
    .enum(['secret', 'plain'])
    .optional()
    .describe('of the secrets this creates (default secret); existing ones keep theirs'),
  dryRun: z.boolean().optional().describe('plan only: what would be created, rotated or left'),
};

const setBody = z
  .object({
    ...levelFields,
    secrets: z
      .array(z.object({ name: z.string(), value: z.string() }).strict())
      .max(MAX_SET_ENTRIES),
  })
  .strict();

const importBody = z
  .object({
    ...levelFields,
    format: z.enum(['dotenv', 'json', 'yaml']),
    text: z.string(),
  })
  .strict();

/** Bulk set by name, imports of dotenv/JSON/YAML text, and one resolved value by name. */
export function registerSecretSetRoutes(
  app: FastifyInstance,
  registry: RouteRegistry,
  s: Services,
): void {
  addRoute(
    app,
    registry,
    {
      method: 'POST',
      url: '/api/v1/orgs/:org/secrets/set',
      summary:
        'Set env secrets by name at a level: each is created, rotated if its value differs, or left; one transaction, all or none',
      tag: 'secrets',
      params: orgParams,
      body: setBody,
    },
    ({ ctx, params, body }) =>
      s.secretSet.setValues(ctx, params.org, body, { ...body, entries: body.secrets }),
  );
  addRoute(
    app,
    registry,
    {
      method: 'POST',
      url: '/api/v1/orgs/:org/secrets/import',
      summary:
        'Import a dotenv, JSON or YAML text at a level, as a bulk set (bad names are reported with their line, nothing written)',
      tag: 'secrets',
      params: orgParams,
      body: importBody,
    },
    ({ ctx, params, body }) =>
      s.secretSet.setValues(ctx, params.org, body, {
        ...body,
        entries: parseImport(body.text, body.format),
      }),
  );
  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/orgs/:org/secrets/value',
      summary:
        "One resolved value by name in a context (the caller's view): plain env values for whoever may read the context, others for service tokens (audited as ACCESS)",
      tag: 'runtime',
      params: orgParams,
      query: z
        .object({
          project: z.string(),
          env: z.string().optional(),
          service: z.string().optional(),
          name: z.string(),
          kind: z.enum(['env', 'file', 'pgservice']).optional(),
        })
        .strict(),
    },
    async ({ ctx, params, query, reply }) => {
      const one = await s.resolve.readOne(ctx, params.org, query);
      reply.header('cache-control', 'private, no-store');
      return {
        ...toMaterial(one),
        level: one.level,
        version: one.version,
        sensitivity: one.sensitivity,
      };
    },
  );
}
