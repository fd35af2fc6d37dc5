import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import type { Services } from '../../app.js';
import {
  commandSchema,
  durationSchema,
  workingDirSchema,
} from '../../domain/projects/service-fields.js';
import { displayNameSchema, ENVIRONMENT_TYPES, slugSchema } from '../../domain/validation.js';
import { addRoute, type RouteRegistry } from '../route.js';

const orgParams = z.object({ org: z.string() });
const projectParams = z.object({ org: z.string(), project: z.string() });
const envParams = projectParams.extend({ env: z.string() });
const serviceParams = projectParams.extend({ service: z.string() });

const serviceBody = z
  .object({
    name: slugSchema,
    environment: z.string().optional(),
    command: commandSchema,
    workingDir: workingDirSchema.optional(),
    timeout: durationSchema.default(3600),
  })
  .strict();

/** Projects, environments and services. */
export function registerProjectRoutes(
  app: FastifyInstance,
  registry: RouteRegistry,
  s: Services,
): void {
  const p = s.projects;
  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/orgs/:org/projects',
      summary: 'Projects of an organization',
      tag: 'projects',
      params: orgParams,
    },
    ({ ctx, params }) => p.listProjects(ctx, params.org),
  );
  addRoute(
    app,
    registry,
    {
      method: 'POST',
      url: '/api/v1/orgs/:org/projects',
      summary: 'Create a project',
      tag: 'projects',
      params: orgParams,
      status: 201,
      body: z.object({ slug: slugSchema, name: displayNameSchema.optional() }).strict(),
    },
    ({ ctx, params, body }) => p.createProject(ctx, params.org, body),
  );
  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/orgs/:org/projects/:project',
      summary: 'Show a project',
      tag: 'projects',
      params: projectParams,
    },
    ({ ctx, params }) => p.getProject(ctx, params.org, params.project),
  );
  addRoute(
    app,
    registry,
    {
      method: 'DELETE',
      url: '/api/v1/orgs/:org/projects/:project',
      summary: 'Delete a project with its environments and services',
      tag: 'projects',
      params: projectParams,
      status: 204,
    },
    ({ ctx, params }) => p.removeProject(ctx, params.org, params.project),
  );

  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/orgs/:org/projects/:project/environments',
      summary: 'Environments of a project',
      tag: 'environments',
      params: projectParams,
    },
    ({ ctx, params }) => p.listEnvironments(ctx, params.org, params.project),
  );
  addRoute(
    app,
    registry,
    {
      method: 'POST',
      url: '/api/v1/orgs/:org/projects/:project/environments',
      summary: 'Create a typed environment',
      tag: 'environments',
      params: projectParams,
      status: 201,
      body: z.object({ slug: slugSchema, type: z.enum(ENVIRONMENT_TYPES) }).strict(),
    },
    ({ ctx, params, body }) => p.createEnvironment(ctx, params.org, params.project, body),
  );
  addRoute(
    app,
    registry,
    {
      method: 'DELETE',
      url: '/api/v1/orgs/:org/projects/:project/environments/:env',
      summary: 'Delete an environment',
      tag: 'environments',
      params: envParams,
      status: 204,
    },
    ({ ctx, params }) => p.removeEnvironment(ctx, params.org, params.project, params.env),
  );

  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/orgs/:org/projects/:project/services',
      summary: 'Services of a project',
      tag: 'services',
      params: projectParams,
    },
    ({ ctx, params }) => p.listServices(ctx, params.org, params.project),
  );
  addRoute(
    app,
    registry,
    {
      method: 'POST',
      url: '/api/v1/orgs/:org/projects/:project/services',
      summary: 'Create a service (a job definition)',
      tag: 'services',
      params: projectParams,
      status: 201,
      body: serviceBody,
    },
    ({ ctx, params, body }) =>
      p.createService(ctx, params.org, params.project, { ...body, timeoutSeconds: body.timeout }),
  );
  addRoute(
    app,
    registry,
    {
      method: 'DELETE',
      url: '/api/v1/orgs/:org/projects/:project/services/:service',
      summary: 'Delete a service',
      tag: 'services',
      params: serviceParams,
      status: 204,
    },
    ({ ctx, params }) => p.removeService(ctx, params.org, params.project, params.service),
  );
}
