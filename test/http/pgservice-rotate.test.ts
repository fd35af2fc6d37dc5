import { randomBytes } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  addMember,
  bootstrapOwner,
  OWNER,
  startTestServer,
  type TestServer,
} from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';

const O = `/api/v1/orgs/${OWNER.org}`;
const S = `${O}/secrets`;

type Settings = Record<string, string>;

describe.each(DIALECTS)('pgservice rotation through REST on %s', (dialect) => {
  let t: TestServer;
  let owner: string;
  let viewer: string;
  let ci: string;
  const sentinel = `SENTINEL_${randomBytes(12).toString('hex')}`;
  const connection: Settings = {
    host: 'db.internal',
    port: '5433',
    dbname: 'gis',
    user: 'ninja_project',
    password: sentinel,
    sslmode: 'require',
    application_name: 'hush',
  };

  beforeAll(async () => {
    t = await startTestServer(dialect);
    owner = await bootstrapOwner(t);
    viewer = await addMember(t, owner, 'viewer@example.com', 'viewer');
    await t.call('POST', `${O}/projects`, { token: owner, body: { slug: 'maps' } });
    const token = await t.call('POST', `${O}/tokens`, {
      token: owner,
      body: { name: 'ci', role: 'devops' },
    });
    ci = (token.body as { token: string }).token;
  }, 60_000);
  afterAll(() => t.close());

  async function addPg(name: string, settings: Settings = connection): Promise<string> {
    const res = await t.call('POST', S, {
      token: owner,
      body: { project: 'maps', secret: { kind: 'pgservice', name, settings } },
    });
    expect(res.status, res.text).toBe(201);
    return res.body[0].id as string;
  }

  const rotate = (id: string, body: unknown, token = owner) =>
    t.call('POST', `${S}/${id}/rotate`, { token, body });

  /** What a job gets, read as a service token does (not through `t.call`: these answers carry values). */
  async function stored(name: string): Promise<Record<string, unknown>> {
    const res = await t.server.inject({
      method: 'GET',
      url: `${O}/runtime/secrets?project=maps`,
      headers: { authorization: `Bearer ${ci}` },
    });
    expect(res.statusCode, res.body).toBe(200);
    const all = JSON.parse(res.body) as { name: string; kind: string }[];
    const found = all.find((m) => m.name === name);
    expect(found, name).toBeDefined();
    return found as Record<string, unknown>;
  }
  const storedSettings = async (name: string) => (await stored(name)).settings as Settings;

  const versionRows = async (id: string) =>
    (
      await t.app.database.db
        .selectFrom('secretVersions')
        .select('version')
        .where('secretId', '=', id)
        .execute()
    ).length;
  const rotateEvents = (id: string) =>
    t.app.database.db
      .selectFrom('auditEvents')
      .selectAll()
      .where('eventType', '=', 'ROTATE')
      .where('targetId', '=', id)
      .orderBy('seq')
      .execute();
  const detailsOf = (row: { details: unknown }) =>
    (typeof row.details === 'string' ? JSON.parse(row.details) : row.details) as Record<
      string,
      unknown
    >;

  it('changes only the password when only the password is given, keeping every other setting', async () => {
    const id = await addPg('ninja');
    const res = await rotate(id, { kind: 'pgservice', set: { password: `${sentinel}-2` } });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ id, name: 'ninja', version: 2, changed: ['password'] });
    expect(res.text).not.toContain(sentinel);
    expect(await storedSettings('ninja')).toEqual({ ...connection, password: `${sentinel}-2` });
    const [event] = await rotateEvents(id);
    expect(detailsOf(event!)).toEqual({ from: 1, to: 2, mode: 'patch', changed: ['password'] });
    expect(event!.change).toBe('rotated pgservice secret ninja to version 2: password changed');
  });

  it('sets, changes and unsets several settings at once and names them in the answer', async () => {
    const id = await addPg('several');
    const res = await rotate(id, {
      kind: 'pgservice',
      set: { port: '6432', connect_timeout: '5', user: 'ninja_project' },
      unset: ['sslmode', 'application_name'],
    });
    expect(res.status, res.text).toBe(200);
    // user is given with its current value: not a change.
    expect(res.body.changed).toEqual(['port', 'application_name', 'connect_timeout', 'sslmode']);
    expect(await storedSettings('several')).toEqual({
      host: 'db.internal',
      port: '6432',
      dbname: 'gis',
      user: 'ninja_project',
      password: sentinel,
      connect_timeout: '5',
    });
  });

  const refusals: [string, unknown, string, RegExp][] = [
    ['unsetting host', { unset: ['host'] }, 'unset.0', /"host" says where.*replace/],
    ['unsetting dbname', { unset: ['sslmode', 'dbname'] }, 'unset.1', /"dbname"/],
    ['unsetting user', { unset: ['user'] }, 'unset.0', /"user"/],
    ['unsetting port', { unset: ['port'] }, 'unset.0', /"port"/],
    ['unsetting an unknown key', { unset: ['bogus'] }, 'unset.0', /not a libpq/],
    ['unsetting a key that is not set', { unset: ['sslcert'] }, 'unset.0', /is not set/],
    ['unsetting a key twice', { unset: ['sslmode', 'sslmode'] }, 'unset.1', /repeats unset\.0/],
    ['setting an unknown key', { set: { bogus: 'x' } }, 'set.bogus', /not a libpq/],
    ['setting a bad port', { set: { port: 'abc' } }, 'set.port', /port from 1 to 65535/],
    ['setting a bad sslmode', { set: { sslmode: 'always' } }, 'set.sslmode', /one of/],
    [
      'a password with a newline',
      { set: { password: `${sentinel}\nhost=evil` } },
      'set.password',
      /newline/,
    ],
    [
      'a key both set and unset',
      { set: { sslmode: 'disable' }, unset: ['sslmode'] },
      'unset.0',
      /also in set/,
    ],
    ['an empty change', {}, 'set', /at least one setting/],
    ['a bare settings object', { settings: { password: 'x' } }, 'settings', /replace: true/],
    ['replace without settings', { replace: true }, 'settings', /every setting/],
    [
      'replace with set',
      { replace: true, settings: { host: 'h' }, set: { port: '1' } },
      'set',
      /not with replace/,
    ],
    ['replace with no setting', { replace: true, settings: {} }, 'settings', /at least one/],
    ['a non-string value', { set: { port: 5432 } }, 'set.port', /string/],
  ];

  it.each(refusals)(
    'refuses %s with 400 naming the field, and writes nothing',
    async (_what, change, field, message) => {
      const id = await addPg(`refused-${randomBytes(3).toString('hex')}`);
      const before = await versionRows(id);
      const res = await rotate(id, { kind: 'pgservice', ...(change as object) });
      expect(res.status, res.text).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      const fields = res.body.error.details.fields as { field: string; message: string }[];
      const named = fields.find((f) => f.field === field);
      expect(named, JSON.stringify(fields)).toBeDefined();
      expect(named!.message).toMatch(message);
      expect(res.text).not.toContain(sentinel);
      expect(res.text).not.toContain('evil');
      expect(await versionRows(id)).toBe(before);
      expect(await rotateEvents(id)).toEqual([]);
      const meta = await t.call('GET', `${S}/${id}`, { token: owner });
      expect(meta.body.version).toBe(1);
    },
  );

  it('replaces the whole connection with replace: true, dropping what it leaves out', async () => {
    const id = await addPg('replaced');
    const next = { host: 'db2', dbname: 'gis2', user: 'u2', password: `${sentinel}-3` };
    const res = await rotate(id, { kind: 'pgservice', replace: true, settings: next });
    expect(res.status, res.text).toBe(200);
    expect(res.body.changed).toEqual([
      'host',
      'port',
      'dbname',
      'user',
      'password',
      'application_name',
      'sslmode',
    ]);
    expect(await storedSettings('replaced')).toEqual(next);
    const [event] = await rotateEvents(id);
    expect(detailsOf(event!)).toMatchObject({ mode: 'replace', changed: res.body.changed });
    // The pinned settings may be dropped by a replace, and set again by a patch.
    const patched = await rotate(id, { kind: 'pgservice', set: { port: '5432' } });
    expect(patched.body).toMatchObject({ version: 3, changed: ['port'] });
    expect(await storedSettings('replaced')).toEqual({ ...next, port: '5432' });
  });

  it('answers 409 CONFLICT, never 500, to a rotation racing another, and loses no change', async () => {
    const id = await addPg('raced');
    const keys = ['connect_timeout', 'keepalives', 'keepalives_idle', 'keepalives_count'];
    const answers = await Promise.all(
      keys.map((key) => rotate(id, { kind: 'pgservice', set: { [key]: '7' } })),
    );
    for (const a of answers) expect([200, 409], a.text).toContain(a.status);
    const won = keys.filter((_, i) => answers[i]!.status === 200);
    expect(won.length).toBeGreaterThan(0);
    for (const a of answers.filter((r) => r.status === 409))
      expect(a.body.error.code).toBe('CONFLICT');
    const meta = await t.call('GET', `${S}/${id}`, { token: owner });
    expect(meta.body.version).toBe(1 + won.length);
    expect(await storedSettings('raced')).toEqual({
      ...connection,
      ...Object.fromEntries(won.map((k) => [k, '7'])),
    });
  });

  it('rotates env and file secrets by replacing their value, as before', async () => {
    const env = await t.call('POST', S, {
      token: owner,
      body: {
        project: 'maps',
        secret: { kind: 'env', name: 'LOG_LEVEL', value: 'debug', sensitivity: 'plain' },
      },
    });
    const envId = env.body[0].id as string;
    const rotated = await rotate(envId, { kind: 'env', value: 'info' });
    expect(rotated.status, rotated.text).toBe(200);
    expect(rotated.body).toMatchObject({ version: 2 });
    expect(rotated.body.changed).toBeUndefined();
    expect((await stored('LOG_LEVEL')).value).toBe('info');
    const [envEvent] = await rotateEvents(envId);
    expect(detailsOf(envEvent!)).toEqual({ from: 1, to: 2 });

    const file = await t.call('POST', S, {
      token: owner,
      body: {
        project: 'maps',
        secret: {
          kind: 'file',
          name: 'CA_CERT',
          fileName: 'ca.pem',
          contentBase64: Buffer.from('first').toString('base64'),
        },
      },
    });
    const fileId = file.body[0].id as string;
    const second = Buffer.from('second certificate').toString('base64');
    const rotatedFile = await rotate(fileId, { kind: 'file', contentBase64: second });
    expect(rotatedFile.status, rotatedFile.text).toBe(200);
    expect((await stored('CA_CERT')).contentBase64).toBe(second);

    for (const id of [envId, fileId]) {
      const patch = await rotate(id, { kind: 'pgservice', set: { password: 'x' } });
      expect(patch.status, patch.text).toBe(400);
      expect(patch.body.error.details.fields[0].field).toBe('kind');
    }
    const settingsOfEnv = await t.call('GET', `${S}/${envId}/settings`, { token: owner });
    expect(settingsOfEnv.status).toBe(409);
    expect(settingsOfEnv.body.error.code).toBe('CONFLICT');
  });

  it('shows the current settings without the password to whoever may read the metadata', async () => {
    const id = await addPg('shown', { ...connection, sslpassword: `${sentinel}-key` });
    await rotate(id, { kind: 'pgservice', set: { password: `${sentinel}-4` }, unset: ['sslmode'] });
    for (const token of [owner, viewer]) {
      const res = await t.call('GET', `${S}/${id}/settings`, { token });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toEqual({
        id,
        name: 'shown',
        version: 2,
        settings: {
          host: 'db.internal',
          port: '5433',
          dbname: 'gis',
          user: 'ninja_project',
          application_name: 'hush',
        },
        withheld: ['password', 'sslpassword'],
      });
      expect(res.text).not.toContain(sentinel);
    }
    // The viewer reads metadata, not values: the read needs no value permission.
    const values = await t.call('GET', `${O}/runtime/secrets?project=maps`, { token: viewer });
    expect(values.status).toBe(403);
    expect((await t.call('GET', `${S}/ffffffff/settings`, { token: owner })).status).toBe(404);
  });

  it('denies the settings to a member who may not read the project', async () => {
    const id = await addPg('guarded');
    await t.call('POST', `${O}/roles`, { token: owner, body: { name: 'nothing', grants: [] } });
    const outsider = await addMember(t, owner, 'outsider@example.com', 'nothing');
    const res = await t.call('GET', `${S}/${id}/settings`, { token: outsider });
    expect(res.status, res.text).toBe(403);
    expect(res.body.error.details.permission).toBe('environment:read');
    expect(res.text).not.toContain('db.internal');
  });

  it('never lets the planted password reach an answer to a person, the log or the audit log', async () => {
    const rows = await t.app.database.db.selectFrom('auditEvents').selectAll().execute();
    expect(rows.length).toBeGreaterThan(0);
    expect(JSON.stringify(rows)).not.toContain(sentinel);
    const rotations = rows.filter((r) => r.eventType === 'ROTATE');
    expect(rotations.length).toBeGreaterThanOrEqual(5);
    // The changed settings are named by keyword only.
    for (const r of rotations) {
      const changed = (detailsOf(r).changed ?? []) as string[];
      for (const key of changed) expect(key).toMatch(/^[a-z_]+$/);
    }
    const page = await t.call('GET', `${O}/audit?targetType=secret&limit=1000`, { token: owner });
    expect(page.status).toBe(200);
    expect(t.responses.join('\n')).not.toContain(sentinel);
    expect(t.logs.join('\n')).not.toContain(sentinel);
  });
});
