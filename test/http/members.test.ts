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

describe.each(DIALECTS)('members, invitations and ownership on %s', (dialect) => {
  let t: TestServer;
  let owner: string;
  let admin: string;

  beforeAll(async () => {
    t = await startTestServer(dialect);
    owner = await bootstrapOwner(t);
    admin = await addMember(t, owner, 'admin@example.com', 'admin');
  });
  afterAll(() => t.close());

  const roles = async () =>
    Object.fromEntries(
      (
        (await t.call('GET', `${O}/members`, { token: owner })).body as {
          email: string;
          role: string;
        }[]
      ).map((m) => [m.email, m.role]),
    );

  it('refuses to remove or demote the Owner, and lets only the Owner transfer ownership', async () => {
    expect((await t.call('DELETE', `${O}/members/${OWNER.email}`, { token: admin })).status).toBe(
      409,
    );
    expect(
      (
        await t.call('PATCH', `${O}/members/${OWNER.email}`, {
          token: admin,
          body: { role: 'viewer' },
        })
      ).status,
    ).toBe(409);
    expect(
      (
        await t.call('PATCH', `${O}/members/admin@example.com`, {
          token: owner,
          body: { role: 'owner' },
        })
      ).status,
    ).toBe(400);
    const denied = await t.call('POST', `${O}/members/admin@example.com/transfer-ownership`, {
      token: admin,
    });
    expect(denied.status).toBe(403);
    expect(denied.body.error.details.permission).toBe('ownership:transfer');
  });

  it('transfers ownership: exactly one Owner, the previous one becomes Admin, effective at once', async () => {
    const res = await t.call('POST', `${O}/members/admin@example.com/transfer-ownership`, {
      token: owner,
    });
    expect(res.status, res.text).toBe(200);
    expect(await roles()).toEqual({ 'admin@example.com': 'owner', [OWNER.email]: 'admin' });
    // The new Owner may delete the organization's members; the old one may no longer transfer.
    expect(
      (await t.call('POST', `${O}/members/admin@example.com/transfer-ownership`, { token: owner }))
        .status,
    ).toBe(403);
    expect(
      (await t.call('POST', `${O}/members/${OWNER.email}/transfer-ownership`, { token: admin }))
        .status,
    ).toBe(200);
    expect(await roles()).toEqual({ 'admin@example.com': 'admin', [OWNER.email]: 'owner' });
  });

  it('revokes a pending invitation: its token no longer works', async () => {
    const inv = await t.call('POST', `${O}/invitations`, {
      token: owner,
      body: { email: 'late@example.com', role: 'viewer' },
    });
    const pending = await t.call('GET', `${O}/invitations`, { token: owner });
    expect(pending.body.map((i: { email: string }) => i.email)).toContain('late@example.com');
    expect(
      (await t.call('DELETE', `${O}/invitations/${inv.body.id}`, { token: owner })).status,
    ).toBe(204);
    const accept = await t.call('POST', '/api/v1/invitations/accept', {
      body: { token: inv.body.token, password: 'late password 1' },
    });
    expect(accept.status).toBe(404);
    expect(accept.body.error.code).toBe('INVITATION_NOT_FOUND');
  });

  it('lets an existing user join a second organization with the same account', async () => {
    await t.call('POST', '/api/v1/orgs', { token: owner, body: { slug: 'second' } });
    const inv = await t.call('POST', '/api/v1/orgs/second/invitations', {
      token: owner,
      body: { email: 'admin@example.com', role: 'viewer' },
    });
    const wrong = await t.call('POST', '/api/v1/invitations/accept', {
      body: { token: inv.body.token, password: 'not the password' },
    });
    expect(wrong.status).toBe(401);
    const ok = await t.call('POST', '/api/v1/invitations/accept', {
      body: { token: inv.body.token, password: 'member password 1' },
    });
    expect(ok.status, ok.text).toBe(201);
    const who = await t.call('GET', '/api/v1/auth/whoami', { token: ok.body.token });
    expect(
      who.body.organizations
        .map((o: { slug: string; role: string }) => `${o.slug}:${o.role}`)
        .sort(),
    ).toEqual(['acme:admin', 'second:viewer']);
  });

  it('applies a role change, a removal and a token revocation on the very next request', async () => {
    const dev = await addMember(t, owner, 'dev@example.com', 'devops');
    expect((await t.call('GET', `${O}/projects`, { token: dev })).status).toBe(200);
    await t.call('PATCH', `${O}/members/dev@example.com`, {
      token: owner,
      body: { role: 'billing-manager' },
    });
    expect((await t.call('GET', `${O}/projects`, { token: dev })).status).toBe(403);
    await t.call('DELETE', `${O}/members/dev@example.com`, { token: owner });
    expect((await t.call('GET', `${O}`, { token: dev })).status).toBe(404);
    const tok = await t.call('POST', `${O}/tokens`, {
      token: owner,
      body: { name: 'short-lived', role: 'viewer' },
    });
    expect((await t.call('GET', `${O}/projects`, { token: tok.body.token })).status).toBe(200);
    await t.call('DELETE', `${O}/tokens/short-lived`, { token: owner });
    const after = await t.call('GET', `${O}/projects`, { token: tok.body.token });
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('SESSION_EXPIRED');
  });

  it('limits a service token to its projects and lets a personal token act as its user', async () => {
    for (const slug of ['alpha', 'beta'])
      await t.call('POST', `${O}/projects`, { token: owner, body: { slug } });
    const scoped = await t.call('POST', `${O}/tokens`, {
      token: owner,
      body: { name: 'alpha-only', role: 'devops', projects: ['alpha'] },
    });
    expect(scoped.status, scoped.text).toBe(201);
    const list = await t.call('GET', `${O}/projects`, { token: scoped.body.token });
    expect(list.body.map((p: { slug: string }) => p.slug)).toEqual(['alpha']);
    expect((await t.call('GET', `${O}/projects/alpha`, { token: scoped.body.token })).status).toBe(
      200,
    );
    const other = await t.call('GET', `${O}/projects/beta`, { token: scoped.body.token });
    expect(other.status).toBe(403);
    const pat = await t.call('POST', '/api/v1/me/tokens', {
      token: owner,
      body: { name: 'laptop', expiresInDays: 30 },
    });
    expect(pat.body).toMatchObject({
      name: 'laptop',
      kind: 'personal',
      expiresAt: expect.any(String),
    });
    const who = await t.call('GET', '/api/v1/auth/whoami', { token: pat.body.token });
    expect(who.body).toMatchObject({ email: OWNER.email, via: 'personal-token' });
    const listed = await t.call('GET', '/api/v1/me/tokens', { token: owner });
    expect(JSON.stringify(listed.body)).not.toContain(pat.body.token);
  });

  it('refuses an expired invitation and an expired token', async () => {
    const inv = await t.call('POST', `${O}/invitations`, {
      token: owner,
      body: { email: 'slow@example.com', role: 'viewer' },
    });
    await t.app.database.db
      .updateTable('invitations')
      .set({ expiresAt: '2000-01-01T00:00:00.000Z' })
      .where('id', '=', inv.body.id)
      .execute();
    const accept = await t.call('POST', '/api/v1/invitations/accept', {
      body: { token: inv.body.token, password: 'slow password 1' },
    });
    expect(accept.status).toBe(404);
    const tok = await t.call('POST', `${O}/tokens`, {
      token: owner,
      body: { name: 'expiring', role: 'viewer', expiresInDays: 1 },
    });
    expect((await t.call('GET', `${O}/projects`, { token: tok.body.token })).status).toBe(200);
    await t.app.database.db
      .updateTable('apiTokens')
      .set({ expiresAt: '2000-01-01T00:00:00.000Z' })
      .where('id', '=', tok.body.id)
      .execute();
    expect((await t.call('GET', `${O}/projects`, { token: tok.body.token })).status).toBe(401);
  });

  it('limits a service token to listed environments', async () => {
    await t.call('POST', `${O}/projects/alpha/environments`, {
      token: owner,
      body: { slug: 'prod', type: 'production' },
    });
    await t.call('POST', `${O}/projects/alpha/environments`, {
      token: owner,
      body: { slug: 'dev', type: 'development' },
    });
    const tok = await t.call('POST', `${O}/tokens`, {
      token: owner,
      body: { name: 'dev-only', role: 'devops', environments: ['alpha/dev'] },
    });
    expect(tok.status, tok.text).toBe(201);
    const add = (env: string) =>
      t.call('POST', `${O}/secrets`, {
        token: tok.body.token,
        body: { project: 'alpha', env, secret: { kind: 'env', name: 'X', value: 'v' } },
      });
    expect((await add('dev')).status).toBe(201);
    expect((await add('prod')).status).toBe(403);
    const projectWide = await t.call('POST', `${O}/secrets`, {
      token: tok.body.token,
      body: { project: 'alpha', secret: { kind: 'env', name: 'Y', value: 'v' } },
    });
    expect(projectWide.status).toBe(403);
  });
});
