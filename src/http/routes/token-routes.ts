import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import type { Services } from '../../app.js';
import { MIN_ID_PREFIX } from '../../domain/ids.js';
import { roleFieldSchema } from '../../domain/orgs/role-service.js';
import { visible } from '../../domain/validation.js';
import { addRoute, type RouteRegistry } from '../route.js';

const tokenName = visible(z.string()).regex(
  /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/,
  'must be 1-64 of letters, digits, "_", "." and "-"',
);
// Revoking names a token by name, or by its id or a prefix of it (a name wins).
const tokenRef = z
  .string()
  .describe(`the token's name, or its id or a prefix of at least ${MIN_ID_PREFIX} characters`);
const expiresInDays = z.number().int().min(1).max(3650).optional();

/** Service tokens of an organization and personal tokens of the caller. */
export function registerTokenRoutes(
  app: FastifyInstance,
  registry: RouteRegistry,
  s: Services,
): void {
  const orgParams = z.object({ org: z.string() });
  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/orgs/:org/tokens',
      summary: 'Live service tokens',
      tag: 'tokens',
      params: orgParams,
    },
    ({ ctx, params }) => s.tokens.listServiceTokens(ctx, params.org),
  );
  addRoute(
    app,
    registry,
    {
      method: 'POST',
      url: '/api/v1/orgs/:org/tokens',
      summary: 'Create a service token (shown once)',
      tag: 'tokens',
      params: orgParams,
      status: 201,
      body: z
        .object({
          name: tokenName,
          role: roleFieldSchema,
          projects: z.array(z.string()).default([]),
          environments: z.array(z.string()).default([]),
          expiresInDays,
        })
        .strict(),
    },
    ({ ctx, params, body }) => s.tokens.createServiceToken(ctx, params.org, body),
  );
  addRoute(
    app,
    registry,
    {
      method: 'DELETE',
      url: '/api/v1/orgs/:org/tokens/:name',
      summary: 'Revoke a service token',
      tag: 'tokens',
      params: orgParams.extend({ name: tokenRef }),
      status: 204,
    },
    ({ ctx, params }) => s.tokens.revokeServiceToken(ctx, params.org, params.name),
  );

  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/me/tokens',
      summary: 'Your live personal tokens',
      tag: 'tokens',
    },
    ({ ctx }) => s.tokens.listPersonalTokens(ctx),
  );
  addRoute(
    app,
    registry,
    {
      method: 'POST',
      url: '/api/v1/me/tokens',
      summary: 'Create a personal token (shown once)',
      tag: 'tokens',
      status: 201,
      body: z.object({ name: tokenName, expiresInDays }).strict(),
    },
    ({ ctx, body }) => s.tokens.createPersonalToken(ctx, body),
  );
  addRoute(
    app,
    registry,
    {
      method: 'DELETE',
      url: '/api/v1/me/tokens/:name',
      summary: 'Revoke a personal token',
      tag: 'tokens',
      params: z.object({ name: tokenRef }),
      status: 204,
    },
    ({ ctx, params }) => s.tokens.revokePersonalToken(ctx, params.name),
  );
}
