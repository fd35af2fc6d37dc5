import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import type { Services } from '../../app.js';
import { roleFieldSchema } from '../../domain/orgs/role-service.js';
import {
  displayNameSchema,
  emailLookupSchema,
  emailSchema,
  slugSchema,
} from '../../domain/validation.js';
import { addRoute, type RouteRegistry } from '../route.js';

const orgParams = z.object({ org: z.string() });
// A lookup: a member who joined before e-mails were checked for invisible characters can be removed.
const memberParams = z.object({ org: z.string(), email: emailLookupSchema });

/** Organizations, their settings and members. */
export function registerOrgRoutes(
  app: FastifyInstance,
  registry: RouteRegistry,
  s: Services,
): void {
  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/orgs',
      summary: 'Organizations of the caller',
      tag: 'organizations',
    },
    ({ ctx }) => s.orgs.list(ctx),
  );
  addRoute(
    app,
    registry,
    {
      method: 'POST',
      url: '/api/v1/orgs',
      summary: 'Create an organization (the caller becomes Owner)',
      tag: 'organizations',
      status: 201,
      body: z.object({ slug: slugSchema, name: displayNameSchema.optional() }).strict(),
    },
    ({ ctx, body }) => s.orgs.create(ctx, body),
  );
  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/orgs/:org',
      summary: 'Show an organization',
      tag: 'organizations',
      params: orgParams,
    },
    ({ ctx, params }) => s.orgs.get(ctx, params.org),
  );
  addRoute(
    app,
    registry,
    {
      method: 'PATCH',
      url: '/api/v1/orgs/:org',
      summary: 'Rename an organization',
      tag: 'organizations',
      params: orgParams,
      body: z.object({ name: displayNameSchema }).strict(),
    },
    ({ ctx, params, body }) => s.orgs.rename(ctx, params.org, body.name),
  );
  addRoute(
    app,
    registry,
    {
      method: 'PATCH',
      url: '/api/v1/orgs/:org/billing',
      summary: 'Change plan and audit retention',
      tag: 'organizations',
      params: orgParams,
      body: z
        .object({
          plan: z.enum(['free', 'team', 'enterprise']).optional(),
          auditRetentionDays: z.number().int().min(1).max(36500).nullable().optional(),
        })
        .strict(),
    },
    ({ ctx, params, body }) => s.orgs.updateBilling(ctx, params.org, body),
  );
  addRoute(
    app,
    registry,
    {
      method: 'DELETE',
      url: '/api/v1/orgs/:org',
      summary: 'Delete an organization (Owner only)',
      tag: 'organizations',
      params: orgParams,
      status: 204,
    },
    ({ ctx, params }) => s.orgs.remove(ctx, params.org),
  );

  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/orgs/:org/permissions',
      summary:
        'The actions the caller may take in the organization, or at a project, environment or service of it (any member)',
      tag: 'organizations',
      params: orgParams,
      query: z
        .object({
          project: z.string().optional(),
          env: z.string().optional(),
          service: z.string().optional(),
        })
        .strict(),
    },
    ({ ctx, params, query }) => s.permissions.of(ctx, params.org, query),
  );

  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/orgs/:org/members',
      summary: 'Members and their roles',
      tag: 'members',
      params: orgParams,
    },
    ({ ctx, params }) => s.members.list(ctx, params.org),
  );
  addRoute(
    app,
    registry,
    {
      method: 'POST',
      url: '/api/v1/orgs/:org/invitations',
      summary: 'Invite an e-mail address with a role; returns the one-time token',
      tag: 'members',
      params: orgParams,
      status: 201,
      body: z.object({ email: emailSchema, role: roleFieldSchema }).strict(),
    },
    ({ ctx, params, body }) => s.members.invite(ctx, params.org, body.email, body.role),
  );
  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/orgs/:org/invitations',
      summary: 'Pending invitations',
      tag: 'members',
      params: orgParams,
    },
    ({ ctx, params }) => s.members.listInvitations(ctx, params.org),
  );
  addRoute(
    app,
    registry,
    {
      method: 'DELETE',
      url: '/api/v1/orgs/:org/invitations/:id',
      summary: 'Revoke a pending invitation',
      tag: 'members',
      params: orgParams.extend({ id: z.string() }),
      status: 204,
    },
    ({ ctx, params }) => s.members.revokeInvitation(ctx, params.org, params.id),
  );
  addRoute(
    app,
    registry,
    {
      method: 'POST',
      url: '/api/v1/orgs/:org/members/:email/transfer-ownership',
      summary: 'Make this member the Owner (the current Owner becomes Admin)',
      tag: 'members',
      params: memberParams,
    },
    ({ ctx, params }) => s.members.transferOwnership(ctx, params.org, params.email),
  );
  addRoute(
    app,
    registry,
    {
      method: 'PATCH',
      url: '/api/v1/orgs/:org/members/:email',
      summary: "Change a member's role",
      tag: 'members',
      params: memberParams,
      body: z.object({ role: roleFieldSchema }).strict(),
    },
    ({ ctx, params, body }) => s.members.setRole(ctx, params.org, params.email, body.role),
  );
  addRoute(
    app,
    registry,
    {
      method: 'DELETE',
      url: '/api/v1/orgs/:org/members/:email',
      summary: 'Remove a member',
      tag: 'members',
      params: memberParams,
      status: 204,
    },
    ({ ctx, params }) => s.members.remove(ctx, params.org, params.email),
  );
}
