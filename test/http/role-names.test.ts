import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BUILTIN_ROLES, ROLE_LABELS, roleSlug } from '../../src/domain/policy/roles.js';
import {
  addMember,
  bootstrapOwner,
  OWNER,
  startTestServer,
  type TestServer,
} from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';

const O = `/api/v1/orgs/${OWNER.org}`;

describe('roleSlug', () => {
  it.each(BUILTIN_ROLES.map((r) => [ROLE_LABELS[r], r]))(
    'reads the label %s as the slug %s',
    (label, slug) => {
      expect(roleSlug(label)).toBe(slug);
      expect(roleSlug(label.toUpperCase())).toBe(slug);
      expect(roleSlug(` ${slug} `)).toBe(slug);
    },
  );
});

describe.each(DIALECTS)('role names as people write them, through REST on %s', (dialect) => {
  let t: TestServer;
  let owner: string;
  let n = 0;
  const invite = (role: unknown) =>
    t.call('POST', `${O}/invitations`, {
      token: owner,
      body: { email: `person${++n}@example.com`, role },
    });
  const invitationRoles = async () =>
    ((await t.call('GET', `${O}/invitations`, { token: owner })).body as { role: string }[])
      .map((i) => i.role)
      .sort();
  const auditChanges = async (targetType: string) =>
    (
      await t.app.database.db
        .selectFrom('auditEvents')
        .select('change')
        .where('targetType', '=', targetType)
        .execute()
    ).map((e) => e.change);

  beforeAll(async () => {
    t = await startTestServer(dialect);
    owner = await bootstrapOwner(t);
    expect(
      (await t.call('POST', `${O}/projects`, { token: owner, body: { slug: 'maps' } })).status,
    ).toBe(201);
    const role = await t.call('POST', `${O}/roles`, {
      token: owner,
      body: {
        name: 'deploy-bot',
        grants: [{ project: 'maps', type: 'staging', level: 'deploy' }],
      },
    });
    expect(role.status, role.text).toBe(201);
  });
  afterAll(() => t.close());

  it.each([
    ['DevOps', 'devops'],
    ['devops', 'devops'],
    ['Billing Manager', 'billing-manager'],
    ['billing-manager', 'billing-manager'],
    ['BILLING-MANAGER', 'billing-manager'],
    ['Admin', 'admin'],
    [' Viewer ', 'viewer'],
    ['Deploy-Bot', 'deploy-bot'],
    ['Deploy Bot', 'deploy-bot'],
  ])('invites with the role %j and stores the slug %s', async (role, slug) => {
    const res = await invite(role);
    expect(res.status, res.text).toBe(201);
    expect(res.body.role).toBe(slug);
    expect(await invitationRoles()).toContain(slug);
    expect(await auditChanges('invitation')).toContain(`invited ${res.body.email} as ${slug}`);
  });

  it('changes a member role given as a label, and the member then acts with it', async () => {
    const member = await addMember(t, owner, 'member@example.com', 'Viewer');
    const url = `${O}/members/member@example.com`;
    for (const [role, slug] of [
      ['Billing Manager', 'billing-manager'],
      ['DEVOPS', 'devops'],
      ['deploy bot', 'deploy-bot'],
      ['Admin', 'admin'],
    ] as const) {
      const res = await t.call('PATCH', url, { token: owner, body: { role } });
      expect(res.status, res.text).toBe(200);
      expect(res.body.role).toBe(slug);
    }
    const members = (await t.call('GET', `${O}/members`, { token: owner })).body as {
      email: string;
      role: string;
    }[];
    expect(members.find((m) => m.email === 'member@example.com')?.role).toBe('admin');
    // An Admin may list invitations (members:manage): the stored role is the one checked.
    expect((await t.call('GET', `${O}/invitations`, { token: member })).status).toBe(200);
  });

  it('creates service tokens with a role given as a label or in any case', async () => {
    for (const [name, role, slug] of [
      ['ci-devops', 'DevOps', 'devops'],
      ['ci-billing', 'Billing Manager', 'billing-manager'],
      ['ci-bot', 'DEPLOY-BOT', 'deploy-bot'],
    ] as const) {
      const res = await t.call('POST', `${O}/tokens`, { token: owner, body: { name, role } });
      expect(res.status, res.text).toBe(201);
      expect(res.body.role).toBe(slug);
    }
    const tokens = (await t.call('GET', `${O}/tokens`, { token: owner })).body as {
      name: string;
      role: string;
    }[];
    expect(Object.fromEntries(tokens.map((k) => [k.name, k.role]))).toMatchObject({
      'ci-devops': 'devops',
      'ci-billing': 'billing-manager',
      'ci-bot': 'deploy-bot',
    });
  });

  it('finds a custom role by its name in any case', async () => {
    const res = await t.call('GET', `${O}/roles/Deploy-Bot`, { token: owner });
    expect(res.status, res.text).toBe(200);
    expect(res.body.name).toBe('deploy-bot');
  });

  it.each([
    ['Owner', /exactly one Owner/],
    ['Wizard', /unknown role "wizard"; use one of Admin, DevOps, Billing Manager, Viewer/],
    ['Dev Ops', /unknown role "dev-ops"/],
  ])('refuses %j with 400 naming the role field and writes nothing', async (role, message) => {
    const before = await invitationRoles();
    const res = await invite(role);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.message).toMatch(message);
    expect(res.body.error.details.fields[0].field).toBe('role');
    expect(await invitationRoles()).toEqual(before);
    const token = await t.call('POST', `${O}/tokens`, {
      token: owner,
      body: { name: `bad-${n}`, role },
    });
    expect(token.status).toBe(400);
  });
});
