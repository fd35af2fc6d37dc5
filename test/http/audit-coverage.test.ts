import { randomBytes } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestServer, type TestServer } from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';
import { pgAdmin } from '../helpers/postgres.js';

interface Step {
  /** `METHOD /api/v1/...` as the route is registered. */
  route: string;
  /** Organization slug whose chain must hold the event. */
  org: string;
  expect: [eventType: string, targetType: string];
  call: (s: State) => Promise<{ status: number; body: unknown }>;
  /** The tool the event names, when the route sets its own (`apply`); else the header's `cli`. */
  tool?: string;
}

interface State {
  t: TestServer;
  token: string;
  other: string;
  ids: Record<string, string>;
}

const A = '/api/v1/orgs/acme';
const cli = { 'x-hush-tool': 'cli' };
const OWNER = { email: 'owner@example.com', password: 'owner password 1' };

// Every state-changing REST route, in an order where each step finds what it needs. A route
// missing from this table fails the first test, so a new route cannot ship without its event.
const STEPS: Step[] = [
  {
    route: 'POST /api/v1/setup',
    org: 'acme',
    expect: ['CREATE', 'organization'],
    call: async (s) =>
      s.t.call('POST', '/api/v1/setup', {
        headers: cli,
        body: { token: s.ids.setup, ...OWNER, org: 'acme' },
      }),
  },
  {
    route: 'POST /api/v1/auth/login',
    org: 'acme',
    expect: ['LOGIN', 'member'],
    call: async (s) => {
      const r = await s.t.call('POST', '/api/v1/auth/login', { headers: cli, body: OWNER });
      s.token = r.body.token;
      return r;
    },
  },
  {
    route: 'POST /api/v1/orgs',
    org: 'other',
    expect: ['CREATE', 'organization'],
    call: (s) =>
      s.t.call('POST', '/api/v1/orgs', { token: s.token, headers: cli, body: { slug: 'other' } }),
  },
  {
    route: 'PATCH /api/v1/orgs/:org',
    org: 'acme',
    expect: ['UPDATE', 'organization'],
    call: (s) => s.t.call('PATCH', A, { token: s.token, headers: cli, body: { name: 'Acme Inc' } }),
  },
  {
    route: 'PATCH /api/v1/orgs/:org/billing',
    org: 'acme',
    expect: ['UPDATE', 'settings'],
    call: (s) =>
      s.t.call('PATCH', `${A}/billing`, {
        token: s.token,
        headers: cli,
        body: { auditRetentionDays: 365 },
      }),
  },
  {
    route: 'POST /api/v1/orgs/:org/invitations',
    org: 'acme',
    expect: ['CREATE', 'invitation'],
    call: async (s) => {
      const r = await s.t.call('POST', `${A}/invitations`, {
        token: s.token,
        headers: cli,
        body: { email: 'gone@example.com', role: 'viewer' },
      });
      s.ids.inv = r.body.id;
      return r;
    },
  },
  {
    route: 'DELETE /api/v1/orgs/:org/invitations/:id',
    org: 'acme',
    expect: ['DELETE', 'invitation'],
    call: (s) =>
      s.t.call('DELETE', `${A}/invitations/${s.ids.inv}`, { token: s.token, headers: cli }),
  },
  {
    route: 'POST /api/v1/invitations/accept',
    org: 'acme',
    expect: ['CREATE', 'member'],
    call: async (s) => {
      const inv = await s.t.call('POST', `${A}/invitations`, {
        token: s.token,
        body: { email: 'dev@example.com', role: 'devops' },
      });
      return s.t.call('POST', '/api/v1/invitations/accept', {
        headers: cli,
        body: { token: inv.body.token, password: 'dev password 1' },
      });
    },
  },
  {
    route: 'PATCH /api/v1/orgs/:org/members/:email',
    org: 'acme',
    expect: ['UPDATE', 'member'],
    call: (s) =>
      s.t.call('PATCH', `${A}/members/dev@example.com`, {
        token: s.token,
        headers: cli,
        body: { role: 'admin' },
      }),
  },
  {
    route: 'POST /api/v1/orgs/:org/members/:email/transfer-ownership',
    org: 'other',
    expect: ['UPDATE', 'member'],
    call: async (s) => {
      const inv = await s.t.call('POST', '/api/v1/orgs/other/invitations', {
        token: s.token,
        body: { email: 'dev@example.com', role: 'admin' },
      });
      await s.t.call('POST', '/api/v1/invitations/accept', {
        body: { token: inv.body.token, password: 'dev password 1' },
      });
      return s.t.call('POST', '/api/v1/orgs/other/members/dev@example.com/transfer-ownership', {
        token: s.token,
        headers: cli,
      });
    },
  },
  {
    route: 'DELETE /api/v1/orgs/:org/members/:email',
    org: 'acme',
    expect: ['DELETE', 'member'],
    call: (s) =>
      s.t.call('DELETE', `${A}/members/dev@example.com`, { token: s.token, headers: cli }),
  },
  {
    route: 'POST /api/v1/orgs/:org/projects',
    org: 'acme',
    expect: ['CREATE', 'project'],
    call: (s) =>
      s.t.call('POST', `${A}/projects`, { token: s.token, headers: cli, body: { slug: 'maps' } }),
  },
  {
    route: 'POST /api/v1/orgs/:org/projects/:project/environments',
    org: 'acme',
    expect: ['CREATE', 'environment'],
    call: (s) =>
      s.t.call('POST', `${A}/projects/maps/environments`, {
        token: s.token,
        headers: cli,
        body: { slug: 'prod', type: 'production' },
      }),
  },
  {
    route: 'POST /api/v1/orgs/:org/projects/:project/services',
    org: 'acme',
    expect: ['CREATE', 'service'],
    call: (s) =>
      s.t.call('POST', `${A}/projects/maps/services`, {
        token: s.token,
        headers: cli,
        body: { name: 'sync', command: 'true' },
      }),
  },
  {
    route: 'POST /api/v1/orgs/:org/secrets',
    org: 'acme',
    expect: ['CREATE', 'secret'],
    call: async (s) => {
      const r = await s.t.call('POST', `${A}/secrets`, {
        token: s.token,
        headers: cli,
        body: { project: 'maps', secret: { kind: 'env', name: 'K', value: 'v1' } },
      });
      s.ids.secret = r.body[0].id;
      return r;
    },
  },
  {
    route: 'POST /api/v1/orgs/:org/secrets/set',
    org: 'acme',
    expect: ['CREATE', 'secret'],
    call: (s) =>
      s.t.call('POST', `${A}/secrets/set`, {
        token: s.token,
        headers: cli,
        body: { project: 'maps', secrets: [{ name: 'SET_ONE', value: 'v1' }] },
      }),
  },
  {
    route: 'POST /api/v1/orgs/:org/secrets/import',
    org: 'acme',
    expect: ['ROTATE', 'secret'],
    call: (s) =>
      s.t.call('POST', `${A}/secrets/import`, {
        token: s.token,
        headers: cli,
        body: { project: 'maps', format: 'dotenv', text: '# rotated\nSET_ONE="v2"\n' },
      }),
  },
  {
    route: 'POST /api/v1/orgs/:org/secrets/:id/rotate',
    org: 'acme',
    expect: ['ROTATE', 'secret'],
    call: (s) =>
      s.t.call('POST', `${A}/secrets/${s.ids.secret}/rotate`, {
        token: s.token,
        headers: cli,
        body: { kind: 'env', value: 'v2' },
      }),
  },
  {
    route: 'POST /api/v1/orgs/:org/secrets/:id/rollback',
    org: 'acme',
    expect: ['ROLLBACK', 'secret'],
    call: (s) =>
      s.t.call('POST', `${A}/secrets/${s.ids.secret}/rollback`, {
        token: s.token,
        headers: cli,
        body: { version: 1 },
      }),
  },
  {
    route: 'PATCH /api/v1/orgs/:org/secrets/:id',
    org: 'acme',
    expect: ['UPDATE', 'secret'],
    call: async (s) => {
      const pg = await s.t.call('POST', `${A}/secrets`, {
        token: s.token,
        headers: cli,
        body: {
          project: 'maps',
          secret: { kind: 'pgservice', name: 'main', settings: { host: 'h' } },
        },
      });
      return s.t.call('PATCH', `${A}/secrets/${pg.body[0].id}`, {
        token: s.token,
        headers: cli,
        body: { exportEnv: true },
      });
    },
  },
  {
    route: 'POST /api/v1/orgs/:org/rotations',
    org: 'acme',
    expect: ['CREATE', 'rotation'],
    call: async (s) => {
      // A real role on the shared PostgreSQL, which the run below gives a new password.
      const role = `hush_cov_${randomBytes(4).toString('hex')}`;
      await pgAdmin((c) => c.query(`create role ${role} login`));
      const settings = { host: '127.0.0.1', port: '5432', dbname: 'postgres' };
      for (const [name, user] of [
        ['cov-admin', 'postgres'],
        ['cov-app', role],
      ])
        await s.t.call('POST', `${A}/secrets`, {
          token: s.token,
          headers: cli,
          body: {
            project: 'maps',
            secret: { kind: 'pgservice', name, settings: { ...settings, user } },
          },
        });
      return s.t.call('POST', `${A}/rotations`, {
        token: s.token,
        headers: cli,
        body: { name: 'cov', secret: 'cov-app', project: 'maps', adminService: 'cov-admin' },
      });
    },
  },
  {
    route: 'POST /api/v1/orgs/:org/rotations/:name/run',
    org: 'acme',
    expect: ['UPDATE', 'rotation'],
    call: (s) => s.t.call('POST', `${A}/rotations/cov/run`, { token: s.token, headers: cli }),
  },
  {
    route: 'PATCH /api/v1/orgs/:org/rotations/:name',
    org: 'acme',
    expect: ['UPDATE', 'rotation'],
    call: (s) =>
      s.t.call('PATCH', `${A}/rotations/cov`, {
        token: s.token,
        headers: cli,
        body: { paused: true },
      }),
  },
  {
    route: 'DELETE /api/v1/orgs/:org/rotations/:name',
    org: 'acme',
    expect: ['DELETE', 'rotation'],
    call: (s) => s.t.call('DELETE', `${A}/rotations/cov`, { token: s.token, headers: cli }),
  },
  {
    route: 'DELETE /api/v1/orgs/:org/secrets/:id',
    org: 'acme',
    expect: ['DELETE', 'secret'],
    call: (s) =>
      s.t.call('DELETE', `${A}/secrets/${s.ids.secret}`, { token: s.token, headers: cli }),
  },
  {
    route: 'POST /api/v1/orgs/:org/jobs',
    org: 'acme',
    expect: ['TRIGGER_JOB', 'job'],
    call: async (s) => {
      const r = await s.t.call('POST', `${A}/jobs`, {
        token: s.token,
        headers: cli,
        body: { project: 'maps', service: 'sync' },
      });
      s.ids.job = r.body.id;
      return r;
    },
  },
  {
    route: 'POST /api/v1/orgs/:org/jobs/:id/cancel',
    org: 'acme',
    expect: ['CANCEL_JOB', 'job'],
    call: (s) =>
      s.t.call('POST', `${A}/jobs/${s.ids.job}/cancel`, { token: s.token, headers: cli }),
  },
  {
    route: 'POST /api/v1/orgs/:org/tokens',
    org: 'acme',
    expect: ['CREATE', 'token'],
    call: (s) =>
      s.t.call('POST', `${A}/tokens`, {
        token: s.token,
        headers: cli,
        body: { name: 'ci', role: 'viewer' },
      }),
  },
  {
    route: 'DELETE /api/v1/orgs/:org/tokens/:name',
    org: 'acme',
    expect: ['DELETE', 'token'],
    call: (s) => s.t.call('DELETE', `${A}/tokens/ci`, { token: s.token, headers: cli }),
  },
  {
    route: 'POST /api/v1/me/tokens',
    org: 'acme',
    expect: ['CREATE', 'token'],
    call: (s) =>
      s.t.call('POST', '/api/v1/me/tokens', {
        token: s.token,
        headers: cli,
        body: { name: 'laptop' },
      }),
  },
  {
    route: 'DELETE /api/v1/me/tokens/:name',
    org: 'acme',
    expect: ['DELETE', 'token'],
    call: (s) => s.t.call('DELETE', '/api/v1/me/tokens/laptop', { token: s.token, headers: cli }),
  },
  {
    route: 'POST /api/v1/orgs/:org/roles',
    org: 'acme',
    expect: ['CREATE', 'role'],
    call: (s) =>
      s.t.call('POST', `${A}/roles`, {
        token: s.token,
        headers: cli,
        body: { name: 'deployer', grants: [{ project: 'maps', type: 'staging', level: 'deploy' }] },
      }),
  },
  {
    route: 'POST /api/v1/orgs/:org/config/apply',
    org: 'acme',
    expect: ['CREATE', 'project'],
    tool: 'apply',
    call: (s) =>
      s.t.call('POST', `${A}/config/apply`, {
        token: s.token,
        headers: cli,
        body: { source: 'organization: acme\nprojects:\n  applied: {}\n' },
      }),
  },
  {
    route: 'DELETE /api/v1/orgs/:org/roles/:name',
    org: 'acme',
    expect: ['DELETE', 'role'],
    call: (s) => s.t.call('DELETE', `${A}/roles/deployer`, { token: s.token, headers: cli }),
  },
  {
    route: 'DELETE /api/v1/orgs/:org/projects/:project/services/:service',
    org: 'acme',
    expect: ['DELETE', 'service'],
    call: (s) =>
      s.t.call('DELETE', `${A}/projects/maps/services/sync`, { token: s.token, headers: cli }),
  },
  {
    route: 'DELETE /api/v1/orgs/:org/projects/:project/environments/:env',
    org: 'acme',
    expect: ['DELETE', 'environment'],
    call: (s) =>
      s.t.call('DELETE', `${A}/projects/maps/environments/prod`, { token: s.token, headers: cli }),
  },
  {
    route: 'DELETE /api/v1/orgs/:org/projects/:project',
    org: 'acme',
    expect: ['DELETE', 'project'],
    call: (s) => s.t.call('DELETE', `${A}/projects/maps`, { token: s.token, headers: cli }),
  },
  {
    route: 'DELETE /api/v1/orgs/:org',
    org: 'other',
    expect: ['DELETE', 'organization'],
    call: async (s) => {
      const dev = await s.t.call('POST', '/api/v1/auth/login', {
        body: { email: 'dev@example.com', password: 'dev password 1' },
      });
      return s.t.call('DELETE', '/api/v1/orgs/other', { token: dev.body.token, headers: cli });
    },
  },
  {
    route: 'POST /api/v1/auth/logout',
    org: 'acme',
    expect: ['DELETE', 'token'],
    call: (s) => s.t.call('POST', '/api/v1/auth/logout', { token: s.token, headers: cli }),
  },
];

