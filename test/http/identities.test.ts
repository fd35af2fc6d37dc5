import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  addMember,
  bootstrapOwner,
  type CallResult,
  login,
  OWNER,
  startTestServer,
  type TestServer,
} from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';

const O = `/api/v1/orgs/${OWNER.org}`;
const P = `${O}/projects/maps`;

/** The tables a refused request must leave as they were (audit included: nothing happened). */
const TABLES = [
  'users',
  'organizations',
  'members',
  'invitations',
  'apiTokens',
  'projects',
  'environments',
  'services',
  'secrets',
  'secretVersions',
  'auditEvents',
  'customRoles',
] as const;

const INVISIBLE = /must not contain invisible or direction-changing characters/;

/** A 400 VALIDATION_FAILED naming `field` with the invisible-character message and the code point. */
function expectInvisibleRefused(res: CallResult, field: string, codePoint: string): void {
  expect(res.status, res.text).toBe(400);
  expect(res.body.error.code).toBe('VALIDATION_FAILED');
  const fields = res.body.error.details.fields as { field: string; message: string }[];
  const named = fields.find((f) => f.field === field);
  expect(named, `no field ${field} in ${res.text}`).toBeDefined();
  expect(named!.message).toMatch(INVISIBLE);
  expect(named!.message).toContain(codePoint);
}

const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

