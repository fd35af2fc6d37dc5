import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  bootstrapOwner,
  type CallResult,
  OWNER,
  startTestServer,
  type TestServer,
} from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';

const O = `/api/v1/orgs/${OWNER.org}`;
const S = `${O}/secrets`;

/** The tables a refused request must leave as they were (audit included: nothing happened). */
const TABLES = [
  'users',
  'organizations',
  'members',
  'invitations',
  'sessions',
  'apiTokens',
  'projects',
  'environments',
  'services',
  'secrets',
  'secretVersions',
  'auditEvents',
  'jobs',
  'customRoles',
] as const;

/** A 400 VALIDATION_FAILED naming `field` (among others, perhaps). */
function expectRefused(res: CallResult, field: string, message?: RegExp): void {
  expect(res.status, res.text).toBe(400);
  expect(res.body.error.code).toBe('VALIDATION_FAILED');
  const fields = res.body.error.details.fields as { field: string; message: string }[];
  const named = fields.find((f) => f.field === field);
  expect(named, `no field ${field} in ${res.text}`).toBeDefined();
  if (message) expect(named!.message).toMatch(message);
}

describe.each(DIALECTS)('NUL, lone surrogates and base64 at the edge on %s', (dialect) => {
  let t: TestServer;
  let owner: string;

  beforeAll(async () => {
    t = await startTestServer(dialect);
    owner = await bootstrapOwner(t);
    await t.call('POST', `${O}/projects`, { token: owner, body: { slug: 'maps' } });
    await t.call('POST', `${O}/projects/maps/environments`, {
      token: owner,
      body: { slug: 'prod', type: 'production' },
    });
  }, 60_000);
  afterAll(() => t.close());

  const counts = async () => {
    const out: Record<string, number> = {};
    for (const table of TABLES) {
      const row = await t.app.database.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      out[table] = Number(row.n);
    }
    return out;
  };
  /** Runs the requests and checks that none of them wrote a row anywhere. */
  const writesNothing = async (requests: () => Promise<void>) => {
    const before = await counts();
    await requests();
    expect(await counts()).toEqual(before);
  };
  const errorLogs = () =>
    t.logs.filter((line) => (JSON.parse(line) as { level: number }).level >= 50);

  it('refuses a NUL in the e-mail or password of the unauthenticated login with 400, not 500', async () => {
    await writesNothing(async () => {
      const login = (body: unknown) => t.call('POST', '/api/v1/auth/login', { body });
      expectRefused(
        await login({ email: 'owner\u0000@example.com', password: OWNER.password }),
        'email',
        /NUL/,
      );
      expectRefused(
        await login({ email: OWNER.email, password: `${OWNER.password}\u0000` }),
        'password',
      );
      expectRefused(
        await t.call('POST', '/api/v1/auth/login', {
          rawBody: `{"email":"${OWNER.email}","password":"x\\u0000y"}`,
        }),
        'password',
      );
      expectRefused(
        await login({ email: 'owner\ud800@example.com', password: 'x' }),
        'email',
        /surrogate/,
      );
    });
  });

  it('refuses a NUL in a path parameter, naming it', async () => {
    expectRefused(
      await t.call('GET', `/api/v1/orgs/${OWNER.org}%00/projects`, { token: owner }),
      'params.org',
      /NUL/,
    );
    await writesNothing(async () => {
      expectRefused(
        await t.call('POST', `${O}/projects/maps%00/environments`, {
          token: owner,
          body: { slug: 'staging', type: 'staging' },
        }),
        'params.project',
      );
      expectRefused(
        await t.call('DELETE', `${O}/projects/maps/environments/prod%00`, { token: owner }),
        'params.env',
      );
    });
    // A lone surrogate cannot even be written in a URL: its UTF-8 does not exist (Fastify's 400).
    const lone = await t.call('GET', `/api/v1/orgs/acme%ED%A0%80/projects`, { token: owner });
    expect(lone.status).toBe(400);
    const environments = await t.call('GET', `${O}/projects/maps/environments`, { token: owner });
    expect(environments.body.map((e: { slug: string }) => e.slug)).toEqual(['prod']);
  });

  it('refuses a NUL in a query value or a query name, naming it', async () => {
    expectRefused(
      await t.call('GET', `${S}?project=maps%00`, { token: owner }),
      'query.project',
      /NUL/,
    );
    expectRefused(await t.call('GET', `${S}?project=maps&env=%00`, { token: owner }), 'query.env');
    const named = await t.call('GET', `${S}?%00=1`, { token: owner });
    expectRefused(named, 'query.\\u0000', /name must not contain NUL/);
    // The name is shown escaped, never with the NUL itself.
    expect(named.body.error.message).not.toContain('\u0000');
  });

  it('refuses a NUL in a project slug or name and in an invitation e-mail; nothing is written', async () => {
    await writesNothing(async () => {
      const project = (body: unknown) => t.call('POST', `${O}/projects`, { token: owner, body });
      expectRefused(await project({ slug: 'x\u0000' }), 'slug', /NUL/);
      expectRefused(await project({ slug: 'xy', name: 'x\u0000' }), 'name', /NUL/);
      expectRefused(
        await t.call('POST', `${O}/projects`, { token: owner, rawBody: '{"slug":"xy\\u0000"}' }),
        'slug',
      );
      expectRefused(
        await t.call('POST', `${O}/invitations`, {
          token: owner,
          body: { email: 'a\u0000@b.test', role: 'viewer' },
        }),
        'email',
        /NUL/,
      );
      expectRefused(
        await t.call('PATCH', O, { token: owner, body: { name: 'Acme\u0000' } }),
        'name',
        /NUL/,
      );
    });
    const projects = await t.call('GET', `${O}/projects`, { token: owner });
    expect(projects.body.map((p: { slug: string }) => p.slug)).toEqual(['maps']);
    const invitations = await t.call('GET', `${O}/invitations`, { token: owner });
    expect(invitations.body).toEqual([]);
    const org = await t.call('GET', O, { token: owner });
    expect(org.body.name).toBe(OWNER.org);
  });

  it('refuses a NUL in a secret name or value, at any depth; nothing is written', async () => {
    await writesNothing(async () => {
      const add = (secret: unknown) =>
        t.call('POST', S, { token: owner, body: { project: 'maps', secret } });
      expectRefused(await add({ kind: 'env', name: 'API\u0000KEY', value: 'v' }), 'secret.name');
      expectRefused(await add({ kind: 'env', name: 'API_KEY', value: 'v\u0000' }), 'secret.value');
      expectRefused(
        await add({ kind: 'pgservice', name: 'db', settings: { host: 'h', password: 'p\u0000' } }),
        'secret.settings.password',
      );
      expectRefused(
        await add({ kind: 'pgservice', name: 'db', settings: { 'host\u0000': 'h' } }),
        'secret.settings.host\\u0000',
        /name must not contain NUL/,
      );
      expectRefused(
        await add({ kind: 'pgservice-conf', text: '[db]\nhost=h\u0000\n' }),
        'secret.text',
      );
      expectRefused(
        await t.call('POST', S, {
          token: owner,
          body: { project: 'maps\u0000', secret: { kind: 'env', name: 'A', value: 'v' } },
        }),
        'project',
      );
    });
    const list = await t.call('GET', `${S}?project=maps`, { token: owner });
    expect(list.status).toBe(200);
    expect(list.body).toEqual([]);
  });

  it('refuses lone surrogates ("\\ud800", "\\udc00") in JSON the same way, and keeps real pairs', async () => {
    await writesNothing(async () => {
      const raw = (url: string, rawBody: string) => t.call('POST', url, { token: owner, rawBody });
      expectRefused(
        await raw(`${O}/projects`, '{"slug":"xy","name":"x\\ud800"}'),
        'name',
        /surrogate/,
      );
      expectRefused(
        await raw(`${O}/projects`, '{"slug":"xy","name":"\\udc00x"}'),
        'name',
        /surrogate/,
      );
      // A low surrogate before a high one is no pair either.
      expectRefused(
        await raw(`${O}/projects`, '{"slug":"xy","name":"\\ude00\\ud83d"}'),
        'name',
        /surrogate/,
      );
      expectRefused(
        await raw(`${O}/invitations`, '{"email":"a\\ud800@b.test","role":"viewer"}'),
        'email',
      );
      expectRefused(
        await raw(S, '{"secret":{"kind":"env","name":"API_KEY","value":"v\\udfff"}}'),
        'secret.value',
      );
      expectRefused(
        await raw(S, '{"secret":{"kind":"env","name":"A","value":"v"},"\\ud800":1}'),
        '\\ud800',
      );
    });
    // A surrogate pair is an ordinary character (U+1F600) and is stored.
    const ok = await t.call('POST', S, {
      token: owner,
      rawBody: '{"secret":{"kind":"env","name":"EMOJI","value":"smile \\ud83d\\ude00 please"}}',
    });
    expect(ok.status, ok.text).toBe(201);
    const read = await t.call('GET', `${S}/${ok.body[0].id}`, { token: owner });
    expect(read.text).not.toContain('\\ud83d');
    await t.call('DELETE', `${S}/${ok.body[0].id}`, { token: owner });
  });

  it('walks a deeply nested body without overflowing the stack, and answers briefly', async () => {
    const depth = 50_000;
    const res = await t.call('POST', `${O}/projects`, {
      token: owner,
      rawBody: `${'['.repeat(depth)}"\\u0000"${']'.repeat(depth)}`,
    });
    expect(res.status, res.text.slice(0, 300)).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    // The field is named, cut short: the answer does not echo the request's size.
    expect(res.body.error.details.fields[0].field).toMatch(/^0\.0\.0\..*…$/);
    expect(res.text.length).toBeLessThan(2000);
    // Nor do twenty long keys make a large answer.
    const long = 'k'.repeat(50_000);
    const keys = Object.fromEntries(
      Array.from({ length: 30 }, (_, i) => [`${long}${i}\u0000`, 'v']),
    );
    const many = await t.call('POST', `${O}/projects`, { token: owner, body: keys });
    expect(many.status).toBe(400);
    expect(many.text.length).toBeLessThan(20_000);
  });

  it('answers a NUL in the bearer token or session cookie with 401, never 500', async () => {
    const whoami = (headers: Record<string, string>) =>
      t.call('GET', '/api/v1/auth/whoami', { headers });
    const broken: Record<string, string>[] = [
      { authorization: `Bearer ${owner}\u0000` },
      { authorization: `Bearer \u0000${owner}` },
      { authorization: 'Bearer \u0000' },
      { authorization: `Bearer ${owner.slice(0, 12)}\ud800` },
      { cookie: `hush_session=${owner}%00` },
      // Percent-encoding that does not decode (a truncated sequence, a lone surrogate's bytes).
      { cookie: 'hush_session=%E0%A4%A' },
      { cookie: 'theme=dark; hush_session=%ED%A0%80' },
    ];
    for (const headers of broken) {
      const res = await whoami(headers);
      expect(res.status, `${JSON.stringify(headers)}: ${res.text}`).toBe(401);
      expect(res.body.error.code).toMatch(/^(SESSION_EXPIRED|UNAUTHENTICATED)$/);
    }
    // Where no credential is needed a broken cookie is ignored like an unknown one: sign-in works.
    const login = await t.call('POST', '/api/v1/auth/login', {
      headers: { cookie: 'hush_session=%E0%A4%A' },
      body: { email: OWNER.email, password: OWNER.password },
    });
    expect(login.status, login.text).toBe(200);
    // A good credential next to a header the server only compares still works.
    const tool = await t.call('GET', '/api/v1/auth/whoami', {
      token: owner,
      headers: { 'x-hush-tool': 'cli\u0000' },
    });
    expect(tool.status).toBe(200);
  });

  it('accepts only canonical, padded base64 as a file secret content (contentBase64)', async () => {
    const add = (contentBase64: string) =>
      t.call('POST', S, {
        token: owner,
        body: {
          project: 'maps',
          secret: { kind: 'file', name: 'CERT', fileName: 'cert.pem', contentBase64 },
        },
      });
    await writesNothing(async () => {
      for (const bad of [
        'abc', // not a multiple of 4
        'YWJj=', // padding too long
        'YWI', // padding left out
        'YWJ=', // stray bits in the last character ("ab" is YWI=)
        'YW Jj', // a space
        'YWJj\n', // a newline
        'YW-j', // base64url
        'YW==Jj', // padding inside
        '====',
      ]) {
        expectRefused(await add(bad), 'secret.contentBase64', /base64/);
      }
    });
    const content = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const ok = await add(content.toString('base64'));
    expect(ok.status, ok.text).toBe(201);
    const id = ok.body[0].id as string;
    // Rotation takes the same field at the top level of its body.
    await writesNothing(async () => {
      const rotate = await t.call('POST', `${S}/${id}/rotate`, {
        token: owner,
        body: { kind: 'file', contentBase64: 'abc' },
      });
      expectRefused(rotate, 'contentBase64', /base64/);
    });
    const history = await t.call('GET', `${S}/${id}/history`, { token: owner });
    expect(history.body).toHaveLength(1);
  });

  it('logged no unexpected error for any of it', () => {
    expect(errorLogs()).toEqual([]);
  });
});
