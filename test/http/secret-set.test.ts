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

interface Summary {
  level: string;
  dryRun: boolean;
  created: number;
  rotated: number;
  unchanged: number;
  secrets: { name: string; action: string; id: string | null; version: number; line?: number }[];
}

// Bulk set by name and imports (POST /secrets/set, /secrets/import) and one value by name
// (GET /secrets/value), through the real HTTP app on both databases.
describe.each(DIALECTS)('bulk set, import and get on %s', (dialect) => {
  let t: TestServer;
  let owner: string;
  let devops: string;
  let token: string;

  const events = async (type?: string) =>
    (
      await t.app.database.db
        .selectFrom('auditEvents')
        .select(['eventType', 'targetName', 'details', 'change'])
        .where('orgId', '!=', '')
        .$if(type !== undefined, (q) => q.where('eventType', '=', type!))
        .execute()
    ).filter((e) => e.eventType !== 'LOGIN');
  const set = (body: Record<string, unknown>, as = owner) =>
    t.call('POST', `${O}/secrets/set`, {
      token: as,
      body: { project: 'maps', env: 'prod', ...body },
    });
  const names = async (env = 'prod') => {
    const r = await t.call('GET', `${O}/secrets?project=maps&env=${env}`, { token: owner });
    return (r.body as { name: string; version: number }[]).map((s) => `${s.name}@${s.version}`);
  };

  beforeAll(async () => {
    t = await startTestServer(dialect);
    owner = await bootstrapOwner(t);
    await t.call('POST', `${O}/projects`, { token: owner, body: { slug: 'maps' } });
    for (const [slug, type] of [
      ['prod', 'production'],
      ['dev', 'development'],
    ])
      await t.call('POST', `${O}/projects/maps/environments`, {
        token: owner,
        body: { slug, type },
      });
    devops = await addMember(t, owner, 'dev@example.com', 'devops');
    const created = await t.call('POST', `${O}/tokens`, {
      token: owner,
      body: { name: 'ci', role: 'devops' },
    });
    token = (created.body as { token: string }).token;
  }, 60_000);
  afterAll(() => t.close());

  it('creates, rotates and leaves names in one request, one audit event per change', async () => {
    const first = await set({
      secrets: [
        { name: 'A_KEY', value: 'alpha value 1' },
        { name: 'B_KEY', value: 'bravo value 1' },
        { name: 'C_KEY', value: 'charlie value 1' },
      ],
    });
    expect(first.status, first.text).toBe(200);
    const before = (await events()).length;
    const second = await set({
      secrets: [
        { name: 'A_KEY', value: 'alpha value 1' },
        { name: 'B_KEY', value: 'bravo value 2' },
        { name: 'C_KEY', value: 'charlie value 1' },
        { name: 'D_KEY', value: 'delta value 1' },
        { name: 'E_KEY', value: 'echo value 1' },
      ],
    });
    expect(second.status, second.text).toBe(200);
    const summary = second.body as Summary;
    expect(summary.secrets.map((s) => `${s.name}:${s.action}@${s.version}`)).toEqual([
      'A_KEY:unchanged@1',
      'B_KEY:rotated@2',
      'C_KEY:unchanged@1',
      'D_KEY:created@1',
      'E_KEY:created@1',
    ]);
    expect([summary.created, summary.rotated, summary.unchanged]).toEqual([2, 1, 2]);
    const after = (await events()).slice(before);
    expect(after.map((e) => `${e.eventType} ${e.targetName}`).sort()).toEqual([
      'CREATE D_KEY',
      'CREATE E_KEY',
      'ROTATE B_KEY',
    ]);
    for (const e of after) expect(JSON.stringify(e)).not.toMatch(/value [12]/);
    expect(await names()).toEqual(['A_KEY@1', 'B_KEY@2', 'C_KEY@1', 'D_KEY@1', 'E_KEY@1']);
    // Setting the same values again changes nothing and writes no event.
    const again = await set({ secrets: [{ name: 'B_KEY', value: 'bravo value 2' }] });
    expect((again.body as Summary).unchanged).toBe(1);
    expect((await events()).length).toBe(before + 3);
  });

  it('writes nothing when one name is bad, and names every bad one', async () => {
    const before = await names();
    const audit = (await events()).length;
    const res = await set({
      secrets: [
        { name: 'GOOD_ONE', value: 'x' },
        { name: 'bad-name', value: 'y' },
        { name: 'GOOD_ONE', value: 'z' },
        { name: 'PATH', value: 'w' },
      ],
    });
    expect(res.status, res.text).toBe(400);
    const fields = (res.body as { error: { details: { fields: { field: string }[] } } }).error
      .details.fields;
    expect(fields.map((f) => f.field)).toEqual([
      'secrets.1.name',
      'secrets.2.name',
      'secrets.3.name',
    ]);
    expect(res.text).not.toMatch(/"(x|y|z|w)"/);
    expect(await names()).toEqual(before);
    expect((await events()).length).toBe(audit);
  });

  it('plans without writing on a dry run', async () => {
    const before = await names();
    const audit = (await events()).length;
    const res = await set({
      dryRun: true,
      secrets: [
        { name: 'A_KEY', value: 'alpha value 9' },
        { name: 'NEW_KEY', value: 'n' },
      ],
    });
    expect(res.status, res.text).toBe(200);
    const summary = res.body as Summary;
    expect(summary.dryRun).toBe(true);
    expect(summary.secrets.map((s) => s.action)).toEqual(['rotated', 'created']);
    expect(await names()).toEqual(before);
    expect((await events()).length).toBe(audit);
  });

  it('imports a dotenv text, reporting bad names with their line', async () => {
    const text = [
      '# a comment',
      'export API_URL="https://example.com/a?b=c#frag"',
      "QUOTED='single # not a comment'",
      'MULTI="first line',
      'second line"',
      '',
      'PLAIN=bare value # comment',
    ].join('\n');
    const res = await t.call('POST', `${O}/secrets/import`, {
      token: owner,
      body: { project: 'maps', env: 'dev', format: 'dotenv', text },
    });
    expect(res.status, res.text).toBe(200);
    const summary = res.body as Summary;
    expect(summary.secrets.map((s) => `${s.name}:${s.line}`)).toEqual([
      'API_URL:2',
      'QUOTED:3',
      'MULTI:4',
      'PLAIN:7',
    ]);
    const bad = await t.call('POST', `${O}/secrets/import`, {
      token: owner,
      body: {
        project: 'maps',
        env: 'dev',
        format: 'dotenv',
        text: 'OK_ONE=1\nbad-name=2\nlower=3\n',
      },
    });
    expect(bad.status, bad.text).toBe(400);
    expect(bad.text).toContain('line 2');
    expect(bad.text).toContain('line 3');
    expect(await names('dev')).toEqual(['API_URL@1', 'MULTI@1', 'PLAIN@1', 'QUOTED@1']);
  });

  it('needs secrets:write at the level, and write-steering for steering names', async () => {
    const viewer = await addMember(t, owner, 'view@example.com', 'viewer');
    const denied = await set({ secrets: [{ name: 'V_KEY', value: 'v' }] }, viewer);
    expect(denied.status).toBe(403);
    const steering = await set(
      { secrets: [{ name: 'NODE_OPTIONS', value: '--require x' }] },
      devops,
    );
    expect(steering.status, steering.text).toBe(403);
    expect(steering.text).toContain('NODE_OPTIONS');
    expect(await names()).not.toContain('NODE_OPTIONS@1');
  });

  it('gives one value by name: plain ones to people, others to service tokens, audited', async () => {
    await set({ secrets: [{ name: 'LOG_LEVEL', value: 'debug' }], sensitivity: 'plain' });
    const q = (name: string) => `${O}/secrets/value?project=maps&env=prod&name=${name}`;
    const plain = await t.call('GET', q('LOG_LEVEL'), { token: devops });
    expect(plain.status, plain.text).toBe(200);
    expect(plain.body).toMatchObject({ name: 'LOG_LEVEL', kind: 'env', value: 'debug' });
    const person = await t.call('GET', q('B_KEY'), { token: devops });
    expect(person.status).toBe(403);
    expect(person.text).not.toContain('bravo');
    const before = (await events('ACCESS')).length;
    const byToken = await t.call('GET', q('B_KEY'), { token });
    expect(byToken.status, byToken.text).toBe(200);
    expect(byToken.body).toMatchObject({ name: 'B_KEY', value: 'bravo value 2', version: 2 });
    const access = (await events('ACCESS')).slice(before);
    expect(access).toHaveLength(1);
    expect(access[0]!.change).toContain('B_KEY');
    const missing = await t.call('GET', q('B_KYE'), { token });
    expect(missing.status).toBe(404);
    expect(
      (missing.body as { error: { details: { suggestions: string[] } } }).error.details.suggestions,
    ).toEqual(['B_KEY']);
  });
});
