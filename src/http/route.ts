import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';

import type { RequestContext } from '../domain/context.js';
import { HushError } from '../errors.js';
import { requestContext, SESSION_COOKIE } from './auth.js';

/** One REST route: its schemas feed both validation and the OpenAPI document. */
export interface RouteSpec<P, Q, B> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  summary: string;
  tag: string;
  /** Whether a credential is required (default true). */
  auth?: boolean;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /** Status of a successful answer (default 200; 204 sends no body). */
  status?: number;
  /** The route checks a password or setup token: the per-address sign-in limit applies. */
  signIn?: boolean;
}

export interface RouteInput<P, Q, B> {
  ctx: RequestContext;
  params: P;
  query: Q;
  body: B;
  request: FastifyRequest;
  reply: FastifyReply;
}

/** Routes registered so far, for the OpenAPI document. */
export type RouteRegistry = RouteSpec<unknown, unknown, unknown>[];

/** Turns zod issues into one VALIDATION_FAILED naming every bad field. */
export function validationError(where: string, error: z.ZodError): HushError {
  const fields = error.issues.map((issue) => ({
    field: [where, ...issue.path.map(String)].filter(Boolean).join('.'),
    message: issue.message,
  }));
  return fieldsError(fields);
}

function fieldsError(fields: { field: string; message: string }[]): HushError {
  const summary = fields.map((f) => `${f.field}: ${f.message}`).join('; ');
  return new HushError('VALIDATION_FAILED', summary, { fields });
}

/** A UTF-16 surrogate that is not half of a pair (with `u` a pair is one code point): no UTF-8. */
const LONE_SURROGATE = /[\ud800-\udfff]/u;

/** Why a string may not enter Hush at all, or undefined when it may. */
function unsafeText(text: string): string | undefined {
  // PostgreSQL text cannot hold NUL (22021) and SQLite would store it; neither is ever meant.
  if (text.includes('\u0000')) return 'must not contain NUL (U+0000)';
  if (LONE_SURROGATE.test(text)) return 'must not contain a lone UTF-16 surrogate';
  return undefined;
}

/** Canonical, padded base64: what `Buffer#toString('base64')` writes. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Whether a string is base64 that decodes to bytes and encodes back to itself: padded to a
 * multiple of 4, no other characters, no stray bits in the last character (`Buffer.from` would
 * silently drop them, and anything else it does not understand).
 */
export function isCanonicalBase64(text: string): boolean {
  return BASE64.test(text) && Buffer.from(text, 'base64').toString('base64') === text;
}

/** A field name as an error shows it: control characters and lone surrogates escaped. */
function printable(name: string): string {
  return name.replace(
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001f\u007f-\u009f\ud800-\udfff]/gu,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** The path to a value inside a request part, as a linked list (a deep body stays linear). */
interface Path {
  parent: Path | undefined;
  key: string;
}

/** The longest field name an answer shows (a deep or long-keyed body must not echo itself). */
const MAX_FIELD_CHARS = 200;

function fieldOf(where: string, path: Path | undefined): string {
  const keys: string[] = [];
  for (let p = path; p; p = p.parent) keys.push(p.key);
  const field = printable([where, ...keys.reverse()].filter(Boolean).join('.'));
  const chars = Array.from(field); // by code point: a cut never splits a surrogate pair
  return chars.length > MAX_FIELD_CHARS ? `${chars.slice(0, MAX_FIELD_CHARS).join('')}…` : field;
}

/** Enough to name what is wrong without an answer as large as the request. */
const MAX_REPORTED = 20;

/**
 * The edge rule for every string a request carries as data, before zod and before any handler
 * or database sees it: params, query and body, recursively, object keys included. A NUL or a
 * lone surrogate is refused wherever it is.
 * Iterative, so a deeply nested JSON body cannot overflow the stack.
 */
function inputProblems(where: string, value: unknown): { field: string; message: string }[] {
  const problems: { field: string; message: string }[] = [];
  const stack: { path: Path | undefined; value: unknown }[] = [{ path: undefined, value }];
  while (stack.length > 0 && problems.length < MAX_REPORTED) {
    const { path, value: v } = stack.pop()!;
    if (typeof v === 'string') {
      const unsafe = unsafeText(v);
      if (unsafe) problems.push({ field: fieldOf(where, path), message: unsafe });
    } else if (typeof v === 'object' && v !== null) {
      const entries: [string, unknown][] = Array.isArray(v)
        ? v.map((item, i) => [String(i), item])
        : Object.entries(v);
      // Pushed last to first, so values are visited in document order.
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, item] = entries[i]!;
        const child: Path = { parent: path, key };
        const unsafe = unsafeText(key);
        if (!unsafe) stack.push({ path: child, value: item });
        else if (problems.length < MAX_REPORTED)
          problems.push({ field: fieldOf(where, child), message: `its name ${unsafe}` });
      }
    }
  }
  return problems;
}