// POST routes that change nothing: a plan sends the file in its body, as apply does.
const READ_ONLY_POSTS = ['POST /api/v1/orgs/:org/config/plan'];

describe.each(DIALECTS)('audit coverage of every state-changing route on %s', (dialect) => {
  const s = { ids: {} } as State;

  beforeAll(async () => {
    s.t = await startTestServer(dialect);
    s.ids.setup = (await s.t.app.services.auth.issueSetupToken())!;
  });
  afterAll(() => s.t.close());

  it('has a step for every POST, PUT, PATCH and DELETE route in the OpenAPI document', async () => {
    const doc = (await s.t.call('GET', '/api/v1/openapi.json')).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops)
        .filter((m) => m !== 'get')
        .map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    expect([...STEPS.map((step) => step.route), ...READ_ONLY_POSTS].sort()).toEqual(routes.sort());
  });

  it.each(STEPS.map((step) => [step.route, step] as const))(
    '%s writes its event',
    async (_route, step) => {
      const orgs = await s.t.app.database.db
        .selectFrom('organizations')
        .select(['id', 'slug'])
        .execute();
      const orgId = orgs.find((o) => o.slug === step.org)?.id ?? '';
      const before = await s.t.app.database.db.selectFrom('auditEvents').select('id').execute();
      const seen = new Set(before.map((e) => e.id));
      const res = await step.call(s);
      expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
      const after = await s.t.app.database.db.selectFrom('auditEvents').selectAll().execute();
      const written = after.filter((e) => !seen.has(e.id));
      const match = written.find(
        (e) =>
          e.eventType === step.expect[0] &&
          e.targetType === step.expect[1] &&
          (orgId === '' || e.orgId === orgId),
      );
      expect(match, JSON.stringify(written.map((e) => [e.eventType, e.targetType]))).toBeDefined();
      expect(match?.tool).toBe(step.tool ?? 'cli');
      expect(match?.actor).toMatch(/@example\.com$/);
      expect(match?.targetName).toBeTruthy();
    },
  );
  it('writes no event for a POST that only reads (a plan)', async () => {
    const login = await s.t.call('POST', '/api/v1/auth/login', { body: OWNER });
    const before = await s.t.app.database.db.selectFrom('auditEvents').select('id').execute();
    const res = await s.t.call('POST', `${A}/config/plan`, {
      token: login.body.token,
      headers: cli,
      body: { source: 'organization: acme\nprojects:\n  planned: {}\n' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const after = await s.t.app.database.db.selectFrom('auditEvents').select('id').execute();
    expect(after.length).toBe(before.length);
  });
});
