import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { useClock } from '../../src/domain/context.js';
import {
  addMember,
  bootstrapOwner,
  OWNER,
  startTestServer,
  type TestServer,
} from '../helpers/app.js';
import { runHush, signedInCli } from '../helpers/cli.js';
import { DIALECTS } from '../helpers/databases.js';

const DAY = 86_400_000;

// The report is about time: the server here runs in this process so that the test moves its
// clock (no sleeping), and the CLI binary asks it over HTTP as it asks any server.
describe.each(DIALECTS)('hush report on %s', (dialect) => {
  let t: TestServer;
  let url: string;
  let offset = 0;
  let restore: () => void;
  let cliEnv: Record<string, string>;
  let usedToken: string;
  const hush = (args: string[], env = cliEnv) => runHush(args, { env });
  const ok = async (args: string[], env = cliEnv) => {
    const r = await hush(args, env);
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r;
  };

  beforeAll(async () => {
    restore = useClock(() => new Date(Date.now() + offset));
    t = await startTestServer(dialect);
    url = await t.server.listen({ host: '127.0.0.1', port: 0 });
    const owner = await bootstrapOwner(t);
    await addMember(t, owner, 'bob@example.com', 'devops');
    // An invitation nobody accepts: its link expires after a week.
    const inv = await t.call('POST', `/api/v1/orgs/${OWNER.org}/invitations`, {
      token: owner,
      body: { email: 'carol@example.com', role: 'viewer' },
    });
    expect(inv.status).toBe(201);
    cliEnv = await signedInCli(url);
    await ok(['project', 'create', 'maps']);
    await ok(['secret', 'add', 'env', 'OLD_KEY', '--value', 'v1', '--project', 'maps']);
    await ok(['secret', 'add', 'env', 'ROTATED', '--value', 'v1', '--project', 'maps']);
    await ok(['token', 'create', 'forgotten', '--role', 'Viewer']);
    const used = await ok([
      'token',
      'create',
      'used',
      '--role',
      'DevOps',
      '--expires',
      '365d',
      '--json',
    ]);
    usedToken = (JSON.parse(used.stdout) as { token: string }).token;

    // 120 days later: one secret rotated, one token used, the Owner signs in again.
    offset = 120 * DAY;
    cliEnv = await signedInCli(url);
    await ok(['secret', 'rotate', 'ROTATED', '--project', 'maps', '--value', 'v2']);
    await ok(['secret', 'list', '--project', 'maps'], { ...cliEnv, HUSH_TOKEN: usedToken });
  }, 120_000);
  afterAll(async () => {
    restore?.();
    await t?.close();
  });

  it('lists each section, as JSON and as text', async () => {
    const r = JSON.parse((await ok(['report', '--json'])).stdout);
    expect(r.withheld).toEqual([]);
    expect(r.secrets.map((s: { name: string }) => s.name).sort()).toEqual(['OLD_KEY']);
    expect(r.secrets[0]).toMatchObject({
      where: 'project maps',
      version: 1,
      lastRotatedBy: OWNER.email,
      ageDays: 120,
    });
    expect(r.idleTokens.map((k: { name: string }) => k.name)).toEqual(['forgotten']);
    expect(r.tokensWithoutExpiry.map((k: { name: string }) => k.name)).toEqual(['forgotten']);
    expect(r.inactiveMembers.map((m: { email: string }) => m.email)).toEqual(['bob@example.com']);
    expect(r.expiredInvitations.map((i: { email: string }) => i.email)).toEqual([
      'carol@example.com',
    ]);
    expect(r.rotations).toEqual([]);

    const text = (await ok(['report'])).stdout;
    expect(text).toContain('Secrets not rotated for 90 days (1)');
    expect(text).toMatch(/project maps\s+OLD_KEY\s+env\s+1\s+120\s+owner@example.com/);
    expect(text).toContain('Tokens unused for 90 days or never (1)');
    expect(text).toContain('Members who have not signed in for 90 days (1)');
    expect(text).toContain('Invitations past expiry (1)');
  });

  it('takes the periods as durations', async () => {
    const r = JSON.parse(
      (await ok(['report', '--older-than', '200d', '--inactive', '200d', '--json'])).stdout,
    );
    expect(r.secrets).toEqual([]);
    expect(r.inactiveMembers).toEqual([]);
    // Never used counts whatever the period.
    expect(r.idleTokens.map((k: { name: string }) => k.name)).toEqual(['forgotten']);
    const bad = await hush(['report', '--older-than', 'soon']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('olderThan');
  });

  it('records a token use at most once a minute, and only forward', async () => {
    const before = await t.app.database.db
      .selectFrom('apiTokens')
      .select('lastUsedAt')
      .where('name', '=', 'used')
      .executeTakeFirstOrThrow();
    await ok(['secret', 'list', '--project', 'maps'], { ...cliEnv, HUSH_TOKEN: usedToken });
    await t.app.services.tokenUsage.flush();
    const same = await t.app.database.db
      .selectFrom('apiTokens')
      .select('lastUsedAt')
      .where('name', '=', 'used')
      .executeTakeFirstOrThrow();
    expect(same.lastUsedAt).toBe(before.lastUsedAt);
    expect(Date.parse(same.lastUsedAt!)).toBeGreaterThan(Date.now() + 119 * DAY);
  });

  it('leaves out what the role may not read', async () => {
    const bob = await t.call('POST', '/api/v1/auth/login', {
      body: { email: 'bob@example.com', password: 'member password 1' },
    });
    const r = await t.call('GET', `/api/v1/orgs/${OWNER.org}/report`, { token: bob.body.token });
    expect(r.status).toBe(200);
    expect(r.body.withheld).toEqual([
      'idleTokens',
      'tokensWithoutExpiry',
      'inactiveMembers',
      'expiredInvitations',
    ]);
    expect(r.body.idleTokens).toBeUndefined();
    expect(r.body.secrets.map((s: { name: string }) => s.name)).toEqual(['OLD_KEY']);
  });
});
