import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  type Action,
  ACTIONS,
  BUILTIN_ROLES,
  type BuiltinRole,
  builtinRoleAllows,
} from '../../src/domain/policy/roles.js';
import {
  addMember,
  bootstrapOwner,
  OWNER,
  startTestServer,
  type TestServer,
} from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';

const ORG = OWNER.org;
const P = `/api/v1/orgs/${ORG}`;

interface Probe {
  method: string;
  url: (n: number) => string;
  body?: (n: number) => unknown;
  /** Status of an allowed call. */
  ok: number;
}

// One REST call per action. `n` makes every call unique so an allowed create never collides.
// Actions without a route yet (runners, integrations) are
// checked through the same authorize() in the unit table below until their routes exist.
const PROBES: Partial<Record<Action, Probe>> = {
  'org:read': { method: 'GET', url: () => P, ok: 200 },
  'org:edit': { method: 'PATCH', url: () => P, body: (n) => ({ name: `Acme ${n}` }), ok: 200 },
  'org:delete': { method: 'DELETE', url: (n) => `/api/v1/orgs/victim-${n}`, ok: 204 },
  'billing:manage': {
    method: 'PATCH',
    url: () => `${P}/billing`,
    body: () => ({ auditRetentionDays: 400 }),
    ok: 200,
  },
  'members:manage': {
    method: 'POST',
    url: () => `${P}/invitations`,
    body: (n) => ({ email: `new${n}@example.com`, role: 'viewer' }),
    ok: 201,
  },
  'project:read': { method: 'GET', url: () => `${P}/projects/base`, ok: 200 },
  'project:edit': { method: 'DELETE', url: (n) => `${P}/projects/doomed-${n}`, ok: 204 },
  'project:create': {
    method: 'POST',
    url: () => `${P}/projects`,
    body: (n) => ({ slug: `p-${n}` }),
    ok: 201,
  },
  'environment:read': { method: 'GET', url: () => `${P}/projects/base/environments`, ok: 200 },
  'environment:edit': {
    method: 'DELETE',
    url: (n) => `${P}/projects/base/environments/doomed-${n}`,
    ok: 204,
  },
  'environment:create': {
    method: 'POST',
    url: () => `${P}/projects/base/environments`,
    body: (n) => ({ slug: `e-${n}`, type: 'staging' }),
    ok: 201,
  },
  'secrets:write': {
    method: 'POST',
    url: () => `${P}/secrets`,
    body: (n) => ({ project: 'base', secret: { kind: 'env', name: `S_${n}`, value: 'v' } }),
    ok: 201,
  },
  'jobs:run': {
    method: 'POST',
    url: () => `${P}/jobs`,
    body: () => ({ project: 'base', service: 'probe' }),
    ok: 201,
  },
  'jobs:shell': {
    method: 'POST',
    url: () => `${P}/jobs`,
    body: () => ({ project: 'base', command: ['true'] }),
    ok: 201,
  },
  'audit:read': { method: 'GET', url: () => `${P}/audit`, ok: 200 },
  'tokens:manage': {
    method: 'POST',
    url: () => `${P}/tokens`,
    body: (n) => ({ name: `t-${n}`, role: 'viewer' }),
    ok: 201,
  },
};

const CELLS = BUILTIN_ROLES.flatMap((role) => ACTIONS.map((action) => [role, action] as const));
const REST_CELLS = CELLS.filter(([, action]) => PROBES[action]);

