import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type Action, builtinRoleAllows } from '../../src/domain/policy/roles.js';
import { bootstrapOwner, OWNER, startTestServer, type TestServer } from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';

const P = `/api/v1/orgs/${OWNER.org}`;
type Scope = 'unscoped' | 'project' | 'environment';
const SCOPES: Scope[] = ['unscoped', 'project', 'environment'];
const ROLES = ['admin', 'devops'] as const;

interface Probe {
  what: string;
  action: Action;
  method: string;
  url: (n: number) => string;
  body?: (n: number) => unknown;
  ok: number;
  /** Whether the call is inside a token limited to project p1, and to environment p1/prod. */
  inside: { project: boolean; environment: boolean };
}

const env = (name: string, n: number) => ({ kind: 'env', name: `${name}_${n}`, value: 'v-1234' });
const ORG_LEVEL = { project: false, environment: false };

// Organization-level resources are outside every limited scope; p1 is inside the project-scoped
// token, p1/prod inside both; p2 inside neither.
const PROBES: Probe[] = [
  {
    what: 'create an unscoped admin token',
    action: 'tokens:manage',
    method: 'POST',
    url: () => `${P}/tokens`,
    body: (n) => ({ name: `escape-${n}`, role: 'admin' }),
    ok: 201,
    inside: ORG_LEVEL,
  },
  {
    what: 'list tokens',
    action: 'tokens:manage',
    method: 'GET',
    url: () => `${P}/tokens`,
    ok: 200,
    inside: ORG_LEVEL,
  },
  {
    what: 'invite an admin',
    action: 'members:manage',
    method: 'POST',
    url: () => `${P}/invitations`,
    body: (n) => ({ email: `admin${n}@example.com`, role: 'admin' }),
    ok: 201,
    inside: ORG_LEVEL,
  },
  {
    what: 'create a custom role',
    action: 'members:manage',
    method: 'POST',
    url: () => `${P}/roles`,
    body: (n) => ({ name: `role-${n}`, grants: [] }),
    ok: 201,
    inside: ORG_LEVEL,
  },
  {
    what: 'create a project',
    action: 'project:create',
    method: 'POST',
    url: () => `${P}/projects`,
    body: (n) => ({ slug: `new-${n}` }),
    ok: 201,
    inside: ORG_LEVEL,
  },
  {
    what: 'edit the organization',
    action: 'org:edit',
    method: 'PATCH',
    url: () => P,
    body: (n) => ({ name: `Acme ${n}` }),
    ok: 200,
    inside: ORG_LEVEL,
  },
  {
    what: 'add an organization-level secret',
    action: 'secrets:write',
    method: 'POST',
    url: () => `${P}/secrets`,
    body: (n) => ({ secret: env('ORG', n) }),
    ok: 201,
    inside: ORG_LEVEL,
  },
  {
    what: 'read the audit log',
    action: 'audit:read',
    method: 'GET',
    url: () => `${P}/audit`,
    ok: 200,
    inside: ORG_LEVEL,
  },
  {
    what: 'export the audit log',
    action: 'audit:read',
    method: 'GET',
    url: () => `${P}/audit/export?format=jsonl`,
    ok: 200,
    inside: ORG_LEVEL,
  },
  {
    what: 'add a secret at p1',
    action: 'secrets:write',
    method: 'POST',
    url: () => `${P}/secrets`,
    body: (n) => ({ project: 'p1', secret: env('P1', n) }),
    ok: 201,
    inside: { project: true, environment: false },
  },
  {
    what: 'add a secret at p1/prod',
    action: 'secrets:write',
    method: 'POST',
    url: () => `${P}/secrets`,
    body: (n) => ({ project: 'p1', env: 'prod', secret: env('P1_PROD', n) }),
    ok: 201,
    inside: { project: true, environment: true },
  },
  {
    what: 'add a secret at p2',
    action: 'secrets:write',
    method: 'POST',
    url: () => `${P}/secrets`,
    body: (n) => ({ project: 'p2', secret: env('P2', n) }),
    ok: 201,
    inside: ORG_LEVEL,
  },
  {
    what: 'add a secret at p2/prod',
    action: 'secrets:write',
    method: 'POST',
    url: () => `${P}/secrets`,
    body: (n) => ({ project: 'p2', env: 'prod', secret: env('P2_PROD', n) }),
    ok: 201,
    inside: ORG_LEVEL,
  },
  {
    what: 'create an environment in p1',
    action: 'environment:create',
    method: 'POST',
    url: () => `${P}/projects/p1/environments`,
    body: (n) => ({ slug: `e-${n}`, type: 'development' }),
    ok: 201,
    inside: { project: true, environment: false },
  },
  {
    what: 'read p1',
    action: 'project:read',
    method: 'GET',
    url: () => `${P}/projects/p1`,
    ok: 200,
    inside: { project: true, environment: true },
  },
  {
    what: "read p1/prod's values",
    action: 'jobs:run',
    method: 'GET',
    url: () => `${P}/runtime/secrets?project=p1&env=prod`,
    ok: 200,
    inside: { project: true, environment: true },
  },
  {
    what: "read p2's values",
    action: 'jobs:run',
    method: 'GET',
    url: () => `${P}/runtime/secrets?project=p2`,
    ok: 200,
    inside: ORG_LEVEL,
  },
  {
    what: 'run an ad-hoc job in p1/prod',
    action: 'jobs:shell',
    method: 'POST',
    url: () => `${P}/jobs`,
    body: () => ({ project: 'p1', env: 'prod', command: ['true'] }),
    ok: 201,
    inside: { project: true, environment: true },
  },
  {
    what: 'run an ad-hoc job in p2',
    action: 'jobs:shell',
    method: 'POST',
    url: () => `${P}/jobs`,
    body: () => ({ project: 'p2', command: ['true'] }),
    ok: 201,
    inside: ORG_LEVEL,
  },
];

