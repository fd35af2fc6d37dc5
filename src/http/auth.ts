import type { FastifyRequest } from 'fastify';

import type { AuthService } from '../domain/accounts/auth-service.js';
import type { Actor, RequestContext, Tool } from '../domain/context.js';
import { hushError } from '../errors.js';

export const SESSION_COOKIE = 'hush_session';

declare module 'fastify' {
  interface FastifyInstance {
    authService: AuthService;
  }
}

/** The bearer credential of a request: Authorization header first, then the session cookie. */
export function presentedToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim();
  const cookies = request.headers.cookie;
  if (!cookies) return undefined;
  for (const part of cookies.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === SESSION_COOKIE) return decodeURIComponent(rest.join('='));
  }
  return undefined;
}

function toolOf(request: FastifyRequest): Tool {
  const header = request.headers['x-hush-tool'];
  return header === 'cli' || header === 'console' ? header : 'api';
}

/**
 * Builds the request context. With `required`, a missing or dead credential is a 401
 * (UNAUTHENTICATED); the actor is looked up on every request so revocation is immediate.
 */
export async function requestContext(
  request: FastifyRequest,
  required: boolean,
): Promise<RequestContext> {
  const token = presentedToken(request);
  let actor: Actor = { kind: 'anonymous' };
  if (token) {
    const found = await request.server.authService.authenticate(token);
    if (!found && required) {
      throw hushError(
        'SESSION_EXPIRED',
        'the session or token is expired, revoked or unknown; sign in again',
      );
    }
    if (found) actor = found;
  }
  if (required && actor.kind === 'anonymous') {
    throw hushError('UNAUTHENTICATED', 'sign in first (hush login) or send a bearer token');
  }
  return { actor, tool: toolOf(request), ip: request.ip, requestId: request.id };
}

/** The Set-Cookie value for a console session. */
export function sessionCookie(token: string, expiresAt: string): string {
  return `${SESSION_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict; Expires=${new Date(expiresAt).toUTCString()}`;
}

/** The Set-Cookie value that clears the session cookie. */
export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
}
