import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { GRANT_LEVELS, type GrantLevel } from '../../src/domain/policy/custom-roles.js';
import {
  addMember,
  bootstrapOwner,
  OWNER,
  startTestServer,
  type TestServer,
} from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';

const O = `/api/v1/orgs/${OWNER.org}`;
const M = `${O}/projects/maps`;
const TYPES = {
  prod: 'production',
  stage: 'staging',
  dev: 'development',
  prev: 'preview',
} as const;

interface Probe {
  name: string;
  /** The lowest grant on staging that allows it; null: no custom role may. */
  min: GrantLevel | null;
  method: string;
  url: (n: number) => string;
  body?: (n: number) => unknown;
  arrange?: (t: TestServer, owner: string, n: number) => Promise<unknown>;
}

// Each role under test has one grant: its level on maps:staging, nothing elsewhere.
const PROBES: Probe[] = [
  { name: 'org:read', min: 'none', method: 'GET', url: () => O },
  { name: 'project:read maps', min: 'read-only', method: 'GET', url: () => M },
  {
    name: 'environment:read maps',
    min: 'read-only',
    method: 'GET',
    url: () => `${M}/environments`,
  },
  {
    name: 'secrets:write on staging',
    min: 'deploy',
    method: 'POST',
    url: () => `${O}/secrets`,
    body: (n) => ({
      project: 'maps',
      env: 'stage',
      secret: { kind: 'env', name: `S_${n}`, value: 'v' },
    }),
  },
  {
    name: 'secrets:write on production',
    min: null,
    method: 'POST',
    url: () => `${O}/secrets`,
    body: (n) => ({
      project: 'maps',
      env: 'prod',
      secret: { kind: 'env', name: `S_${n}`, value: 'v' },
    }),
  },
  {
    name: 'secrets:write project-wide',
    min: null,
    method: 'POST',
    url: () => `${O}/secrets`,
    body: (n) => ({ project: 'maps', secret: { kind: 'env', name: `S_${n}`, value: 'v' } }),
  },
  {
    name: 'jobs:run on staging',
    min: 'deploy',
    method: 'POST',
    url: () => `${O}/jobs`,
    body: () => ({ project: 'maps', service: 'svc-stage' }),
  },
  {
    name: 'jobs:run on production',
    min: null,
    method: 'POST',
    url: () => `${O}/jobs`,
    body: () => ({ project: 'maps', service: 'svc-prod' }),
  },
  {
    name: 'jobs:shell on staging',
    min: 'manage',
    method: 'POST',
    url: () => `${O}/jobs`,
    body: () => ({ project: 'maps', env: 'stage', command: ['true'] }),
  },
  {
    name: 'environment:create staging',
    min: 'manage',
    method: 'POST',
    url: () => `${M}/environments`,
    body: (n) => ({ slug: `s-${n}`, type: 'staging' }),
  },
  {
    name: 'environment:create production',
    min: null,
    method: 'POST',
    url: () => `${M}/environments`,
    body: (n) => ({ slug: `p-${n}`, type: 'production' }),
  },
  {
    name: 'environment:edit staging service',
    min: 'manage',
    method: 'DELETE',
    url: (n) => `${M}/services/doomed-${n}`,
    arrange: (t, owner, n) =>
      t.call('POST', `${M}/services`, {
        token: owner,
        body: { name: `doomed-${n}`, environment: 'stage', command: 'true' },
      }),
  },
  { name: 'project:edit (delete project)', min: null, method: 'DELETE', url: () => M },
  {
    name: 'project:create',
    min: null,
    method: 'POST',
    url: () => `${O}/projects`,
    body: (n) => ({ slug: `new-${n}` }),
  },
  {
    name: 'project:read hidden project',
    min: null,
    method: 'GET',
    url: () => `${O}/projects/hidden`,
  },
  { name: 'org:edit', min: null, method: 'PATCH', url: () => O, body: () => ({ name: 'x' }) },
  {
    name: 'billing:manage',
    min: null,
    method: 'PATCH',
    url: () => `${O}/billing`,
    body: () => ({ plan: 'team' }),
  },
  {
    name: 'members:manage',
    min: null,
    method: 'POST',
    url: () => `${O}/invitations`,
    body: (n) => ({ email: `x${n}@example.com`, role: 'viewer' }),
  },
  {
    name: 'roles (members:manage)',
    min: null,
    method: 'POST',
    url: () => `${O}/roles`,
    body: (n) => ({ name: `r-${n}`, grants: [] }),
  },
  {
    name: 'tokens:manage',
    min: null,
    method: 'POST',
    url: () => `${O}/tokens`,
    body: (n) => ({ name: `t-${n}`, role: 'viewer' }),
  },
  { name: 'audit:read', min: null, method: 'GET', url: () => `${O}/audit` },
];

const rank = (l: GrantLevel) => GRANT_LEVELS.indexOf(l);
const CELLS = GRANT_LEVELS.flatMap((level) =>
  PROBES.map((probe) => [level, probe.name, probe] as const),
);

