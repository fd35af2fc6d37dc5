import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import type { Services } from '../../app.js';
import { MAX_SETTINGS, parsePgServiceConf } from '../../domain/secrets/pgservice.js';
import type { SecretInput, SecretRotation } from '../../domain/secrets/secret-values.js';
import { emailLookupSchema } from '../../domain/validation.js';
import { addRoute, isCanonicalBase64, type RouteRegistry } from '../route.js';
import { idRefParam } from './job-routes.js';

const orgParams = z.object({ org: z.string() });
const idParams = orgParams.extend({ id: idRefParam });
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

const expand = z
  .boolean()
  .optional()
  .describe(
    'whether ${NAME}, ${org.NAME} and ${project.env.NAME} in the value are references (env: default true; file: default false)',
  );
const exportEnv = z
  .boolean()
  .optional()
  .describe('jobs also get HUSH_PG_<NAME>_HOST, _PORT, _DBNAME, _USER, _PASSWORD, _SSLMODE, _URL');

const secretBody = z.discriminatedUnion('kind', [
  z
    .object({ kind: z.literal('env'), name: z.string(), value: z.string(), sensitivity, expand })
    .strict(),
  z
    .object({
      kind: z.literal('file'),
      name: z.string(),
      fileName: z.string(),
      contentBase64: base64,
      sensitivity,
      expand,
    })
    .strict(),
  z.object({ kind: z.literal('pgservice'), name: z.string(), settings, exportEnv }).strict(),
  z
    .object({ kind: z.literal('pgservice-conf'), text: z.string().max(1024 * 1024), exportEnv })
    .strict(),
  z
    .object({
      kind: z.literal('alias'),
      name: z.string(),
      target: z.string().describe('the name it stands for, in the reading context'),
    })
    .strict(),
]);

const addBody = z
  .object({
    project: z.string().optional(),
    env: z.string().optional(),
    service: z.string().optional(),
    assignee: emailLookupSchema.optional(),
    secret: secretBody,
  })
  .strict();

// A pgservice rotation changes some settings (set, unset) and keeps the rest, or with
// replace: true gives the whole connection in settings. A bare settings object is refused rather
// than guessed at: read as a whole connection, a password alone would wipe host, dbname and user.
const pgRotateBody = z
  .object({
    kind: z.literal('pgservice'),
    set: settings.optional().describe('settings to add or change; every other one is kept'),
    unset: z.array(z.string()).max(MAX_SETTINGS).optional().describe('settings to remove'),
    replace: z.boolean().optional().describe('true: settings is the whole new connection'),
    settings: settings.optional().describe('with replace: true, every setting of the service'),
  })
  .strict()
  .superRefine((body, ctx) => {
    const issue = (path: string, message: string) =>
      ctx.addIssue({ code: 'custom', path: [path], message });
    if (body.replace) {
      if (body.settings === undefined) issue('settings', 'replace: true takes every setting here');
      if (body.set !== undefined) issue('set', 'is for a partial rotation, not with replace');
      if (body.unset !== undefined) issue('unset', 'is for a partial rotation, not with replace');
    } else if (body.settings !== undefined) {
      issue(
        'settings',
        'a rotation keeps the settings it is not given: put changes in set (and unset), or add replace: true to give the whole connection',
      );
    }
  });

const rotateBody = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('env'), value: z.string(), expand }).strict(),
  z.object({ kind: z.literal('file'), contentBase64: base64, expand }).strict(),
  pgRotateBody,
  z.object({ kind: z.literal('alias'), target: z.string() }).strict(),
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
          expand: body.expand,
        },
      ];
    case 'pgservice':
    case 'alias':
      return [body];
    case 'pgservice-conf':
      return parsePgServiceConf(body.text).map((e) => ({
        kind: 'pgservice',
        name: e.name,
        settings: e.settings,
        exportEnv: body.exportEnv,
      }));
  }
}

function toRotation(body: z.output<typeof rotateBody>): SecretRotation {
  switch (body.kind) {
    case 'env':
      return { mode: 'replace', value: { kind: 'env', value: body.value }, expand: body.expand };
    case 'file':
      return {
        mode: 'replace',
        value: { kind: 'file', content: Buffer.from(body.contentBase64, 'base64') },
        expand: body.expand,
      };
    case 'alias':
      return { mode: 'replace', value: body };
    case 'pgservice':
      return body.replace
        ? { mode: 'replace', value: { kind: 'pgservice', settings: body.settings ?? {} } }
        : { mode: 'patch', patch: { set: body.set ?? {}, unset: body.unset ?? [] } };
  }
}

/** Secrets: add (one, or several from pg_service.conf text), list per level, pgservice settings, rotate, history, rollback, remove, resolve. */
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
          member: emailLookupSchema.optional(),
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
      method: 'GET',
      url: '/api/v1/orgs/:org/secrets/:id/settings',
      summary:
        "A pgservice secret's current settings without the password (withheld names the write-only ones that are set)",
      tag: 'secrets',
      params: idParams,
    },
    ({ ctx, params }) => s.secrets.settings(ctx, params.org, params.id),
  );
  addRoute(
    app,
    registry,
    {
      method: 'POST',
      url: '/api/v1/orgs/:org/secrets/:id/rotate',
      summary:
        'Store a new version: env and file the whole value; pgservice set/unset some settings and keep the rest, or replace: true with every setting (the answer names the changed settings)',
      tag: 'secrets',
      params: idParams,
      body: rotateBody,
    },
    ({ ctx, params, body }) => s.secrets.rotate(ctx, params.org, params.id, toRotation(body)),
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
      method: 'PATCH',
      url: '/api/v1/orgs/:org/secrets/:id',
      summary:
        "Change a secret's settings: exportEnv (a pg service's HUSH_PG_<NAME>_* variables for jobs)",
      tag: 'secrets',
      params: idParams,
      body: z
        .object({
          exportEnv: z
            .boolean()
            .describe('jobs also get the pg service’s HUSH_PG_<NAME>_* variables'),
        })
        .strict(),
    },
    ({ ctx, params, body }) => s.secrets.setExport(ctx, params.org, params.id, body.exportEnv),
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
