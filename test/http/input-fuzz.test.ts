import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  bootstrapOwner,
  type CallResult,
  login,
  OWNER,
  startTestServer,
  type TestServer,
} from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';

/**
 * Every REST route, as the OpenAPI document lists it, gets requests whose path params, query
 * and JSON body carry NUL, lone surrogates and C0/C1 control characters, sent as the Owner:
 * no answer may be a 5xx and the server may log no error. A NUL (anywhere) or a lone surrogate
 * (in JSON; in a URL it has no UTF-8 and Fastify refuses the URL) must be a 400.
 */

/** The characters under test; every fuzzed string holds at least one. */
const ODD = [
  '\u0000',
  '\ud800',
  '\udbff',
  '\udc00',
  '\udfff',
  '\u0001',
  '\u0008',
  '\t',
  '\n',
  '\r',
  '\u001b',
  '\u001f',
  '\u007f',
  '\u0080',
  '\u0085',
  '\u009b',
  '\u009f',
  '\u00a0',
  '\u2028',
  '\ufeff',
  '\uffff',
];
const PLAIN = [...'aZ09-_.@ /+=%&?#', 'é', '\ud83d\ude00'];
const odd = fc.constantFrom(...ODD);
const someChars = fc
  .array(fc.oneof(fc.constantFrom(...PLAIN), odd), { maxLength: 3 })
  .map((a) => a.join(''));
const fuzzText = fc.tuple(someChars, odd, someChars).map(([a, b, c]) => a + b + c);

const RUNS_PER_ROUTE = 5;
const CREDENTIAL_RUNS_PER_ROUTE = 1;

const hasNul = (s: string) => s.includes('\u0000');
const hasLoneSurrogate = (s: string) => /[\ud800-\udfff]/u.test(s);
const unsafe = (s: string) => hasNul(s) || hasLoneSurrogate(s);

/** Every string in a JSON value, object keys included. */
function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => [k, ...stringsOf(v)]);
  return [];
}

/**
 * Percent-encoding as an attacker writes it: UTF-8, and for a lone surrogate the three bytes
 * it would have (WTF-8), which is not UTF-8 and which `encodeURIComponent` refuses to write.
 */
function encode(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff) {
      for (const byte of [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)])
        out += `%${byte.toString(16).toUpperCase()}`;
    } else out += encodeURIComponent(ch);
  }
  return out;
}

/** A JSON Schema as zod writes it, as far as the request bodies use it. */
interface Schema {
  type?: string;
  const?: unknown;
  enum?: unknown[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: Schema | boolean;
  items?: Schema;
  format?: string;
  minimum?: number;
  maximum?: number;
}

/** A value that would pass the schema where it can (enums, formats), a plain one elsewhere. */
function sampleString(schema: Schema): string {
  if (schema.format === 'email') return 'fuzz@example.com';
  if (schema.format === 'date-time') return '2026-01-01T00:00:00.000Z';
  return 'fz-sample';
}

/** Values for a schema whose strings are fuzzed or sampled; objects may get a fuzzed key. */
function valueOf(schema: Schema): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.oneof(fc.constantFrom(...schema.enum), fuzzText);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map(valueOf));
  switch (schema.type) {
    case 'string':
      return fc.oneof({ weight: 3, arbitrary: fuzzText }, fc.constant(sampleString(schema)));
    case 'integer':
    case 'number':
      return fc.integer({ min: schema.minimum ?? -1, max: Math.min(schema.maximum ?? 100, 100) });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(valueOf(schema.items ?? {}), { maxLength: 2 });
    case 'object': {
      const props = Object.entries(schema.properties ?? {});
      const required = new Set(schema.required ?? []);
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [name, prop] of props) {
        record[name] = required.has(name)
          ? valueOf(prop)
          : fc.option(valueOf(prop), { nil: undefined });
      }
      const extra =
        typeof schema.additionalProperties === 'object'
          ? fc.dictionary(fuzzText, valueOf(schema.additionalProperties), { maxKeys: 2 })
          : fc.option(fc.dictionary(fuzzText, fuzzText, { minKeys: 1, maxKeys: 1 }), {
              nil: undefined,
              freq: 4,
            });
      return fc.tuple(fc.record(record), extra).map(([fields, more]) => {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v;
        return { ...out, ...more };
      });
    }
    default:
      return fuzzText;
  }
}

