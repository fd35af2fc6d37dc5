import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { delayAfter, MAX_DELAY_MS } from '../../src/domain/accounts/sign-in-brake.js';
import { buildServer } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';
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
import { track } from '../helpers/resources.js';

// The sign-in brake (issue: a brake per process, a hard lockout of the right password, no
// per-address limit, and invitations as a free password oracle). Everything here runs against
// a real database; "another node" is a second app and server on the same database.

const loginAs = (t: TestServer, email: string, password: string) =>
  t.call('POST', '/api/v1/auth/login', { body: { email, password } });

/** A second Hush node on the same database as `t`: its own app, brake and HTTP server. */
async function secondNode(t: TestServer) {
  const config = loadConfig({ dataDir: t.dataDir, databaseUrl: t.databaseUrl, logLevel: 'silent' });
  const app = await createApp(config);
  const server = await buildServer(config, {
    services: app.services,
    logger: createLogger('silent'),
  });
  const handle = track('second node', async () => {
    await server.close();
    await app.close();
  });
  const signIn = async (email: string, password: string) => {
    const res = await server.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email, password },
    });
    return { status: res.statusCode, headers: res.headers, body: res.json<CallResult['body']>() };
  };
  return { signIn, close: () => handle.close() };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the brake schedule', () => {
  it('gives five free failures, then waits 1, 2, 4 … s, never more than a minute', () => {
    expect([1, 2, 3, 4, 5].map(delayAfter)).toEqual([0, 0, 0, 0, 0]);
    expect([6, 7, 8, 9].map(delayAfter)).toEqual([1000, 2000, 4000, 8000]);
    expect(delayAfter(12)).toBe(MAX_DELAY_MS);
    expect(delayAfter(10_000)).toBe(MAX_DELAY_MS);
    expect(MAX_DELAY_MS).toBe(60_000);
  });
});

describe.each(DIALECTS)('the sign-in brake on %s', (dialect) => {
  let t: TestServer;
  let owner: string;

  beforeAll(async () => {
    // The per-address limit has its own tests below; here every request comes from 127.0.0.1.
    t = await startTestServer(dialect, { HUSH_ORG_CREATION: 'anyone', HUSH_SIGN_IN_IP_LIMIT: '0' });
    owner = await bootstrapOwner(t);
  });
  afterAll(() => t.close());

  it('spaces out guesses for one account on every node, and lets the right password in after the wait', async () => {
    const email = 'braked@example.com';
    await addMember(t, owner, email, 'devops');
    const node = await secondNode(t);
    const other = node.signIn;
    // Five free failures, spread over both nodes: the count is shared.
    for (let i = 0; i < 5; i++) {
      const res = i % 2 ? await other(email, `wrong ${i}`) : await loginAs(t, email, `wrong ${i}`);
      expect(res.status).toBe(401);
    }
    // The sixth is still checked (and fails); the next one, right password or not, must wait.
    expect((await other(email, 'wrong 6')).status).toBe(401);
    const braked = await loginAs(t, email, 'member password 1');
    expect(braked.status).toBe(429);
    expect(braked.body.error.code).toBe('RATE_LIMITED');
    expect(Number(braked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(braked.headers['retry-after'])).toBeLessThanOrEqual(1);
    const onOther = await other(email, 'member password 1');
    expect(onOther.status).toBe(429);
    expect(onOther.headers['retry-after']).toBeDefined();
    // A brake, not a lockout: after the wait the right password signs in and the count restarts.
    await sleep(1100);
    expect((await loginAs(t, email, 'member password 1')).status).toBe(200);
    expect((await loginAs(t, email, 'wrong again')).status).toBe(401);
    expect((await loginAs(t, email, 'member password 1')).status).toBe(200);
    await node.close();
  });

  it('counts guesses sent in parallel, so a burst cannot outrun the count', async () => {
    const email = 'burst@example.com';
    await addMember(t, owner, email, 'devops');
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => loginAs(t, email, `burst guess ${i}`)),
    );
    const statuses = answers.map((a) => a.status);
    // At most the five free ones and the sixth are checked; the rest wait.
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(6);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(6);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
  });

  it('brakes unknown e-mails exactly like known ones', async () => {
    const answers: number[] = [];
    for (let i = 0; i < 7; i++)
      answers.push((await loginAs(t, 'nobody@example.com', `x${i}`)).status);
    expect(answers).toEqual([401, 401, 401, 401, 401, 401, 429]);
  });

  describe('accepting an invitation for an existing account', () => {
    let attacker: string;

    beforeAll(async () => {
      // Anyone signed in may create an organization here (orgCreation: anyone), and invite anyone.
      await addMember(t, owner, 'attacker@example.com', 'viewer');
      attacker = await login(t, 'attacker@example.com', 'member password 1');
      const org = await t.call('POST', '/api/v1/orgs', { token: attacker, body: { slug: 'evil' } });
      expect(org.status).toBe(201);
    });

    const inviteOwner = async () => {
      const inv = await t.call('POST', '/api/v1/orgs/evil/invitations', {
        token: attacker,
        body: { email: OWNER.email, role: 'admin' },
      });
      expect(inv.status).toBe(201);
      return inv.body.token as string;
    };
    const accept = (token: string, password: string) =>
      t.call('POST', '/api/v1/invitations/accept', { body: { token, password } });

    it('answers a wrong password as a sign-in does, audits it on both sides, keeps the invitation and shares the brake', async () => {
      const token = await inviteOwner();
      const wrong = await accept(token, 'guess number 1');
      expect(wrong.status).toBe(401);
      const signIn = await loginAs(t, 'nobody-else@example.com', 'guess number 1');
      expect(wrong.body.error).toEqual(signIn.body.error);
      expect(wrong.text).not.toContain('exists');

      // Audited in the inviting organization and in the account's own (acme).
      const seen = async (org: string, as: string) =>
        (
          await t.call('GET', `/api/v1/orgs/${org}/audit?eventType=LOGIN_FAILED`, { token: as })
        ).body.events.filter(
          (e: { targetName: string; details: { invitationId?: string } }) =>
            e.targetName === OWNER.email && e.details.invitationId,
        );
      expect(await seen('evil', attacker)).toHaveLength(1);
      expect(await seen('acme', owner)).toHaveLength(1);
      expect(JSON.stringify(await seen('acme', owner))).not.toContain('guess number');

      // Four more free guesses and a sixth, then the brake holds for the invitation and sign-in.
      for (let i = 2; i <= 6; i++)
        expect((await accept(token, `guess number ${i}`)).status).toBe(401);
      const braked = await accept(token, OWNER.password);
      expect(braked.status).toBe(429);
      expect(braked.headers['retry-after']).toBeDefined();
      expect((await loginAs(t, OWNER.email, OWNER.password)).status).toBe(429);

      // Not used up: after the wait the right password joins with it.
      await sleep(1100);
      const joined = await accept(token, OWNER.password);
      expect(joined.status).toBe(201);
      const members = await t.call('GET', '/api/v1/orgs/evil/members', { token: attacker });
      expect(members.body.map((m: { email: string }) => m.email)).toContain(OWNER.email);
    });
  });
});

