import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';

import type { RequestContext } from '../domain/context.js';
import { HushError } from '../errors.js';
import { requestContext } from './auth.js';

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
  const summary = fields.map((f) => `${f.field}: ${f.message}`).join('; ');
  return new HushError('VALIDATION_FAILED', summary, { fields });
}

function parse<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T {
  if (!schema) return undefined as T;
  const result = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (!result.success) throw validationError(where === 'body' ? '' : where, result.error);
  return result.data;
}

/** Registers a route: authenticate, validate params/query/body with zod, run the handler. */
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
    handler: async (request, reply) => {
      const ctx = await requestContext(request, spec.auth ?? true);
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