interface Operation {
  method: string;
  path: string;
  auth: boolean;
  params: { name: string; in: 'path' | 'query'; required: boolean; schema: Schema }[];
  body: Schema | undefined;
}

/** A known good value for each path parameter, so the other inputs reach the handler. */
const GOOD: Record<string, string> = {
  org: OWNER.org,
  project: 'maps',
  env: 'prod',
  service: 'sync',
  email: 'nobody@example.com',
};

interface Case {
  url: string;
  body: unknown;
  headers: Record<string, string>;
  /** Why the case must be a 400, if it must. */
  expect400?: 'bad-url' | 'validation';
}

function casesFor(op: Operation): fc.Arbitrary<Case> {
  const pathParams = op.params.filter((p) => p.in === 'path');
  const queryParams = op.params.filter((p) => p.in === 'query');
  const pathValues = pathParams.map((p, i) =>
    // A DELETE always gets a fuzzed last parameter: the fuzz must not delete the organization.
    op.method === 'DELETE' && i === pathParams.length - 1
      ? fuzzText
      : fc.oneof(fuzzText, fc.constant(GOOD[p.name] ?? 'x')),
  );
  const queryValues = queryParams.map((p) => {
    const value = fc.oneof(
      fuzzText,
      p.schema.enum ? fc.constantFrom(...(p.schema.enum as string[])) : fc.constant('x'),
    );
    return p.required ? value : fc.option(value, { nil: undefined });
  });
  const extraQuery = fc.option(fc.tuple(fuzzText, fuzzText), { nil: undefined, freq: 4 });
  const body = op.body ? valueOf(op.body) : fc.constant(undefined);
  const tool = fc.option(fuzzText, { nil: undefined, freq: 3 });
  return fc
    .tuple(fc.tuple(...pathValues), fc.tuple(...queryValues), extraQuery, body, tool)
    .map(([path, query, extra, bodyValue, toolHeader]) => {
      let url = op.path;
      pathParams.forEach((p, i) => (url = url.replace(`{${p.name}}`, encode(path[i]!))));
      const pairs: [string, string][] = queryParams
        .map((p, i) => [p.name, query[i]] as [string, string | undefined])
        .filter((pair): pair is [string, string] => pair[1] !== undefined);
      if (extra) pairs.push(extra);
      if (pairs.length > 0)
        url += `?${pairs.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&')}`;
      const headers: Record<string, string> = {};
      if (toolHeader !== undefined) headers['x-hush-tool'] = toolHeader;
      const c: Case = { url, body: bodyValue, headers };
      if (path.some(hasLoneSurrogate)) c.expect400 = 'bad-url';
      else if (
        path.some(hasNul) ||
        // The query parser leaves a component it cannot decode (a lone surrogate's bytes)
        // as it came, "%00" included: no NUL reaches the server then.
        pairs.some((pair) => pair.some((s) => hasNul(s) && !hasLoneSurrogate(s))) ||
        stringsOf(bodyValue).some(unsafe)
      )
        c.expect400 = 'validation';
      return c;
    });
}

/** Counted over both dialects and printed once. */
const ran: Record<string, number> = {};

afterAll(() => {
  const total = Object.values(ran).reduce((a, b) => a + b, 0);
  console.log(`input fuzz: ${total} cases (${JSON.stringify(ran)})`);
});