describe.each(DIALECTS)('the per-address sign-in limit on %s', (dialect) => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer(dialect, { HUSH_SIGN_IN_IP_LIMIT: '10' });
    await bootstrapOwner(t);
  });
  afterAll(() => t.close());

  const from = (ip: string, email: string) =>
    t.server.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      remoteAddress: ip,
      payload: { email, password: 'one password for all' },
    });

  it('stops one address trying one password on many accounts, and no other address', async () => {
    // The bootstrap sign-in above came from 127.0.0.1; these come from another address.
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++)
      statuses.push((await from('10.9.8.7', `user${i}@example.com`)).statusCode);
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]);
    const limited = await from('10.9.8.7', OWNER.email);
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    // The invitation route shares the address's budget.
    const accept = await t.server.inject({
      method: 'POST',
      url: '/api/v1/invitations/accept',
      remoteAddress: '10.9.8.7',
      payload: { token: 'hush_inv_nothing', password: 'whatever password' },
    });
    expect(accept.statusCode).toBe(429);
    // Another address is not affected.
    expect((await from('10.9.8.8', 'user0@example.com')).statusCode).toBe(401);
  });

  it('keeps the count in the database, where every node reads it', async () => {
    const rows = await t.app.database.db
      .selectFrom('rateLimits')
      .select(['key', 'hits'])
      .where('key', '=', 'sign-in:10.9.8.7')
      .execute();
    expect(rows).toHaveLength(1);
    expect(Number(rows[0]!.hits)).toBeGreaterThanOrEqual(13);
  });
});

describe.each(DIALECTS)('who may create organizations on %s', (dialect) => {
  it.each([
    ['admins-only', { HUSH_ORG_CREATION: 'admins-only' }, 403],
    ['the default (admins-only)', {}, 403],
    ['anyone', { HUSH_ORG_CREATION: 'anyone' }, 201],
  ] as const)(
    'with %s, a DevOps member who is nobody’s Admin creates one or not',
    async (_, env, status) => {
      const t = await startTestServer(dialect, env);
      try {
        const owner = await bootstrapOwner(t);
        const dev = await addMember(t, owner, 'dev@example.com', 'devops');
        const res = await t.call('POST', '/api/v1/orgs', {
          token: dev,
          body: { slug: 'side-project' },
        });
        expect(res.status).toBe(status);
        if (status === 403) expect(res.body.error.details.permission).toBe('org:create');
        // An Owner (or Admin) always may; a service token never.
        expect(
          (await t.call('POST', '/api/v1/orgs', { token: owner, body: { slug: 'second-org' } }))
            .status,
        ).toBe(201);
        const service = await t.call('POST', '/api/v1/orgs/acme/tokens', {
          token: owner,
          body: { name: 'ci', role: 'admin' },
        });
        expect(
          (
            await t.call('POST', '/api/v1/orgs', {
              token: service.body.token,
              body: { slug: 'from-a-token' },
            })
          ).status,
        ).toBe(403);
      } finally {
        await t.close();
      }
    },
  );
});
