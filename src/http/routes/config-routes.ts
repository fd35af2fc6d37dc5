import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import type { Services } from '../../app.js';
import { MAX_CONFIG_BYTES } from '../../domain/config/config-parse.js';
import { configJsonSchema } from '../../domain/config/config-schema.js';
import { SCHEMA_PATH } from '../../domain/config/config-service.js';
import { addRoute, type RouteRegistry } from '../route.js';

const orgParams = z.object({ org: z.string() });

const fileBody = {
  file: z.string().min(1).max(1024).default('hush.yaml').describe("The file's name, for errors"),
  source: z.string().max(MAX_CONFIG_BYTES).describe('The text of the hush.yaml'),
  prune: z.boolean().default(false).describe('Also delete what the file leaves out'),
};

/** Configuration as code: the JSON Schema of hush.yaml, plan, apply and export. */
export function registerConfigRoutes(
  app: FastifyInstance,
  registry: RouteRegistry,
  s: Services,
): void {
  const schema = configJsonSchema();
  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: SCHEMA_PATH,
      summary: 'The JSON Schema of hush.yaml, for editors',
      tag: 'config',
      auth: false,
    },
    () => Promise.resolve(schema),
  );
  addRoute(
    app,
    registry,
    {
      method: 'POST',
      url: '/api/v1/orgs/:org/config/plan',
      summary: 'What applying a hush.yaml would create, change and (with prune) delete',
      tag: 'config',
      params: orgParams,
      body: z.object(fileBody).strict(),
    },
    ({ ctx, params, body }) => s.config.plan(ctx, params.org, body),
  );
  addRoute(
    app,
    registry,
    {
      method: 'POST',
      url: '/api/v1/orgs/:org/config/apply',
      summary:
        "Apply a hush.yaml in one transaction; refused when the state is no longer the plan's",
      tag: 'config',
      params: orgParams,
      body: z
        .object({
          ...fileBody,
          expectedState: z
            .string()
            .max(100)
            .optional()
            .describe('The `state` of the plan that was shown: apply refuses if it changed'),
        })
        .strict(),
    },
    ({ ctx, params, body }) => s.config.apply(ctx, params.org, body),
  );
  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/orgs/:org/config/export',
      summary: 'The organization as a hush.yaml',
      tag: 'config',
      params: orgParams,
    },
    ({ ctx, params, request }) =>
      s.config.export(ctx, params.org, `${request.protocol}://${request.host}${SCHEMA_PATH}`),
  );
}