describe.each(DIALECTS)('odd characters in every input of every route on %s', (dialect) => {
  let t: TestServer;
  let owner: string;
  let operations: Operation[];

  beforeAll(async () => {
    t = await startTestServer(dialect);
    owner = await bootstrapOwner(t);
    const P = `/api/v1/orgs/${OWNER.org}/projects`;
    await t.call('POST', P, { token: owner, body: { slug: 'maps' } });
    await t.call('POST', `${P}/maps/environments`, {
      token: owner,
      body: { slug: 'prod', type: 'production' },
    });
    await t.call('POST', `${P}/maps/services`, {
      token: owner,
      body: { name: 'sync', environment: 'prod', command: 'true' },
    });
    const doc = await t.call('GET', '/api/v1/openapi.json');
    operations = Object.entries(
      doc.body.paths as Record<string, Record<string, Record<string, any>>>, // eslint-disable-line @typescript-eslint/no-explicit-any
    ).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        auth: (op.security as unknown[]).length > 0,
        params: op.parameters as Operation['params'],
        body: op.requestBody?.content['application/json'].schema as Schema | undefined,
      })),
    );
  }, 60_000);
  afterAll(() => t.close());

  const errorLines = (from: number) =>
    t.logs
      .slice(from)
      .flatMap((chunk) => chunk.split('\n').filter(Boolean))
      .filter((line) => (JSON.parse(line) as { level: number }).level >= 50);

  /** Sends one case; checks the answer and that the server logged no error for it. */
  async function send(op: Operation, c: Case, token: string | undefined): Promise<CallResult> {
    ran[dialect] = (ran[dialect] ?? 0) + 1;
    const logsBefore = t.logs.length;
    const res = await t.call(op.method, c.url, {
      token,
      headers: c.headers,
      ...(c.body !== undefined ? { body: c.body } : {}),
    });
    const what = `${op.method} ${c.url} ${JSON.stringify(c.body)} ${JSON.stringify(c.headers)}`;
    expect(res.status, `${what} → ${res.text}`).toBeLessThan(500);
    expect(errorLines(logsBefore), what).toEqual([]);
    return res;
  }

  it('answers no 5xx, logs no error, and refuses NUL and lone surrogates with 400', async () => {
    expect(operations.length).toBeGreaterThanOrEqual(50);
    for (const op of operations) {
      await fc.assert(
        fc.asyncProperty(casesFor(op), async (c) => {
          const res = await send(op, c, owner);
          // Signing out ends the Owner's session: sign in again (before any check can fail, so
          // that a shrunk counterexample runs with a live session).
          if (op.path === '/api/v1/auth/logout' && res.status < 300)
            owner = await login(t, OWNER.email, OWNER.password);
          if (c.expect400) expect(res.status, `${op.method} ${c.url} → ${res.text}`).toBe(400);
          if (c.expect400 === 'validation') {
            expect(res.body.error.code).toBe('VALIDATION_FAILED');
            expect(res.body.error.details.fields.length).toBeGreaterThan(0);
          }
        }),
        { numRuns: RUNS_PER_ROUTE },
      );
    }
  }, 120_000);

  it('answers an odd character in the bearer token or session cookie with 401 where one is needed', async () => {
    for (const op of operations) {
      const badCredential = fc.tuple(fuzzText, fc.boolean()).map(([text, inCookie]) => {
        const headers: Record<string, string> = inCookie
          ? { cookie: `hush_session=${encode(owner + text)}` }
          : { authorization: `Bearer ${owner}${text}` };
        // The bearer token is trimmed (the HTTP parser strips the whitespace around a value).
        return { headers, stillGood: !inCookie && `${owner}${text}`.trim() === owner };
      });
      await fc.assert(
        fc.asyncProperty(casesFor(op), badCredential, async (c, credential) => {
          const headers = { ...c.headers, ...credential.headers };
          const res = await send(op, { ...c, headers }, undefined);
          // Authentication comes before the edge rule; only a URL Fastify refuses comes first.
          if (op.auth && c.expect400 !== 'bad-url' && !credential.stillGood)
            expect(res.status, `${op.method} ${c.url} ${JSON.stringify(headers)}`).toBe(401);
        }),
        { numRuns: CREDENTIAL_RUNS_PER_ROUTE },
      );
    }
  }, 60_000);

  it('answers no 5xx outside the REST routes either (console pages, assets, health, openapi)', async () => {
    const op: Operation = { method: 'GET', path: '', auth: false, params: [], body: undefined };
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/', '/orgs/', '/assets/', '/api/v1/health?x=', '/api/v1/openapi.json?'),
        fuzzText,
        async (prefix, text) => {
          await send(op, { url: `${prefix}${encode(text)}`, body: undefined, headers: {} }, owner);
        },
      ),
      { numRuns: 25 },
    );
  });

  it.runIf(dialect === 'sqlite')('stored no NUL in any text column', async () => {
    const db = t.app.database.db;
    const tables = await sql<{ name: string }>`
      select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(db);
    for (const { name } of tables.rows) {
      const columns = await sql<{ name: string; type: string }>`
        select name, type from pragma_table_info(${name})`.execute(db);
      for (const column of columns.rows.filter((c) => /text/i.test(c.type))) {
        const found = await sql<{ n: number }>`
          select count(*) as n from ${sql.table(name)}
          where instr(${sql.ref(column.name)}, char(0)) > 0`.execute(db);
        expect(Number(found.rows[0]!.n), `${name}.${column.name}`).toBe(0);
      }
    }
  });
});