describe.each(DIALECTS)('look-alike identities and names on %s', (dialect) => {
  let t: TestServer;
  let owner: string;

  beforeAll(async () => {
    t = await startTestServer(dialect);
    owner = await bootstrapOwner(t);
    await t.call('POST', `${O}/projects`, { token: owner, body: { slug: 'maps' } });
    await t.call('POST', `${P}/environments`, {
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
  const memberEmails = async () =>
    ((await t.call('GET', `${O}/members`, { token: owner })).body as { email: string }[]).map(
      (m) => m.email,
    );
  const invite = (email: string, role = 'viewer') =>
    t.call('POST', `${O}/invitations`, { token: owner, body: { email, role } });

  it.each([
    ['a zero-width space', 'owner\u200B@example.com', 'U+200B'],
    ['a right-to-left override', 'owner@\u202Emoc.elpmaxe', 'U+202E'],
    ['a bidi isolate', '\u2066owner@example.com\u2069', 'U+2066'],
    ['a left-to-right mark at the end', 'owner@example.com\u200E', 'U+200E'],
    ['a soft hyphen', 'ow\u00ADner@example.com', 'U+00AD'],
    ['a word joiner', 'owner@exam\u2060ple.com', 'U+2060'],
    ['a C1 control', 'owner\u0085@example.com', 'U+0085'],
    ['a variation selector', 'owner\uFE00@example.com', 'U+FE00'],
    ['a Hangul filler', 'owner\u3164@example.com', 'U+3164'],
    ['a tag character', 'owner\u{E0041}@example.com', 'U+E0041'],
  ])(
    'refuses to invite an e-mail with %s with 400 naming email; nothing is written',
    async (_label, email, codePoint) => {
      await writesNothing(async () => {
        expectInvisibleRefused(await invite(email, 'admin'), 'email', codePoint);
      });
      expect(await memberEmails()).toEqual([OWNER.email]);
      expect((await t.call('GET', `${O}/invitations`, { token: owner })).body).toEqual([]);
    },
  );

  it('recognises an existing member in another case or spacing as that member (409 naming email)', async () => {
    await writesNothing(async () => {
      for (const email of ['Owner@Example.COM', '  OWNER@example.com ']) {
        const res = await invite(email);
        expect(res.status, res.text).toBe(409);
        expect(res.body.error.code).toBe('CONFLICT');
        expect(res.body.error.details.field).toBe('email');
      }
    });
    // And signs in with any case of the address.
    expect(await login(t, 'Owner@Example.COM', OWNER.password)).toMatch(/./);
  });

  it('stores a decomposed e-mail composed (NFC) and in lower case, and knows it in every form', async () => {
    const decomposed = 'JOSE\u0301@Example.com';
    const composed = 'jos\u00e9@example.com';
    const res = await invite(decomposed);
    expect(res.status, res.text).toBe(201);
    expect(res.body.email).toBe(composed);
    const pending = (await t.call('GET', `${O}/invitations`, { token: owner })).body as {
      email: string;
    }[];
    expect(pending.map((i) => i.email)).toEqual([composed]);
    const accepted = await t.call('POST', '/api/v1/invitations/accept', {
      body: { token: res.body.token, password: 'member password 1' },
    });
    expect(accepted.status, accepted.text).toBe(201);
    const users = await t.app.database.db.selectFrom('users').select('email').execute();
    expect(users.map((u) => u.email).sort()).toEqual([composed, OWNER.email].sort());

    await writesNothing(async () => {
      for (const again of [composed, 'JOS\u00c9@EXAMPLE.COM', 'jose\u0301@example.com']) {
        const dup = await invite(again);
        expect(dup.status, `${again}: ${dup.text}`).toBe(409);
      }
    });
    expect(await memberEmails()).toEqual(expect.arrayContaining([composed, OWNER.email]));
    expect((await memberEmails()).length).toBe(2);
    expect(await login(t, 'Jose\u0301@EXAMPLE.com', 'member password 1')).toMatch(/./);
    // A member in a path is looked up the same way.
    const changed = await t.call(
      'PATCH',
      `${O}/members/${encodeURIComponent('JOSE\u0301@example.com')}`,
      {
        token: owner,
        body: { role: 'devops' },
      },
    );
    expect(changed.status, changed.text).toBe(200);
    expect(changed.body.email).toBe(composed);
  });

  it.each([
    ['organization slug', 'POST', '/api/v1/orgs', { slug: 'oth\u202Eer' }, 'slug', 'U+202E'],
    [
      'organization name',
      'POST',
      '/api/v1/orgs',
      { slug: 'other', name: 'Other\u200B' },
      'name',
      'U+200B',
    ],
    ['organization rename', 'PATCH', O, { name: 'Acme \u202Ec.n.I' }, 'name', 'U+202E'],
    ['project slug', 'POST', `${O}/projects`, { slug: 'ma\u200Bps2' }, 'slug', 'U+200B'],
    [
      'project name',
      'POST',
      `${O}/projects`,
      { slug: 'maps2', name: 'Maps \u202E2' },
      'name',
      'U+202E',
    ],
    [
      'environment slug',
      'POST',
      `${P}/environments`,
      { slug: 'pr\u202Eod2', type: 'production' },
      'slug',
      'U+202E',
    ],
    [
      'service name',
      'POST',
      `${P}/services`,
      { name: 'web\u200B', command: 'true' },
      'name',
      'U+200B',
    ],
    ['role name', 'POST', `${O}/roles`, { name: 'dev\u202Eops', grants: [] }, 'name', 'U+202E'],
    [
      'service token name',
      'POST',
      `${O}/tokens`,
      { name: 'ci\u202E', role: 'devops' },
      'name',
      'U+202E',
    ],
    [
      'personal token name',
      'POST',
      '/api/v1/me/tokens',
      { name: 'laptop\u200B' },
      'name',
      'U+200B',
    ],
  ])(
    'refuses a %s with an invisible character with 400 naming the field; nothing is written',
    async (_label, method, url, body, field, codePoint) => {
      await writesNothing(async () => {
        expectInvisibleRefused(await t.call(method, url, { token: owner, body }), field, codePoint);
      });
    },
  );

  it.each([
    [
      'a file name with a right-to-left override',
      { kind: 'file', name: 'INVOICE', fileName: 'invoice\u202Efdp.exe', contentBase64: 'eA==' },
      'fileName',
      'U+202E',
    ],
    [
      'a file path with a zero-width space',
      { kind: 'file', name: 'CERT', fileName: 'certs/ca\u200B.pem', contentBase64: 'eA==' },
      'fileName',
      'U+200B',
    ],
  ])('refuses a secret with %s with 400 naming the field', async (_label, secret, field, cp) => {
    await writesNothing(async () => {
      expectInvisibleRefused(
        await t.call('POST', `${O}/secrets`, { token: owner, body: { project: 'maps', secret } }),
        field,
        cp,
      );
    });
  });

  it('refuses secret names with invisible characters (their own rules are ASCII)', async () => {
    await writesNothing(async () => {
      for (const secret of [
        { kind: 'env', name: 'API\u200BKEY', value: 'v' },
        { kind: 'pgservice', name: 'd\u202Eb', settings: { host: 'h' } },
        { kind: 'pgservice-conf', text: '[d\u202Eb]\nhost=h\n' },
      ]) {
        const res = await t.call('POST', `${O}/secrets`, {
          token: owner,
          body: { project: 'maps', secret },
        });
        expect(res.status, res.text).toBe(400);
        expect(res.body.error.code).toBe('VALIDATION_FAILED');
      }
    });
  });

  it('keeps display names with emoji (presentation selector, joiner sequences), composed', async () => {
    const renamed = await t.call('PATCH', O, {
      token: owner,
      body: { name: '\u2601\uFE0F Cafe\u0301' },
    });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.body.name).toBe('\u2601\uFE0F Caf\u00e9');
    const project = await t.call('POST', `${O}/projects`, {
      token: owner,
      body: { slug: 'devs', name: '\u{1F469}\u{1F3FD}\u200D\u{1F4BB} devs' },
    });
    expect(project.status, project.text).toBe(201);
    expect(project.body.name).toBe('\u{1F469}\u{1F3FD}\u200D\u{1F4BB} devs');
    // A joiner or a selector outside an emoji is refused.
    expectInvisibleRefused(
      await t.call('PATCH', O, { token: owner, body: { name: 'Ac\u200Dme' } }),
      'name',
      'U+200D',
    );
  });

  it('accepts secret values with bidi, zero-width and control characters, byte for byte', async () => {
    const tricky = 'a\u202Eb\u200Bc\u2066d\u00ADe\u0085f';
    const env = await t.call('POST', `${O}/secrets`, {
      token: owner,
      body: {
        project: 'maps',
        env: 'prod',
        secret: { kind: 'env', name: 'TRICKY', value: tricky, sensitivity: 'plain' },
      },
    });
    expect(env.status, env.text).toBe(201);
    const file = await t.call('POST', `${O}/secrets`, {
      token: owner,
      body: {
        project: 'maps',
        env: 'prod',
        secret: { kind: 'file', name: 'NOTE', fileName: 'note.txt', contentBase64: base64(tricky) },
      },
    });
    expect(file.status, file.text).toBe(201);
    const pg = await t.call('POST', `${O}/secrets`, {
      token: owner,
      body: {
        project: 'maps',
        env: 'prod',
        secret: { kind: 'pgservice', name: 'db', settings: { host: 'h', password: tricky } },
      },
    });
    expect(pg.status, pg.text).toBe(201);
    const listed = await t.call('GET', `${O}/secrets?project=maps&env=prod`, { token: owner });
    const byName = new Map(
      (listed.body as { name: string; value?: string }[]).map((s) => [s.name, s]),
    );
    expect(byName.get('TRICKY')?.value).toBe(tricky);

    const rotated = await t.call('POST', `${O}/secrets/${env.body[0].id}/rotate`, {
      token: owner,
      body: { kind: 'env', value: `${tricky}\u200F2` },
    });
    expect(rotated.status, rotated.text).toBe(200);

    const ci = await t.call('POST', `${O}/tokens`, {
      token: owner,
      body: { name: 'values-ci', role: 'devops' },
    });
    expect(ci.status, ci.text).toBe(201);
    const runtime = await t.call('GET', `${O}/runtime/secrets?project=maps&env=prod`, {
      token: ci.body.token,
    });
    expect(runtime.status, runtime.text).toBe(200);
    const values = new Map(
      (
        runtime.body as {
          name: string;
          value?: string;
          contentBase64?: string;
          settings?: Record<string, string>;
        }[]
      ).map((s) => [s.name, s]),
    );
    expect(values.get('TRICKY')?.value).toBe(`${tricky}\u200F2`);
    expect(values.get('NOTE')?.contentBase64).toBe(base64(tricky));
    expect(values.get('db')?.settings?.password).toBe(tricky);
  });

  it('lets an account from before the rule sign in and be removed: existing rows are not migrated', async () => {
    await addMember(t, owner, 'legacy@example.com', 'viewer');
    const legacy = 'legacy\u200B@example.com';
    await t.app.database.db
      .updateTable('users')
      .set({ email: legacy })
      .where('email', '=', 'legacy@example.com')
      .execute();
    expect(await memberEmails()).toContain(legacy);
    expect(await login(t, legacy, 'member password 1')).toMatch(/./);
    const removed = await t.call('DELETE', `${O}/members/${encodeURIComponent(legacy)}`, {
      token: owner,
    });
    expect(removed.status, removed.text).toBe(204);
    expect(await memberEmails()).not.toContain(legacy);
  });

  it('refuses to accept an invitation from before the rule that names a look-alike e-mail', async () => {
    const inv = await t.call('POST', `${O}/invitations`, {
      token: owner,
      body: { email: 'pending@example.com', role: 'admin' },
    });
    expect(inv.status, inv.text).toBe(201);
    await t.app.database.db
      .updateTable('invitations')
      .set({ email: 'owner\u200B@example.com' })
      .where('email', '=', 'pending@example.com')
      .execute();
    const users = async () =>
      (await t.app.database.db.selectFrom('users').select('email').execute()).length;
    const before = await users();
    const accepted = await t.call('POST', '/api/v1/invitations/accept', {
      body: { token: inv.body.token, password: 'impostor password' },
    });
    expect(accepted.status, accepted.text).toBe(400);
    expect(accepted.body.error.details.fields[0].field).toBe('token');
    expect(await users()).toBe(before);
  });
});
