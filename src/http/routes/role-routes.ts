import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import type { Services } from '../../app.js';
import { GRANT_LEVELS } from '../../domain/policy/custom-roles.js';
import { ENVIRONMENT_TYPES, slugSchema } from '../../domain/validation.js';
import { addRoute, type RouteRegistry } from '../route.js';

const orgParams = z.object({ org: z.string() });
const nameParams = orgParams.extend({ name: z.string() });

/** Custom roles of an organization. */
export function registerRoleRoutes(
  app: FastifyInstance,
  registry: RouteRegistry,
  s: Services,
): void {
  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/orgs/:org/roles',
      summary: 'Custom roles and their grants',
      tag: 'roles',
      params: orgParams,
    },
    ({ ctx, params }) => s.roles.list(ctx, params.org),
  );
  addRoute(
    app,
    registry,
    {
      method: 'POST',
      url: '/api/v1/orgs/:org/roles',
      summary: 'Create a custom role: a level per project and environment type',
      tag: 'roles',
      params: orgParams,
      status: 201,
      body: z
        .object({
          name: slugSchema,
          grants: z
            .array(
              z
                .object({
                  project: z.string(),
                  type: z.enum(ENVIRONMENT_TYPES),
                  level: z.enum(GRANT_LEVELS),
                })
                .strict(),
            )
            .max(1000),
        })
        .strict(),
    },
    ({ ctx, params, body }) => s.roles.create(ctx, params.org, body),
  );
  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/orgs/:org/roles/:name',
      summary: 'A custom role',
      tag: 'roles',
      params: nameParams,
    },
    ({ ctx, params }) => s.roles.show(ctx, params.org, params.name),
  );
  addRoute(
    app,
    registry,
    {
      method: 'DELETE',
      url: '/api/v1/orgs/:org/roles/:name',
      summary: 'Delete a custom role nobody holds',
      tag: 'roles',
      params: nameParams,
      status: 204,
    },
    ({ ctx, params }) => s.roles.remove(ctx, params.org, params.name),
  );
}