describe.each(DIALECTS)('custom roles through REST on %s', (dialect) => {
  let t: TestServer;
  let owner: string;
  const tokens = {} as Record<GrantLevel, string>;
  let n = 0;

  beforeAll(async () => {
    t = await startTestServer(dialect);
    owner = await bootstrapOwner(t);
    for (const slug of ['maps', 'hidden'])
      await t.call('POST', `${O}/projects`, { token: owner, body: { slug } });
    for (const [slug, type] of Object.entries(TYPES)) {
      await t.call('POST', `${M}/environments`, { token: owner, body: { slug, type } });
      await t.call('POST', `${M}/services`, {
        token: owner,
        body: { name: `svc-${slug}`, environment: slug, command: 'true' },
      });
    }
    for (const level of GRANT_LEVELS) {
      const role = await t.call('POST', `${O}/roles`, {
        token: owner,
        body: { name: `lvl-${level}`, grants: [{ project: 'maps', type: 'staging', level }] },
      });
      expect(role.status, role.text).toBe(201);
      tokens[level] = await addMember(t, owner, `${level}@example.com`, `lvl-${level}`);
    }
  }, 120_000);
  afterAll(() => t.close());

  it.each(CELLS)('%s on staging: %s', async (level, _name, probe) => {
    const i = n++;
    await probe.arrange?.(t, owner, i);
    const res = await t.call(probe.method, probe.url(i), {
      token: tokens[level],
      body: probe.body?.(i),
    });
    const allowed = probe.min !== null && rank(level) >= rank(probe.min);
    if (allowed) expect(res.status, res.text).toBeLessThan(300);
    else {
      expect(res.status, res.text).toBe(403);
      expect(res.body.error.code).toBe('PERMISSION_DENIED');
    }
  });

  it('lists only the projects a role grants', async () => {
    const none = await t.call('GET', `${O}/projects`, { token: tokens.none });
    expect(none.body).toEqual([]);
    const some = await t.call('GET', `${O}/projects`, { token: tokens['read-only'] });
    expect(some.body.map((p: { slug: string }) => p.slug)).toEqual(['maps']);
  });

  it('lets full on every environment type delete the project, and refuses to delete a held role', async () => {
    const grants = Object.values(TYPES).map((type) => ({ project: 'hidden', type, level: 'full' }));
    await t.call('POST', `${O}/roles`, { token: owner, body: { name: 'hidden-admin', grants } });
    const member = await addMember(t, owner, 'hidden-admin@example.com', 'hidden-admin');
    expect((await t.call('DELETE', `${O}/roles/hidden-admin`, { token: owner })).status).toBe(409);
    expect((await t.call('DELETE', `${O}/projects/hidden`, { token: member })).status).toBe(204);
    const bad = await t.call('POST', `${O}/roles`, {
      token: owner,
      body: { name: 'admin', grants: [] },
    });
    expect(bad.status).toBe(400);
  });
});

describe.each(DIALECTS)('organization isolation on %s', (dialect) => {
  it('shows a member of one organization nothing of another, on every GET route', async () => {
    const t = await startTestServer(dialect);
    try {
      const owner = await bootstrapOwner(t);
      await t.call('POST', '/api/v1/orgs', { token: owner, body: { slug: 'beta' } });
      const B = '/api/v1/orgs/beta';
      await t.call('POST', `${B}/projects`, { token: owner, body: { slug: 'secret-project' } });
      await t.call('POST', `${B}/projects/secret-project/environments`, {
        token: owner,
        body: { slug: 'prod', type: 'production' },
      });
      await t.call('POST', `${B}/projects/secret-project/services`, {
        token: owner,
        body: { name: 'svc', command: 'true' },
      });
      const secret = await t.call('POST', `${B}/secrets`, {
        token: owner,
        body: {
          project: 'secret-project',
          secret: { kind: 'env', name: 'K', value: 'beta-only-value' },
        },
      });
      const job = await t.call('POST', `${B}/jobs`, {
        token: owner,
        body: { project: 'secret-project', service: 'svc' },
      });
      await t.call('POST', `${B}/roles`, { token: owner, body: { name: 'beta-role', grants: [] } });
      const audit = await t.call('GET', `${B}/audit`, { token: owner });
      const outsider = await addMember(t, owner, 'outsider@example.com', 'admin');
      const values: Record<string, string> = {
        org: 'beta',
        project: 'secret-project',
        env: 'prod',
        service: 'svc',
        name: 'beta-role',
        email: OWNER.email,
      };
      const doc = (await t.call('GET', '/api/v1/openapi.json')).body as {
        paths: Record<string, Record<string, unknown>>;
      };
      const routes = Object.entries(doc.paths)
        .filter(([path, ops]) => 'get' in ops && path.includes('{org}'))
        .map(([path]) => path);
      expect(routes.length).toBeGreaterThan(15);
      for (const path of routes) {
        const id = path.includes('/secrets/')
          ? secret.body[0].id
          : path.includes('/jobs/')
            ? job.body.id
            : audit.body.events[0].id;
        const url =
          path.replace(/\{(\w+)\}/g, (_m, key: string) =>
            key === 'id' ? id : (values[key] ?? 'x'),
          ) +
          (path.endsWith('/resolve') || path.endsWith('/runtime/secrets')
            ? '?project=secret-project'
            : path.endsWith('/secrets/value')
              ? '?project=secret-project&name=K'
              : path.endsWith('/audit/export')
                ? '?format=jsonl'
                : '');
        const res = await t.call('GET', url, { token: outsider });
        expect(res.status, `${url}: ${res.text}`).toBe(404);
        expect(res.text).not.toContain('secret-project');
        expect(res.text).not.toContain('beta-only-value');
      }
    } finally {
      await t.close();
    }
  });
});
