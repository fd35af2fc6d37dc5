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

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Whether a browser says the request comes from a page of this origin: `Sec-Fetch-Site:
 * same-origin`, or (a browser without Fetch Metadata) an `Origin` equal to ours. A request that
 * says neither is not taken as same-origin.
 */
function fromSameOrigin(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin';
  const origin = request.headers.origin;
  return origin !== undefined && origin === `${request.protocol}://${request.host}`;
}

/** Whether a browser says the request comes from another origin (a page we did not serve). */
function fromOtherOrigin(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined) return site !== 'same-origin' && site !== 'none';
  const origin = request.headers.origin;
  return origin !== undefined && origin !== `${request.protocol}://${request.host}`;
}

/**
 * The CSRF rule, before anything else of a state-changing request: one the session cookie
 * authenticates must come from the console, a same-origin page (see {@link fromSameOrigin})
 * that sends the console's own `X-Hush-Tool: console` header, which a cross-origin page
 * cannot set without a CORS preflight Hush never grants; body or not, JSON or not. Sign-in
 * requests (no credential yet) from another origin's page are refused too, so no page can sign
 * a browser in to an account of its choosing. Bearer-token requests carry no ambient
 * credential and are unaffected.
 */
function refuseCrossSiteRequest(
  request: FastifyRequest,
  /** How the request was authenticated; undefined when it was not. */
  via: 'header' | 'cookie' | undefined,
): void {
  if (SAFE_METHODS.has(request.method) || via === 'header') return;
  const refused =
    via === 'cookie'
      ? !fromSameOrigin(request) || request.headers['x-hush-tool'] !== 'console'
      : fromOtherOrigin(request);
  if (refused) {
    throw hushError(
      'CSRF_REJECTED',
      'a request signed in by the session cookie must come from the Hush console; scripts and the CLI send a bearer token',
    );
  }
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
  refuseCrossSiteRequest(request, actor.kind === 'anonymous' ? undefined : credential?.via);
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
