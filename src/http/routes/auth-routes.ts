import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import type { Services } from '../../app.js';
import {
  emailLookupSchema,
  emailSchema,
  passwordSchema,
  slugSchema,
} from '../../domain/validation.js';
import { invalid } from '../../errors.js';
import { clearedSessionCookie, sessionCookie } from '../auth.js';
import { addRoute, type RouteRegistry } from '../route.js';

// Normalized as accounts are stored, not refused: an account from before the invisible-character
// rule still signs in (and can be removed by its organization's Owner).
const loginBody = z
  .object({ email: emailLookupSchema, password: z.string().min(1).max(1024) })
  .strict();
const setupBody = z
  .object({
    token: z.string().min(1),
    email: emailSchema,
    password: passwordSchema,
    org: slugSchema,
  })
  .strict();
/** The header that carries an invitation token to GET /invitations/inspect. */
const INVITATION_HEADER = 'x-hush-invitation';
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
      signIn: true,
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
      signIn: true,
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
      method: 'GET',
      url: '/api/v1/invitations/inspect',
      signIn: true,
      summary: `What a pending invitation is for (organization, role, e-mail, expiry), given its token in the ${INVITATION_HEADER} header`,
      tag: 'members',
      auth: false,
    },
    ({ request }) => {
      // A header, not the path or query: the token stays out of URLs and request logs. A GET:
      // reading an invitation changes nothing, so it writes no audit event.
      const token = request.headers[INVITATION_HEADER];
      if (typeof token !== 'string' || token.length === 0) {
        throw invalid(INVITATION_HEADER, 'give the invitation token');
      }
      return s.members.inspect(token);
    },
  );
  addRoute(
    app,
    registry,
    {
      method: 'POST',
      url: '/api/v1/invitations/accept',
      signIn: true,
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
