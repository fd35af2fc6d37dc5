import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import type { Services } from '../../app.js';
import { parsePgServiceConf } from '../../domain/secrets/pgservice.js';
import type { SecretInput, SecretValue } from '../../domain/secrets/secret-values.js';
import { emailSchema } from '../../domain/validation.js';
import { addRoute, isCanonicalBase64, type RouteRegistry } from '../route.js';

const orgParams = z.object({ org: z.string() });
const idParams = orgParams.extend({ id: z.string() });
const levelQuery = z
  .object({
    project: z.string().optional(),
    env: z.string().optional(),
    service: z.string().optional(),
  })
  .strict();
const sensitivity = z.enum(['secret', 'plain']).default('secret');
const settings = z.record(z.string(), z.string());
const base64 = z
  .string()
  .refine(
    isCanonicalBase64,
    'must be base64 (A-Z, a-z, 0-9, "+", "/"; padded with "=" to a multiple of 4)',
  );

const secretBody = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('env'), name: z.string(), value: z.string(), sensitivity }).strict(),
  z
    .object({
      kind: z.literal('file'),
      name: z.string(),
      fileName: z.string(),
      contentBase64: base64,
      sensitivity,
    })
    .strict(),
  z.object({ kind: z.literal('pgservice'), name: z.string(), settings }).strict(),
  z.object({ kind: z.literal('pgservice-conf'), text: z.string().max(1024 * 1024) }).strict(),
]);

const addBody = z
  .object({
    project: z.string().optional(),
    env: z.string().optional(),
    service: z.string().optional(),
    assignee: emailSchema.optional(),
    secret: secretBody,
  })
  .strict();

const valueBody = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('env'), value: z.string() }).strict(),
  z.object({ kind: z.literal('file'), contentBase64: base64 }).strict(),
  z.object({ kind: z.literal('pgservice'), settings }).strict(),
]);

function toInputs(body: z.output<typeof secretBody>): SecretInput[] {
  switch (body.kind) {
    case 'env':
      return [body];
    case 'file':
      return [
        {
          kind: 'file',
          name: body.name,
          fileName: body.fileName,
          content: Buffer.from(body.contentBase64, 'base64'),
          sensitivity: body.sensitivity,
        },
      ];
    case 'pgservice':
      return [body];
    case 'pgservice-conf':
      return parsePgServiceConf(body.text).map((e) => ({
        kind: 'pgservice',
        name: e.name,
        settings: e.settings,
      }));
  }
}

function toValue(body: z.output<typeof valueBody>): SecretValue {
  return body.kind === 'file'
    ? { kind: 'file', content: Buffer.from(body.contentBase64, 'base64') }
    : body;
}

/** Secrets: add (one, or several from pg_service.conf text), list per level, rotate, history, rollback, remove, resolve. */
export function registerSecretRoutes(
  app: FastifyInstance,
  registry: RouteRegistry,
  s: Services,
): void {
  addRoute(
    app,
    registry,
    {
      method: 'POST',
      url: '/api/v1/orgs/:org/secrets',
      summary:
        'Add a secret at a level (pgservice-conf: one per [section], all or none); returns the created secrets',
      tag: 'secrets',
      params: orgParams,
      body: addBody,
      status: 201,
    },
    ({ ctx, params, body }) =>
      s.secrets.add(ctx, params.org, body, toInputs(body.secret), body.assignee),
  );
  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/orgs/:org/secrets',
      summary: 'Secrets at one level (no project: organization level); values only for plain ones',
      tag: 'secrets',
      params: orgParams,
      query: levelQuery,
    },
    ({ ctx, params, query }) => s.secrets.list(ctx, params.org, query),
  );
  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/orgs/:org/secrets/resolve',
      summary: 'Explain the resolution of a context: winner and shadows per name, masked',
      tag: 'secrets',
      params: orgParams,
      query: z
        .object({
          project: z.string(),
          env: z.string().optional(),
          service: z.string().optional(),
          member: emailSchema.optional(),
        })
        .strict(),
    },
    ({ ctx, params, query }) => s.resolve.explain(ctx, params.org, query),
  );
  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/orgs/:org/secrets/:id',
      summary: "A secret's metadata and preview",
      tag: 'secrets',
      params: idParams,
    },
    ({ ctx, params }) => s.secrets.get(ctx, params.org, params.id),
  );
  addRoute(
    app,
    registry,
    {
      method: 'POST',
      url: '/api/v1/orgs/:org/secrets/:id/rotate',
      summary: 'Store a new version',
      tag: 'secrets',
      params: idParams,
      body: valueBody,
    },
    ({ ctx, params, body }) => s.secrets.rotate(ctx, params.org, params.id, toValue(body)),
  );
  addRoute(
    app,
    registry,
    {
      method: 'GET',
      url: '/api/v1/orgs/:org/secrets/:id/history',
      summary: 'Versions: who, when, which tool',
      tag: 'secrets',
      params: idParams,
    },
    ({ ctx, params }) => s.secrets.history(ctx, params.org, params.id),
  );
  addRoute(
    app,
    registry,
    {
      method: 'POST',
      url: '/api/v1/orgs/:org/secrets/:id/rollback',
      summary: 'Make version N current again, as a new version',
      tag: 'secrets',
      params: idParams,
      body: z.object({ version: z.number().int().min(1) }).strict(),
    },
    ({ ctx, params, body }) => s.secrets.rollback(ctx, params.org, params.id, body.version),
  );
  addRoute(
    app,
    registry,
    {
      method: 'DELETE',
      url: '/api/v1/orgs/:org/secrets/:id',
      summary: 'Remove a secret with its versions and ciphertexts',
      tag: 'secrets',
      params: idParams,
      status: 204,
    },
    ({ ctx, params }) => s.secrets.remove(ctx, params.org, params.id),
  );
}
