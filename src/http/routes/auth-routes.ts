import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import type { Services } from '../../app.js';
import { emailSchema, passwordSchema, slugSchema } from '../../domain/validation.js';
import { clearedSessionCookie, sessionCookie } from '../auth.js';
import { addRoute, type RouteRegistry } from '../route.js';

const loginBody = z.object({ email: emailSchema, password: z.string().min(1).max(1024) }).strict();
const setupBody = z
  .object({
    token: z.string().min(1),
    email: emailSchema,
    password: passwordSchema,
    org: slugSchema,
  })
  .strict();
const acceptBody = z.object({ token: z.string().min(1), password: passwordSchema }).strict();

/** Sign-in, sign-out, whoami, first-run setup and invitation acceptance. */
export function registerAuthRoutes(
  app: FastifyInstance,
  registry: RouteRegistry,
  s: Services,
): void {
  addRoute(
    app,
    registry,
    {
      method: 'POST',
      url: '/api/v1/auth/login',
      summary: 'Sign in with e-mail and password',
      tag: 'auth',
      auth: false,
      body: loginBody,
    },
    async ({ ctx, body, request, reply }) => {
      const session = await s.auth.login(ctx, body.email, body.password);
      void reply.header('set-cookie', sessionCookie(request, session.token, session.expiresAt));
      return session;
    },
  );
  addRoute(
    app,
    registry,
    {
      method: 'POST',
      url: '/api/v1/auth/logout',
      summary: 'Revoke the current session',
      tag: 'auth',
      status: 204,
    },
    async ({ ctx, request, reply }) => {
      await s.auth.logout(ctx);
      void reply.header('set-cookie', clearedSessionCookie(request));
    },
  );
  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/auth/whoami',
      summary: 'Who the credential belongs to',
      tag: 'auth',
    },
    ({ ctx }) => s.auth.whoami(ctx),
  );
  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/setup',
      summary: 'Whether first-run setup is open',
      tag: 'auth',
      auth: false,
    },
    async () => ({ open: await s.auth.setupOpen() }),
  );
  addRoute(
    app,
    registry,
    {
      method: 'POST',
      url: '/api/v1/setup',
      summary: 'First-run setup with the one-time token the server printed',
      tag: 'auth',
      auth: false,
      body: setupBody,
      status: 201,
    },
    async ({ ctx, body, request, reply }) => {
      const session = await s.setup.completeSetup(ctx, body);
      void reply.header('set-cookie', sessionCookie(request, session.token, session.expiresAt));
      return session;
    },
  );
  addRoute(
    app,
    registry,
    {
      method: 'POST',
      url: '/api/v1/invitations/accept',
      summary: 'Accept an invitation (creates or joins the account) and sign in',
      tag: 'members',
      auth: false,
      body: acceptBody,
      status: 201,
    },
    async ({ ctx, body, request, reply }) => {
      const session = await s.members.accept(ctx, body.token, body.password);
      void reply.header('set-cookie', sessionCookie(request, session.token, session.expiresAt));
      return session;
    },
  );
}
