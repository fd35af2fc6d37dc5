import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  addMember,
  bootstrapOwner,
  OWNER,
  startTestServer,
  type TestServer,
} from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';

const S = `/api/v1/orgs/${OWNER.org}/secrets`;

describe.each(DIALECTS)('secrets through REST on %s', (dialect) => {
  let t: TestServer;
  let owner: string;
  let alice: string;

  beforeAll(async () => {
    // Alice, a DevOps member, creates an organization of her own below.
    t = await startTestServer(dialect, { HUSH_ORG_CREATION: 'anyone' });
    owner = await bootstrapOwner(t);
    alice = await addMember(t, owner, 'alice@example.com', 'devops');
    await addMember(t, owner, 'bob@example.com', 'devops');
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
  }, 60_000);
  afterAll(() => t.close());

  const add = (body: unknown, token = owner) => t.call('POST', S, { token, body });
  const count = async () => {
    const [a, b] = await Promise.all([
      t.app.database.db
        .selectFrom('secrets')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
      t.app.database.db
        .selectFrom('secretVersions')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
    ]);
    return [Number(a.n), Number(b.n)];
  };

  it('adds one secret of each kind at each level, with a masked preview and no value', async () => {
    const levels = [
      {},
      { project: 'maps' },
      { project: 'maps', env: 'prod' },
      { project: 'maps', service: 'sync' },
    ];
    for (const level of levels) {
      const env = await add({
        ...level,
        secret: { kind: 'env', name: 'API_KEY', value: 'sk_live_0123456789abcdef' },
      });
      expect(env.status, env.text).toBe(201);
      expect(env.body[0]).toMatchObject({
        name: 'API_KEY',
        kind: 'env',
        version: 1,
        preview: 'sk_…def',
        assignee: null,
      });
      expect(env.text).not.toContain('0123456789');
      const file = await add({
        ...level,
        secret: {
          kind: 'file',
          name: 'CERT',
          fileName: 'certs/ca.pem',
          contentBase64: Buffer.from('-----BEGIN-----').toString('base64'),
        },
      });
      expect(file.status, file.text).toBe(201);
      const pg = await add({
        ...level,
        secret: {
          kind: 'pgservice',
          name: 'ninja',
          settings: {
            host: 'db',
            port: '5432',
            dbname: 'gis',
            user: 'ninja_org',
            password: 'short',
          },
        },
      });
      expect(pg.status, pg.text).toBe(201);
      expect(pg.body[0]).toMatchObject({ kind: 'pgservice', sensitivity: 'secret', preview: null });
    }
    const list = await t.call('GET', `${S}?project=maps&service=sync`, { token: owner });
    expect(list.body.map((s: { name: string; level: string }) => `${s.level}:${s.name}`)).toEqual([
      'service:API_KEY',
      'service:CERT',
      'service:ninja',
    ]);
  });

  it('shows plain values to readers and never secret ones', async () => {
    const res = await add({
      project: 'maps',
      secret: { kind: 'env', name: 'LOG_LEVEL', value: 'debug', sensitivity: 'plain' },
    });
    expect(res.body[0].value).toBe('debug');
    const list = await t.call('GET', `${S}?project=maps`, { token: owner });
    const byName = Object.fromEntries(list.body.map((s: { name: string }) => [s.name, s]));
    expect(byName.LOG_LEVEL.value).toBe('debug');
    expect(byName.API_KEY.value).toBeUndefined();
  });

  it('creates one secret per section of a pg_service.conf text', async () => {
    const text =
      '# two services\n[alpha]\nhost=a.example\nport=5432\n\n[beta]\n  host = b.example \ndbname=x\n';
    const res = await add({ project: 'maps', secret: { kind: 'pgservice-conf', text } });
    expect(res.status, res.text).toBe(201);
    expect(res.body.map((s: { name: string }) => s.name)).toEqual(['alpha', 'beta']);
  });

  it.each([
    ['a lowercase name', { secret: { kind: 'env', name: 'api_key', value: 'x' } }, 'capitals only'],
    ['a reserved name', { secret: { kind: 'env', name: 'HUSH_TOKEN', value: 'x' } }, 'reserved'],
    ['PATH', { secret: { kind: 'env', name: 'PATH', value: 'x' } }, 'reserved'],
    [
      'an unknown pg_service key',
      { secret: { kind: 'pgservice', name: 'p1', settings: { host: 'h', colour: 'red' } } },
      'colour',
    ],
    [
      'two [x] sections',
      { secret: { kind: 'pgservice-conf', text: '[x]\nhost=a\n[ok]\nhost=b\n[x]\nhost=c\n' } },
      'line 5',
    ],
    [
      'port 70000',
      { secret: { kind: 'pgservice', name: 'p2', settings: { host: 'h', port: '70000' } } },
      'port',
    ],
    [
      'a bad sslmode',
      { secret: { kind: 'pgservice', name: 'p3', settings: { host: 'h', sslmode: 'sometimes' } } },
      'sslmode',
    ],
    [
      'a newline in a pg value',
      { secret: { kind: 'pgservice', name: 'p4', settings: { host: 'h\nport=1' } } },
      'newline',
    ],
    [
      'a 65 KiB env value',
      { secret: { kind: 'env', name: 'BIG', value: 'x'.repeat(65 * 1024) } },
      '64 KiB',
    ],
    ['a NUL in a value', { secret: { kind: 'env', name: 'NUL', value: 'a\u0000b' } }, 'NUL'],
    [
      'a file name escaping the directory',
      { secret: { kind: 'file', name: 'F', fileName: '../etc/passwd', contentBase64: 'eA==' } },
      'fileName',
    ],
    [
      'assigning to a non-member',
      { assignee: 'stranger@example.com', secret: { kind: 'env', name: 'X1', value: 'x' } },
      'not a member',
    ],
  ])('refuses %s with 400 and writes nothing', async (_label, body, fragment) => {
    const before = await count();
    const res = await add(body);
    expect(res.status, res.text).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.message).toContain(fragment);
    expect(await count()).toEqual(before);
  });

  it('refuses a second secret with the same level, scope, name and assignee with 409', async () => {
    const before = await count();
    const res = await add({ secret: { kind: 'env', name: 'API_KEY', value: 'again' } });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('NAME_TAKEN');
    expect(await count()).toEqual(before);
  });

  it('names a missing project to members only, after checking the level, and writes nothing', async () => {
    const alices = await t.call('POST', '/api/v1/orgs', { token: alice, body: { slug: 'alices' } });
    expect(alices.status, alices.text).toBe(201);
    const before = await count();
    const secret = { kind: 'env', name: 'NOWHERE', value: 'x' };
    const post = (org: string, body: object, token: string) =>
      t.call('POST', `/api/v1/orgs/${org}/secrets`, { token, body: { ...body, secret } });
    const codes = [
      await post('alices', { project: 'nope' }, owner), // an outsider learns nothing
      await post('alices', { project: 'nope' }, alice),
      await post('alices', { project: 'nope', env: 'prod', service: 'sync' }, alice),
      await post('nope', { project: 'maps' }, owner),
      await post(OWNER.org, { project: 'nope', env: 'prod' }, owner),
      await post(OWNER.org, { project: 'maps', env: 'nope' }, owner),
      await t.call('GET', '/api/v1/orgs/alices/projects/nope', { token: owner }),
      await t.call('GET', '/api/v1/orgs/alices/projects/nope', { token: alice }),
    ].map((r) => `${r.status} ${r.body.error.code}`);
    expect(codes).toEqual([
      '404 ORGANIZATION_NOT_FOUND',
      '404 PROJECT_NOT_FOUND',
      '400 VALIDATION_FAILED',
      '404 ORGANIZATION_NOT_FOUND',
      '404 PROJECT_NOT_FOUND',
      '404 ENVIRONMENT_NOT_FOUND',
      '404 ORGANIZATION_NOT_FOUND',
      '404 PROJECT_NOT_FOUND',
    ]);
    expect(await count()).toEqual(before);
  });

  it('has the database itself refuse a duplicate unassigned secret', async () => {
    const row = await t.app.database.db
      .selectFrom('secrets')
      .selectAll()
      .where('level', '=', 'organization')
      .where('name', '=', 'API_KEY')
      .executeTakeFirstOrThrow();
    await expect(
      t.app.database.db
        .insertInto('secrets')
        .values({ ...row, id: 'copy' })
        .execute(),
    ).rejects.toThrow();
  });

  it('resolves in the QFieldCloud order and explains what each winner shadows', async () => {
    const svc = (user: string) => ({
      kind: 'pgservice',
      name: 'qfield',
      settings: { host: 'h', user },
    });
    await add({ secret: svc('ninja_org') });
    const resolve = (member: string) =>
      t.call('GET', `${S}/resolve?project=maps&member=${member}`, { token: owner });
    const winner = async (member: string) =>
      (await resolve(member)).body.find((r: { name: string }) => r.name === 'qfield');
    expect(await winner('alice@example.com')).toMatchObject({
      level: 'organization',
      assignee: null,
    });
    await add({ assignee: 'alice@example.com', secret: svc('ninja_org_alice') });
    expect(await winner('alice@example.com')).toMatchObject({
      level: 'organization',
      assignee: 'alice@example.com',
    });
    await add({ project: 'maps', secret: svc('ninja_project') });
    expect(await winner('alice@example.com')).toMatchObject({ level: 'project', assignee: null });
    await add({ project: 'maps', assignee: 'alice@example.com', secret: svc('ninja_user') });
    const top = await winner('alice@example.com');
    expect(top).toMatchObject({
      level: 'project',
      assignee: 'alice@example.com',
      kind: 'pgservice',
    });
    expect(top.shadows).toEqual([
      { id: expect.any(String), level: 'project', assignee: null, version: 1 },
      { id: expect.any(String), level: 'organization', assignee: 'alice@example.com', version: 1 },
      { id: expect.any(String), level: 'organization', assignee: null, version: 1 },
    ]);
    expect(await winner('bob@example.com')).toMatchObject({ level: 'project', assignee: null });
    expect((await winner('bob@example.com')).shadows).toHaveLength(1);
  });

  it('explains a service context through its environment, deepest first', async () => {
    const res = await t.call('GET', `${S}/resolve?project=maps&service=sync`, { token: alice });
    expect(res.status, res.text).toBe(200);
    const apiKey = res.body.find((r: { name: string }) => r.name === 'API_KEY');
    expect(apiKey.level).toBe('service');
    expect(apiKey.shadows.map((s: { level: string }) => s.level)).toEqual([
      'environment',
      'project',
      'organization',
    ]);
  });

  it('rotates, lists history and rolls back, never editing in place', async () => {
    const created = await add({
      project: 'maps',
      secret: { kind: 'env', name: 'ROTATED', value: 'first-value-0000000' },
    });
    const id = created.body[0].id as string;
    const rotated = await t.call('POST', `${S}/${id}/rotate`, {
      token: alice,
      headers: { 'x-hush-tool': 'cli' },
      body: { kind: 'env', value: 'second-value-111111' },
    });
    expect(rotated.status, rotated.text).toBe(200);
    expect(rotated.body).toMatchObject({ version: 2, preview: 'sec…111' });
    const back = await t.call('POST', `${S}/${id}/rollback`, {
      token: owner,
      body: { version: 1 },
    });
    expect(back.body).toMatchObject({ version: 3, preview: 'fir…000' });
    const history = await t.call('GET', `${S}/${id}/history`, { token: owner });
    expect(
      history.body.map(
        (v: { version: number; source: string; createdBy: string; tool: string }) => [
          v.version,
          v.source,
          v.createdBy,
          v.tool,
        ],
      ),
    ).toEqual([
      [3, 'rollback', OWNER.email, 'api'],
      [2, 'rotate', 'alice@example.com', 'cli'],
      [1, 'add', OWNER.email, 'api'],
    ]);
    const wrongKind = await t.call('POST', `${S}/${id}/rotate`, {
      token: owner,
      body: { kind: 'pgservice', settings: { host: 'x' } },
    });
    expect(wrongKind.status).toBe(400);
  });

  it('keeps the ciphertexts of the last 10 versions', async () => {
    const created = await add({
      project: 'maps',
      secret: { kind: 'env', name: 'MANY', value: 'v1' },
    });
    const id = created.body[0].id as string;
    for (let v = 2; v <= 12; v++)
      await t.call('POST', `${S}/${id}/rotate`, {
        token: owner,
        body: { kind: 'env', value: `v${v}` },
      });
    const history = await t.call('GET', `${S}/${id}/history`, { token: owner });
    expect(history.body.filter((v: { restorable: boolean }) => v.restorable)).toHaveLength(10);
    const tooOld = await t.call('POST', `${S}/${id}/rollback`, {
      token: owner,
      body: { version: 1 },
    });
    expect(tooOld.status).toBe(409);
  });

  it('removes a secret with its versions, and audits every change without values', async () => {
    const created = await add({
      project: 'maps',
      secret: { kind: 'env', name: 'DOOMED', value: 'doomed-value' },
    });
    const id = created.body[0].id as string;
    expect((await t.call('DELETE', `${S}/${id}`, { token: owner })).status).toBe(204);
    const versions = await t.app.database.db
      .selectFrom('secretVersions')
      .selectAll()
      .where('secretId', '=', id)
      .execute();
    expect(versions).toEqual([]);
    const page = await t.call(
      'GET',
      `/api/v1/orgs/${OWNER.org}/audit?targetType=secret&limit=1000`,
      { token: owner },
    );
    const types = new Set(page.body.events.map((e: { eventType: string }) => e.eventType));
    expect([...types].sort()).toEqual(['CREATE', 'DELETE', 'ROLLBACK', 'ROTATE']);
    expect(page.text).not.toContain('doomed-value');
  });

  it('denies a Viewer writing secrets with 403 secrets:write', async () => {
    const viewer = await addMember(t, owner, 'viewer@example.com', 'viewer');
    const res = await add({ secret: { kind: 'env', name: 'NOPE', value: 'x' } }, viewer);
    expect(res.status).toBe(403);
    expect(res.body.error.details.permission).toBe('secrets:write');
  });

  it('never lets a planted sentinel reach a response, the log, the audit log or the database in plaintext', async () => {
    const sentinel = `SENTINEL_${randomBytes(12).toString('hex')}`;
    const created = await add({
      project: 'maps',
      secret: { kind: 'env', name: 'SENTINEL', value: sentinel },
    });
    const id = created.body[0].id as string;
    await t.call('GET', `${S}/resolve?project=maps`, { token: owner });
    await t.call('POST', `${S}/${id}/rotate`, {
      token: owner,
      body: { kind: 'env', value: `${sentinel}-2` },
    });
    await t.call('POST', `${S}/${id}/rollback`, { token: owner, body: { version: 1 } });
    await t.call('GET', `${S}/${id}/history`, { token: owner });
    await t.call('GET', `${S}?project=maps`, { token: owner });
    const pg = await add({
      secret: {
        kind: 'pgservice',
        name: 'sentinel-db',
        settings: { host: 'h', password: sentinel },
      },
    });
    expect(pg.status).toBe(201);
    const audit = await t.call('GET', `/api/v1/orgs/${OWNER.org}/audit?limit=1000`, {
      token: owner,
    });
    expect(audit.body.events.length).toBeGreaterThan(10);
    // Exports are swept like any other response (t.responses holds them too).
    for (const format of ['jsonl', 'csv']) {
      const exported = await t.call(
        'GET',
        `/api/v1/orgs/${OWNER.org}/audit/export?format=${format}`,
        {
          token: owner,
        },
      );
      expect(exported.status).toBe(200);
      expect(exported.text).toContain('sentinel-db');
    }

    const needle = sentinel.slice(9);
    for (const body of t.responses) expect(body).not.toContain(needle);
    expect(t.logs.join('')).not.toContain(needle);
    if (dialect === 'sqlite') {
      for (const file of fs.readdirSync(t.dataDir).filter((f) => f.startsWith('hush.db'))) {
        expect(fs.readFileSync(path.join(t.dataDir, file)).includes(needle), file).toBe(false);
      }
    } else {
      const tables = await sql<{
        tablename: string;
      }>`select tablename from pg_tables where schemaname = 'public'`.execute(t.app.database.db);
      for (const { tablename } of tables.rows) {
        const dump = await sql<{
          t: string;
        }>`select t::text as t from ${sql.table(tablename)} t`.execute(t.app.database.db);
        expect(dump.rows.map((r) => r.t).join('\n'), tablename).not.toContain(needle);
      }
    }
  });
});