describe.each(DIALECTS)('the built-in role table through REST on %s', (dialect) => {
  let t: TestServer;
  let ownerToken: string;
  const tokens = {} as Record<BuiltinRole, string>;
  let n = 0;

  beforeAll(async () => {
    t = await startTestServer(dialect);
    ownerToken = await bootstrapOwner(t);
    tokens.owner = ownerToken;
    for (const role of BUILTIN_ROLES.filter((r) => r !== 'owner')) {
      tokens[role] = await addMember(t, ownerToken, `${role}@example.com`, role);
    }
    await t.call('POST', `${P}/projects`, { token: ownerToken, body: { slug: 'base' } });
    await t.call('POST', `${P}/projects/base/services`, {
      token: ownerToken,
      body: { name: 'probe', command: 'true' },
    });
  }, 120_000);
  afterAll(() => t.close());

  /** Creates what an allowed destructive call would remove, as the Owner. */
  async function arrange(action: Action, i: number, role: BuiltinRole) {
    if (action === 'org:delete') {
      // The victim organization gets the role under test too, owned by the Owner.
      await t.call('POST', '/api/v1/orgs', { token: ownerToken, body: { slug: `victim-${i}` } });
      if (role !== 'owner') {
        const inv = await t.call('POST', `/api/v1/orgs/victim-${i}/invitations`, {
          token: ownerToken,
          body: { email: `${role}@example.com`, role },
        });
        await t.call('POST', '/api/v1/invitations/accept', {
          body: { token: inv.body.token, password: 'member password 1' },
        });
      }
    }
    if (action === 'project:edit')
      await t.call('POST', `${P}/projects`, { token: ownerToken, body: { slug: `doomed-${i}` } });
    if (action === 'environment:edit') {
      await t.call('POST', `${P}/projects/base/environments`, {
        token: ownerToken,
        body: { slug: `doomed-${i}`, type: 'preview' },
      });
    }
  }

  it.each(REST_CELLS)('%s: %s', async (role, action) => {
    const probe = PROBES[action]!;
    const i = n++;
    await arrange(action, i, role);
    const res = await t.call(probe.method, probe.url(i), {
      token: tokens[role],
      body: probe.body?.(i),
    });
    if (builtinRoleAllows(role, action)) {
      expect(res.status, res.text).toBe(probe.ok);
    } else {
      expect(res.status, res.text).toBe(403);
      expect(res.body.error).toMatchObject({
        code: 'PERMISSION_DENIED',
        details: { permission: action },
      });
      expect(res.body.error.message).toContain(action);
    }
  });

  it('records every denial in the audit log', async () => {
    const denied = REST_CELLS.filter(
      ([role, action]) => !builtinRoleAllows(role, action) && action !== 'org:delete',
    );
    const page = await t.call('GET', `${P}/audit?eventType=DENIED&limit=1000`, {
      token: ownerToken,
    });
    expect(page.body.events.length).toBe(denied.length);
    const verify = await t.call('GET', `${P}/audit/verify`, { token: ownerToken });
    expect(verify.body.ok).toBe(true);
  });
});

describe('the built-in role table (SPEC §5) as data', () => {
  // The table copied once more by hand from SPEC §5, so a typo in either copy fails.
  const SPEC: Record<Action, string> = {
    'org:read': 'YYYYY',
    'org:edit': 'YYNNN',
    'org:delete': 'YNNNN',
    'billing:manage': 'YYNYN',
    'members:manage': 'YYNNN',
    'runners:manage': 'YYYNN',
    'setup:manage': 'YYYNN',
    'project:read': 'YYYNY',
    'project:edit': 'YYNNN',
    'project:create': 'YYNNN',
    'environment:read': 'YYYNY',
    'environment:edit': 'YYNNN',
    'environment:create': 'YYNNN',
    'secrets:write': 'YYYNN',
    'jobs:run': 'YYYNN',
    'jobs:shell': 'YYYNN',
    'audit:read': 'YYNNN',
    'tokens:manage': 'YYNNN',
    'secrets:read-values': 'NNNNN',
    'ownership:transfer': 'YNNNN',
  };
  it.each(CELLS)('%s: %s', (role, action) => {
    expect(builtinRoleAllows(role, action)).toBe(SPEC[action][BUILTIN_ROLES.indexOf(role)] === 'Y');
  });
});
