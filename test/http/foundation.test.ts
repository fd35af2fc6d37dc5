import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bootstrapOwner, OWNER, startTestServer, type TestServer } from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';

describe.each(DIALECTS)('a new user on %s', (dialect) => {
  let t: TestServer;
  let token: string;

  beforeAll(async () => {
    t = await startTestServer(dialect);
    token = await bootstrapOwner(t);
  });
  afterAll(() => t.close());

  async function count(table: 'projects' | 'environments' | 'services' | 'organizations') {
    const row = await t.app.database.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  it('creates an organization, a project, a production environment and a service, and lists them', async () => {
    const org = await t.call('POST', '/api/v1/orgs', { token, body: { slug: 'ninja-corp' } });
    expect(org.status).toBe(201);
    expect(org.body).toMatchObject({ slug: 'ninja-corp', id: expect.any(String) });

    const project = await t.call('POST', '/api/v1/orgs/ninja-corp/projects', {
      token,
      body: { slug: 'maps' },
    });
    expect(project.status).toBe(201);
    const env = await t.call('POST', '/api/v1/orgs/ninja-corp/projects/maps/environments', {
      token,
      body: { slug: 'prod', type: 'production' },
    });
    expect(env.status).toBe(201);
    expect(env.body).toMatchObject({ slug: 'prod', type: 'production' });
    const service = await t.call('POST', '/api/v1/orgs/ninja-corp/projects/maps/services', {
      token,
      body: { name: 'sync', environment: 'prod', command: 'echo hi', timeout: '10m' },
    });
    expect(service.status).toBe(201);
    expect(service.body).toMatchObject({ name: 'sync', environment: 'prod', timeoutSeconds: 600 });

    const orgs = await t.call('GET', '/api/v1/orgs', { token });
    expect((orgs.body as { slug: string }[]).map((o) => o.slug).sort()).toEqual([
      'acme',
      'ninja-corp',
    ]);
    const projects = await t.call('GET', '/api/v1/orgs/ninja-corp/projects', { token });
    expect(projects.body).toEqual([
      expect.objectContaining({ slug: 'maps', id: expect.any(String) }),
    ]);
    const services = await t.call('GET', '/api/v1/orgs/ninja-corp/projects/maps/services', {
      token,
    });
    expect(services.body).toEqual([expect.objectContaining({ name: 'sync', environment: 'prod' })]);
  });

  it('audits every call with an intact chain', async () => {
    const page = await t.call('GET', '/api/v1/orgs/ninja-corp/audit?limit=100', { token });
    expect(page.status).toBe(200);
    const events = (
      page.body as {
        events: { eventType: string; targetType: string; actor: string; tool: string }[];
      }
    ).events;
    expect(events.map((e) => `${e.eventType} ${e.targetType}`).reverse()).toEqual([
      'CREATE organization',
      'CREATE project',
      'CREATE environment',
      'CREATE service',
    ]);
    expect(events.every((e) => e.actor === OWNER.email && e.tool === 'api')).toBe(true);
    const verify = await t.call('GET', '/api/v1/orgs/ninja-corp/audit/verify', { token });
    expect(verify.body).toMatchObject({ ok: true, checked: 4 });
  });

  it('refuses a wrong password with 401 and audits LOGIN_FAILED', async () => {
    const res = await t.call('POST', '/api/v1/auth/login', {
      body: { email: OWNER.email, password: 'wrong password' },
    });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('INVALID_CREDENTIALS');
    const page = await t.call('GET', '/api/v1/orgs/acme/audit?eventType=LOGIN_FAILED', { token });
    expect(page.body.events).toHaveLength(1);
    expect(page.body.events[0]).toMatchObject({
      targetName: OWNER.email,
      eventType: 'LOGIN_FAILED',
    });
    expect(JSON.stringify(page.body)).not.toContain('wrong password');
  });

  it.each([
    [
      'a bad slug',
      'POST',
      '/api/v1/orgs/ninja-corp/projects',
      { slug: 'Bad Slug!' },
      400,
      'VALIDATION_FAILED',
    ],
    [
      'a duplicate slug',
      'POST',
      '/api/v1/orgs/ninja-corp/projects',
      { slug: 'maps' },
      409,
      'NAME_TAKEN',
    ],
    [
      'an unknown field',
      'POST',
      '/api/v1/orgs/ninja-corp/projects',
      { slug: 'other', colour: 'red' },
      400,
      'VALIDATION_FAILED',
    ],
    [
      'an unknown environment type',
      'POST',
      '/api/v1/orgs/ninja-corp/projects/maps/environments',
      { slug: 'x1', type: 'qa' },
      400,
      'VALIDATION_FAILED',
    ],
    [
      'a duplicate environment',
      'POST',
      '/api/v1/orgs/ninja-corp/projects/maps/environments',
      { slug: 'prod', type: 'staging' },
      409,
      'NAME_TAKEN',
    ],
    [
      'a service in an unknown environment',
      'POST',
      '/api/v1/orgs/ninja-corp/projects/maps/services',
      { name: 'job2', environment: 'nope', command: 'true' },
      404,
      'ENVIRONMENT_NOT_FOUND',
    ],
    [
      'a bad timeout',
      'POST',
      '/api/v1/orgs/ninja-corp/projects/maps/services',
      { name: 'job3', command: 'true', timeout: 'soon' },
      400,
      'VALIDATION_FAILED',
    ],
    ['a duplicate organization', 'POST', '/api/v1/orgs', { slug: 'acme' }, 409, 'NAME_TAKEN'],
  ])(
    'answers %s with %i %s and writes nothing',
    async (_label, method, url, body, status, code) => {
      const before = await Promise.all([
        count('organizations'),
        count('projects'),
        count('environments'),
        count('services'),
      ]);
      const res = await t.call(method, url, { token, body });
      expect(res.status).toBe(status);
      expect(res.body.error.code).toBe(code);
      expect(typeof res.body.error.message).toBe('string');
      const after = await Promise.all([
        count('organizations'),
        count('projects'),
        count('environments'),
        count('services'),
      ]);
      expect(after).toEqual(before);
    },
  );

  it('names the field of a validation error', async () => {
    const res = await t.call('POST', '/api/v1/orgs/ninja-corp/projects', {
      token,
      body: { slug: 'Bad Slug!' },
    });
    expect(res.body.error.details.fields).toEqual([{ field: 'slug', message: expect.any(String) }]);
  });

  it('answers malformed JSON with 400 INVALID_JSON', async () => {
    const res = await t.call('POST', '/api/v1/orgs', { token, rawBody: '{"slug": ' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_JSON');
  });

  it('answers an oversized body with 413 PAYLOAD_TOO_LARGE', async () => {
    const res = await t.call('POST', '/api/v1/orgs', {
      token,
      body: { slug: 'big', name: 'x'.repeat(3 * 1024 * 1024) },
    });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await count('organizations')).toBe(2);
  });

  it('answers an unknown route with 404 NOT_FOUND and no credential with 401', async () => {
    expect((await t.call('GET', '/api/v1/nope', { token })).body.error.code).toBe('NOT_FOUND');
    const res = await t.call('GET', '/api/v1/orgs');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHENTICATED');
  });

  it('hides organizations the caller does not belong to', async () => {
    const other = await t.call('POST', '/api/v1/invitations/accept', {
      body: { token: 'hush_inv_nope', password: 'whatever123' },
    });
    expect(other.status).toBe(404);
    const res = await t.call('GET', '/api/v1/orgs/does-not-exist', { token });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('ORGANIZATION_NOT_FOUND');
  });

  it('serves an OpenAPI document naming every route', async () => {
    const res = await t.call('GET', '/api/v1/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(Object.keys(res.body.paths)).toContain('/api/v1/orgs/{org}/projects');
    expect(res.body.paths['/api/v1/orgs/{org}/projects'].post.requestBody).toBeDefined();
  });

  it('deletes a service, an environment and a project, auditing each', async () => {
    expect(
      (await t.call('DELETE', '/api/v1/orgs/ninja-corp/projects/maps/services/sync', { token }))
        .status,
    ).toBe(204);
    expect(
      (await t.call('DELETE', '/api/v1/orgs/ninja-corp/projects/maps/environments/prod', { token }))
        .status,
    ).toBe(204);
    expect(
      (await t.call('DELETE', '/api/v1/orgs/ninja-corp/projects/maps', { token })).status,
    ).toBe(204);
    expect(await count('projects')).toBe(0);
    const page = await t.call('GET', '/api/v1/orgs/ninja-corp/audit?eventType=DELETE', { token });
    expect(page.body.events.map((e: { targetType: string }) => e.targetType)).toEqual([
      'project',
      'environment',
      'service',
    ]);
  });

  it('signs out: the session stops working on the next request', async () => {
    const res = await t.call('POST', '/api/v1/auth/login', {
      body: { email: OWNER.email, password: OWNER.password },
    });
    const session = res.body.token as string;
    expect((await t.call('GET', '/api/v1/auth/whoami', { token: session })).status).toBe(200);
    expect((await t.call('POST', '/api/v1/auth/logout', { token: session })).status).toBe(204);
    const after = await t.call('GET', '/api/v1/auth/whoami', { token: session });
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('SESSION_EXPIRED');
  });
});
