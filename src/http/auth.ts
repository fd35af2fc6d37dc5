import type { FastifyRequest } from 'fastify';

import type { HushConfig } from '../config.js';
import type { AuthService } from '../domain/accounts/auth-service.js';
import type { Actor, RequestContext, Tool } from '../domain/context.js';
import { hushError } from '../errors.js';

export const SESSION_COOKIE = 'hush_session';

declare module 'fastify' {
  interface FastifyInstance {
    authService: AuthService;
    /** The `cookieSecure` setting: when the session cookie carries `Secure`. */
    cookieSecure: HushConfig['cookieSecure'];
  }
}

/** The bearer credential of a request: Authorization header first, then the session cookie. */
function presentedCredential(
  request: FastifyRequest,
): { token: string; via: 'header' | 'cookie' } | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return { token: header.slice(7).trim(), via: 'header' };
  const cookies = request.headers.cookie;
  if (!cookies) return undefined;
  for (const part of cookies.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === SESSION_COOKIE)
      return { token: decodeURIComponent(rest.join('=')), via: 'cookie' };
  }
  return undefined;
}

/**
 * The tool the audit log names: what the client says (`X-Hush-Tool`), else `console` for a
 * request carrying the console's HttpOnly session cookie (a download link sets no header),
 * else `api`.
 */
function toolOf(request: FastifyRequest, via: 'header' | 'cookie' | undefined): Tool {
  const header = request.headers['x-hush-tool'];
  if (header === 'cli' || header === 'console') return header;
  return via === 'cookie' ? 'console' : 'api';
}

/**
 * Builds the request context. With `required`, a missing or dead credential is a 401
 * (UNAUTHENTICATED); the actor is looked up on every request so revocation is immediate.
 */
export async function requestContext(
  request: FastifyRequest,
  required: boolean,
): Promise<RequestContext> {
  const credential = presentedCredential(request);
  let actor: Actor = { kind: 'anonymous' };
  if (credential) {
    const found = await request.server.authService.authenticate(credential.token);
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
  return { actor, tool: toolOf(request, credential?.via), ip: request.ip, requestId: request.id };
}

/**
 * The attributes of the session cookie, the same when set and when cleared. `Secure` follows
 * `cookieSecure`: always, never, or (auto) when the request came over HTTPS, which behind a
 * trusted proxy (`trustProxy`) is what X-Forwarded-Proto says.
 */
function cookieAttributes(request: FastifyRequest): string {
  const mode = request.server.cookieSecure;
  const secure = mode === 'true' || (mode === 'auto' && request.protocol === 'https');
  return `Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

/** The Set-Cookie value for a console session. */
export function sessionCookie(request: FastifyRequest, token: string, expiresAt: string): string {
  return `${SESSION_COOKIE}=${encodeURIComponent(token)}; ${cookieAttributes(request)}; Expires=${new Date(expiresAt).toUTCString()}`;
}

/** The Set-Cookie value that clears the session cookie. */
export function clearedSessionCookie(request: FastifyRequest): string {
  return `${SESSION_COOKIE}=; ${cookieAttributes(request)}; Max-Age=0`;
}
