import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import type { Services } from '../../app.js';
import { DEFAULT_PASSWORD_LENGTH } from '../../domain/rotations/rotation-service.js';
import { durationSchema, timeOfDaySchema } from '../../domain/rotations/schedule.js';
import { slugSchema } from '../../domain/validation.js';
import { addRoute, type RouteRegistry } from '../route.js';

const orgParams = z.object({ org: z.string() });
const nameParams = orgParams.extend({ name: z.string() });
// Role names are PostgreSQL identifiers, quoted when used: refuse only what no role is called.
const roleName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[^\0\s]+$/, 'must be a PostgreSQL role name (no spaces)');

/** Rotations of pgservice secrets, and the organization's hygiene report. */
export function registerRotationRoutes(
  app: FastifyInstance,
  registry: RouteRegistry,
  s: Services,
): void {
  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/orgs/:org/rotations',
      summary: 'Rotations of pgservice secrets the caller may read',
      tag: 'rotations',
      params: orgParams,
    },
    ({ ctx, params }) => s.rotations.list(ctx, params.org),
  );
  addRoute(
    app,
    registry,
    {
      method: 'POST',
      url: '/api/v1/orgs/:org/rotations',
      summary: "Rotate a pgservice secret's password, by hand or on a schedule",
      tag: 'rotations',
      params: orgParams,
      status: 201,
      body: z
        .object({
          name: slugSchema,
          secret: z.string().min(1).describe('the pg service to rotate, at the level given'),
          project: z.string().optional(),
          env: z.string().optional(),
          service: z.string().optional(),
          adminService: z
            .string()
            .min(1)
            .describe('a pg service visible at that level whose user may ALTER ROLE'),
          strategy: z.enum(['single', 'dual']).default('single'),
          roles: z.array(roleName).optional().describe('dual: the two login roles that alternate'),
          every: durationSchema.optional(),
          at: timeOfDaySchema.optional(),
          length: z
            .number()
            .int()
            .min(16)
            .max(128)
            .optional()
            .describe(`characters of a new password (default ${DEFAULT_PASSWORD_LENGTH})`),
          alphabet: z.string().min(1).max(100).optional(),
        })
        .strict(),
    },
    ({ ctx, params, body }) => {
      const { project, env, service, ...rest } = body;
      return s.rotations.add(ctx, params.org, { ...rest, level: { project, env, service } });
    },
  );
  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/orgs/:org/rotations/:name',
      summary: 'A rotation and its latest runs',
      tag: 'rotations',
      params: nameParams,
    },
    ({ ctx, params }) => s.rotations.show(ctx, params.org, params.name),
  );
  addRoute(
    app,
    registry,
    {
      method: 'POST',
      url: '/api/v1/orgs/:org/rotations/:name/run',
      summary: 'Rotate now (502 ROTATION_FAILED when the database refuses; the run is recorded)',
      tag: 'rotations',
      params: nameParams,
    },
    ({ ctx, params }) => s.rotations.runNow(ctx, params.org, params.name),
  );
  addRoute(
    app,
    registry,
    {
      method: 'PATCH',
      url: '/api/v1/orgs/:org/rotations/:name',
      summary: 'Pause or resume a rotation',
      tag: 'rotations',
      params: nameParams,
      body: z.object({ paused: z.boolean() }).strict(),
    },
    ({ ctx, params, body }) => s.rotations.setPaused(ctx, params.org, params.name, body.paused),
  );
  addRoute(
    app,
    registry,
    {
      method: 'DELETE',
      url: '/api/v1/orgs/:org/rotations/:name',
      summary: 'Remove a rotation (the secret and its versions stay)',
      tag: 'rotations',
      params: nameParams,
      status: 204,
    },
    ({ ctx, params }) => s.rotations.remove(ctx, params.org, params.name),
  );
  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/orgs/:org/report',
      summary: 'Hygiene report: old secrets, idle tokens, inactive members, failing rotations',
      tag: 'rotations',
      params: orgParams,
      query: z
        .object({
          olderThan: durationSchema.default(90 * 86_400),
          inactive: durationSchema.default(90 * 86_400),
        })
        .strict(),
    },
    ({ ctx, params, query }) => s.report.report(ctx, params.org, query),
  );
}