describe.each(DIALECTS)('service tokens confined to their scope on %s', (dialect) => {
  let t: TestServer;
  let owner: string;
  const tokens = new Map<string, string>();

  beforeAll(async () => {
    t = await startTestServer(dialect);
    owner = await bootstrapOwner(t);
    for (const project of ['p1', 'p2']) {
      await t.call('POST', `${P}/projects`, { token: owner, body: { slug: project } });
      await t.call('POST', `${P}/projects/${project}/environments`, {
        token: owner,
        body: { slug: 'prod', type: 'production' },
      });
    }
    for (const role of ['admin', 'devops', 'viewer', 'billing-manager'])
      for (const scope of SCOPES) {
        const res = await t.call('POST', `${P}/tokens`, {
          token: owner,
          body: {
            name: `${role}-${scope}`,
            role,
            ...(scope === 'project' ? { projects: ['p1'] } : {}),
            ...(scope === 'environment' ? { environments: ['p1/prod'] } : {}),
          },
        });
        expect(res.status, res.text).toBe(201);
        tokens.set(`${role}-${scope}`, res.body.token as string);
      }
  }, 60_000);
  afterAll(() => t.close());

  it('acts inside its scope only, as its role allows, on every probed route', async () => {
    let n = 0;
    const wrong: string[] = [];
    for (const probe of PROBES)
      for (const role of ROLES)
        for (const scope of SCOPES) {
          const inside = scope === 'unscoped' || probe.inside[scope];
          const expected = builtinRoleAllows(role, probe.action) && inside ? probe.ok : 403;
          const res = await t.call(probe.method, probe.url(++n), {
            token: tokens.get(`${role}-${scope}`)!,
            body: probe.body?.(n),
          });
          if (res.status !== expected)
            wrong.push(`${role} ${scope} ${probe.what}: ${res.status}, expected ${expected}`);
        }
    expect(wrong).toEqual([]);
    // The cells checked, for the closing note of issue 17.
    expect(n).toBe(PROBES.length * ROLES.length * SCOPES.length);
  });

  it('lists only the projects of a token limited to projects', async () => {
    const res = await t.call('GET', `${P}/projects`, { token: tokens.get('admin-project')! });
    expect(res.status).toBe(200);
    const slugs = (res.body.projects ?? res.body).map((p: { slug: string }) => p.slug);
    expect(slugs).toEqual(['p1']);
  });

  it('gives values to tokens whose role may run jobs, never to Viewer or Billing Manager tokens', async () => {
    for (const role of ['viewer', 'billing-manager']) {
      const res = await t.call('GET', `${P}/runtime/secrets?project=p1&env=prod`, {
        token: tokens.get(`${role}-unscoped`)!,
      });
      expect(res.status, role).toBe(403);
      expect(res.body.error.details.permission).toBe('secrets:read-values');
    }
    const devops = await t.call('GET', `${P}/runtime/secrets?project=p1&env=prod`, {
      token: tokens.get('devops-unscoped')!,
    });
    expect(devops.status).toBe(200);
  });

  it('refuses a scope whose environment lies outside its listed projects', async () => {
    const res = await t.call('POST', `${P}/tokens`, {
      token: owner,
      body: { name: 'inconsistent', role: 'devops', projects: ['p1'], environments: ['p2/prod'] },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details.fields[0].field).toBe('environments');
  });
});