/** Refuses the request when any of its params, query or body breaks the edge rule. */
function refuseUnsafeInput(request: FastifyRequest): void {
  const problems = [
    ...inputProblems('params', request.params),
    ...inputProblems('query', request.query),
    ...inputProblems('', request.body),
  ];
  if (problems.length > 0) throw fieldsError(problems.slice(0, MAX_REPORTED));
}

/** What a Hush token is made of (visible ASCII); anything else cannot be one. */
const TOKEN_TEXT = /^[\x21-\x7e]*$/;

function tokenLike(text: string | undefined): boolean {
  return text !== undefined && TOKEN_TEXT.test(text);
}

function decoded(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/**
 * The request as authentication sees it: a bearer token or session cookie that cannot be a
 * token (a NUL, a control character, a lone surrogate, percent-encoding that does not decode)
 * is presented as an empty credential, so it is an unknown one without a lookup (401 where a
 * credential is required, anonymous elsewhere) rather than a 500 or a query with a NUL.
 */
function withSaneCredential(request: FastifyRequest): FastifyRequest {
  const { authorization, cookie } = request.headers;
  const saneAuthorization =
    authorization?.startsWith('Bearer ') && !tokenLike(authorization.slice(7).trim())
      ? 'Bearer '
      : authorization;
  const saneCookie = cookie
    ?.split(';')
    .map((part) => {
      const [name, ...rest] = part.trim().split('=');
      if (name !== SESSION_COOKIE || tokenLike(decoded(rest.join('=')))) return part;
      return `${SESSION_COOKIE}=`;
    })
    .join(';');
  if (saneAuthorization === authorization && saneCookie === cookie) return request;
  const headers = { ...request.headers, authorization: saneAuthorization, cookie: saneCookie };
  return Object.create(request, { headers: { value: headers } }) as FastifyRequest;
}

function parse<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T {
  if (!schema) return undefined as T;
  const result = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (!result.success) throw validationError(where === 'body' ? '' : where, result.error);
  return result.data;
}

/**
 * Registers a route: authenticate, refuse unsafe input (NUL, lone surrogates, non-canonical
 * base64; see {@link inputProblems}), validate params/query/body with zod, run the handler.
 */
export function addRoute<P = undefined, Q = undefined, B = undefined>(
  app: FastifyInstance,
  registry: RouteRegistry,
  spec: RouteSpec<P, Q, B>,
  handler: (input: RouteInput<P, Q, B>) => Promise<unknown>,
): void {
  registry.push(spec);
  app.route({
    method: spec.method,
    url: spec.url,
    ...(spec.signIn && { config: { rateLimit: app.signInRateLimit } }),
    handler: async (request, reply) => {
      const ctx = await requestContext(withSaneCredential(request), spec.auth ?? true);
      refuseUnsafeInput(request);
      const params = parse(spec.params, request.params, 'params');
      const query = parse(spec.query, request.query, 'query');
      const body = parse(spec.body, request.body, 'body');
      const result = await handler({ ctx, params, query, body, request, reply });
      if (reply.sent) return reply;
      const status = spec.status ?? 200;
      reply.code(status);
      return status === 204 ? reply.send() : reply.send(result);
    },
  });
}
