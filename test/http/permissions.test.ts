import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  addMember,
  bootstrapOwner,
  type CallResult,
  startTestServer,
  type TestServer,
} from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';

const A = '/api/v1/orgs/acme';

interface Level {
  project?: string;
  env?: string;
  service?: string;
}

interface Answer {
  role: string;
  roleLabel: string;
  allowed: string[];
  listProjects: boolean;
  environments?: Record<string, string[]>;
  environmentTypes?: Record<string, string[]>;
}

/** One real route that needs `action` at `level`; each call is safe to repeat. */
interface Probe {
  level: Level;
  action: string;
  call: (token: string) => Promise<CallResult>;
}

describe.each(DIALECTS)('GET /orgs/:org/permissions on %s', (dialect) => {
  let t: TestServer;
  let owner: string;
  const actors: Record<string, string> = {};
  let n = 0;
  const unique = () => ++n;

  const permissions = async (token: string, level: Level = {}) => {
    const q = new URLSearchParams(level as Record<string, string>).toString();
    const res = await t.call('GET', `${A}/permissions${q ? `?${q}` : ''}`, { token });
    expect(res.status, res.text).toBe(200);
    return res.body as Answer;
  };

  const post = (url: string, body: unknown) => (token: string) =>
    t.call('POST', url, { token, body });

  /** Owner-made throwaway things, so that a delete probe deletes something of its own. */
  const throwawayService = async (env?: string) => {
    const name = `tmp${unique()}`;
    const res = await t.call('POST', `${A}/projects/web/services`, {
      token: owner,
      body: { name, command: 'true', ...(env ? { environment: env } : {}) },
    });
    expect(res.status, res.text).toBe(201);
    return name;
  };

  const envProbes = (env: string): Probe[] => [
    {
      level: { project: 'web', env },
      action: 'environment:read',
      call: (token) => t.call('GET', `${A}/secrets?project=web&env=${env}`, { token }),
    },
    {
      level: { project: 'web', env },
      action: 'secrets:write',
      call: (token) =>
        post(`${A}/secrets`, {
          project: 'web',
          env,
          secret: { kind: 'env', name: `PROBE_${unique()}`, value: 'v' },
        })(token),
    },
    {
      level: { project: 'web', env },
      action: 'jobs:shell',
      call: post(`${A}/jobs`, { project: 'web', env, command: ['true'] }),
    },
    {
      level: { project: 'web', env },
      action: 'environment:create',
      call: (token) =>
        post(`${A}/projects/web/services`, {
          name: `svc${unique()}`,
          environment: env,
          command: 'true',
        })(token),
    },
    {
      level: { project: 'web', env },
      action: 'environment:edit',
      call: async (token) =>
        t.call('DELETE', `${A}/projects/web/services/${await throwawayService(env)}`, { token }),
    },
    {
      // A service of the environment: checked as the environment.
      level: { project: 'web', service: env === 'prod' ? 'api' : 'stg' },
      action: 'jobs:run',
      call: post(`${A}/jobs`, { project: 'web', service: env === 'prod' ? 'api' : 'stg' }),
    },
  ];

  const PROBES: Probe[] = [
    {
      level: {},
      action: 'project:create',
      call: (token) => post(`${A}/projects`, { slug: `p${unique()}` })(token),
    },
    {
      level: {},
      action: 'members:manage',
      call: (token) => t.call('GET', `${A}/invitations`, { token }),
    },
    {
      level: {},
      action: 'tokens:manage',
      call: (token) => t.call('GET', `${A}/tokens`, { token }),
    },
    { level: {}, action: 'audit:read', call: (token) => t.call('GET', `${A}/audit`, { token }) },
    {
      level: {},
      action: 'org:edit',
      call: (token) => t.call('PATCH', A, { token, body: { name: 'Acme' } }),
    },
    {
      level: {},
      action: 'billing:manage',
      call: (token) =>
        t.call('PATCH', `${A}/billing`, { token, body: { auditRetentionDays: null } }),
    },
    {
      level: {},
      action: 'project:read',
      call: (token) => t.call('GET', `${A}/secrets`, { token }),
    },
    {
      level: {},
      action: 'secrets:write',
      call: (token) =>
        post(`${A}/secrets`, { secret: { kind: 'env', name: `PROBE_${unique()}`, value: 'v' } })(
          token,
        ),
    },
    {
      level: { project: 'web' },
      action: 'environment:read',
      call: (token) => t.call('GET', `${A}/projects/web/environments`, { token }),
    },
    {
      level: { project: 'web' },
      action: 'secrets:write',
      call: (token) =>
        post(`${A}/secrets`, {
          project: 'web',
          secret: { kind: 'env', name: `PROBE_${unique()}`, value: 'v' },
        })(token),
    },
    {
      level: { project: 'web' },
      action: 'jobs:shell',
      call: post(`${A}/jobs`, { project: 'web', command: ['true'] }),
    },
    {
      level: { project: 'web' },
      action: 'jobs:run',
      call: post(`${A}/jobs`, { project: 'web', service: 'tool' }),
    },
    {
      level: { project: 'web' },
      action: 'environment:create',
      call: (token) =>
        post(`${A}/projects/web/services`, { name: `svc${unique()}`, command: 'true' })(token),
    },
    {
      level: { project: 'web' },
      action: 'environment:edit',
      call: async (token) =>
        t.call('DELETE', `${A}/projects/web/services/${await throwawayService()}`, { token }),
    },
    ...envProbes('prod'),
    ...envProbes('stage'),
  ];

  beforeAll(async () => {
    t = await startTestServer(dialect);
    owner = await bootstrapOwner(t);
    const setup: [string, unknown][] = [
      [`${A}/projects`, { slug: 'web' }],
      [`${A}/projects/web/environments`, { slug: 'prod', type: 'production' }],
      [`${A}/projects/web/environments`, { slug: 'stage', type: 'staging' }],
      [`${A}/projects/web/services`, { name: 'api', environment: 'prod', command: 'true' }],
      [`${A}/projects/web/services`, { name: 'stg', environment: 'stage', command: 'true' }],
      [`${A}/projects/web/services`, { name: 'tool', command: 'true' }],
      [
        `${A}/roles`,
        {
          name: 'stager',
          grants: [
            { project: 'web', type: 'staging', level: 'manage' },
            { project: 'web', type: 'production', level: 'read-only' },
          ],
        },
      ],
    ];
    for (const [url, body] of setup) {
      const res = await t.call('POST', url, { token: owner, body });
      expect(res.status, res.text).toBe(201);
    }
    actors.owner = owner;
    actors.devops = await addMember(t, owner, 'dev@example.com', 'devops');
    actors.viewer = await addMember(t, owner, 'viewer@example.com', 'viewer');
    actors.stager = await addMember(t, owner, 'stager@example.com', 'stager');
    const token = await t.call('POST', `${A}/tokens`, {
      token: owner,
      body: { name: 'ci', role: 'devops', projects: ['web'], environments: ['web/stage'] },
    });
    expect(token.status, token.text).toBe(201);
    actors.token = token.body.token as string;
  });
  afterAll(() => t.close());

  it('names the role and answers the Owner every action but reading values', async () => {
    const answer = await permissions(owner);
    expect(answer).toMatchObject({ role: 'owner', roleLabel: 'Owner', listProjects: true });
    expect(answer.allowed).toContain('ownership:transfer');
    expect(answer.allowed).toContain('secrets:write-steering');
    expect(answer.allowed).not.toContain('secrets:read-values');
    expect(answer.environments).toBeUndefined();
  });

  it('answers DevOps and Viewer what the role table gives them', async () => {
    const devops = await permissions(actors.devops!);
    expect(devops).toMatchObject({ role: 'devops', roleLabel: 'DevOps' });
    expect(devops.allowed).toEqual(
      expect.arrayContaining(['org:read', 'secrets:write', 'jobs:run', 'jobs:shell']),
    );
    for (const denied of ['project:create', 'members:manage', 'audit:read', 'tokens:manage'])
      expect(devops.allowed).not.toContain(denied);
    const viewer = await permissions(actors.viewer!, { project: 'web' });
    expect(viewer.roleLabel).toBe('Viewer');
    expect(viewer.allowed).toEqual(['org:read', 'project:read', 'environment:read']);
  });

  it('answers a custom role per environment type, per environment and for a new environment', async () => {
    const answer = await permissions(actors.stager!, { project: 'web' });
    expect(answer.role).toBe('stager');
    expect(answer.roleLabel).toBe('stager');
    // Project-wide writes reach every environment: the weakest grant decides.
    expect(answer.allowed).toEqual(['org:read', 'project:read', 'environment:read']);
    expect(answer.environments?.stage).toEqual(
      expect.arrayContaining(['secrets:write', 'jobs:run', 'environment:edit']),
    );
    expect(answer.environments?.prod).toEqual(['org:read', 'project:read', 'environment:read']);
    expect(answer.environmentTypes?.staging).toContain('environment:create');
    expect(answer.environmentTypes?.production).not.toContain('environment:create');
    expect(answer.environmentTypes?.development).toEqual(['org:read']);
    // The organization: no organization-wide action, but the project list (filtered).
    const org = await permissions(actors.stager!);
    expect(org.allowed).toEqual(['org:read']);
    expect(org.listProjects).toBe(true);
  });

  it('answers a service’s level as its environment’s, and the map as the single level', async () => {
    for (const actor of Object.keys(actors)) {
      const project = await permissions(actors[actor]!, { project: 'web' });
      for (const [env, service] of [
        ['prod', 'api'],
        ['stage', 'stg'],
      ] as const) {
        const single = await permissions(actors[actor]!, { project: 'web', env });
        expect(project.environments?.[env], `${actor} ${env}`).toEqual(single.allowed);
        expect((await permissions(actors[actor]!, { project: 'web', service })).allowed).toEqual(
          single.allowed,
        );
      }
    }
  });

  it.each(['owner', 'devops', 'viewer', 'stager', 'token'])(
    'answers %s exactly what the real routes then allow and refuse',
    async (actor) => {
      const token = actors[actor]!;
      const seen: string[] = [];
      for (const probe of PROBES) {
        const { allowed } = await permissions(token, probe.level);
        const res = await probe.call(token);
        const where = `${probe.action} at ${JSON.stringify(probe.level)}: ${res.text}`;
        if (allowed.includes(probe.action)) {
          expect(res.status, where).toBeLessThan(300);
          seen.push(`+${probe.action}`);
        } else {
          expect(res.status, where).toBe(403);
          expect(res.body.error.details.permission, where).toBe(probe.action);
          seen.push(`-${probe.action}`);
        }
      }
      // Every probe ran, and each actor is refused something but the Owner.
      expect(seen).toHaveLength(PROBES.length);
      if (actor !== 'owner') expect(seen.some((s) => s.startsWith('-'))).toBe(true);
    },
  );

  it('answers listProjects as GET /orgs/:org/projects decides', async () => {
    const billing = await addMember(t, owner, 'billing@example.com', 'billing-manager');
    for (const token of [...Object.values(actors), billing]) {
      const { listProjects } = await permissions(token);
      const res = await t.call('GET', `${A}/projects`, { token });
      expect(res.status).toBe(listProjects ? 200 : 403);
    }
    expect((await permissions(billing)).listProjects).toBe(false);
  });

  it('scopes a service token: only its environment takes writes', async () => {
    const token = actors.token!;
    expect((await permissions(token, { project: 'web', env: 'stage' })).allowed).toContain(
      'secrets:write',
    );
    expect((await permissions(token, { project: 'web', env: 'prod' })).allowed).not.toContain(
      'secrets:write',
    );
    expect((await permissions(token, { project: 'web' })).allowed).not.toContain('secrets:write');
    expect((await permissions(token)).allowed).toEqual([
      'org:read',
      'project:read',
      'environment:read',
    ]);
  });

  it('records no DENIED event, nor any other, however much is denied', async () => {
    const count = async () =>
      (await t.app.database.db.selectFrom('auditEvents').select('id').execute()).length;
    const before = await count();
    for (const token of Object.values(actors)) {
      for (const level of [
        {},
        { project: 'web' },
        { project: 'web', env: 'prod' },
        { project: 'web', service: 'stg' },
      ]) {
        await permissions(token, level);
      }
    }
    expect(await count()).toBe(before);
  });

  it('refuses outsiders with 404 and bad levels with 400 or 404', async () => {
    const other = await t.call('POST', '/api/v1/orgs', { token: owner, body: { slug: 'other' } });
    expect(other.status).toBe(201);
    const outsider = await t.call('GET', '/api/v1/orgs/other/permissions', {
      token: actors.devops,
    });
    expect(outsider.status).toBe(404);
    expect(outsider.body.error.code).toBe('ORGANIZATION_NOT_FOUND');
    const cases: [string, number, string][] = [
      ['?env=prod', 400, 'VALIDATION_FAILED'],
      ['?project=web&env=prod&service=api', 400, 'VALIDATION_FAILED'],
      ['?project=nope', 404, 'PROJECT_NOT_FOUND'],
      ['?project=web&env=nope', 404, 'ENVIRONMENT_NOT_FOUND'],
      ['?project=web&service=nope', 404, 'SERVICE_NOT_FOUND'],
      ['?other=1', 400, 'VALIDATION_FAILED'],
    ];
    for (const [q, status, code] of cases) {
      const res = await t.call('GET', `${A}/permissions${q}`, { token: actors.viewer });
      expect([res.status, res.body.error.code], q).toEqual([status, code]);
    }
    expect((await t.call('GET', `${A}/permissions`)).status).toBe(401);
  });
});

describe.each(DIALECTS)('GET /invitations/inspect on %s', (dialect) => {
  let t: TestServer;
  let owner: string;

  beforeAll(async () => {
    t = await startTestServer(dialect);
    owner = await bootstrapOwner(t);
    await t.call('PATCH', A, { token: owner, body: { name: 'Acme Inc' } });
  });
  afterAll(() => t.close());

  const invite = async (email: string, role = 'devops') => {
    const res = await t.call('POST', `${A}/invitations`, { token: owner, body: { email, role } });
    expect(res.status, res.text).toBe(201);
    return res.body as { id: string; token: string; expiresAt: string };
  };
  const inspect = (token?: string) =>
    t.call('GET', '/api/v1/invitations/inspect', {
      headers: token === undefined ? {} : { 'x-hush-invitation': token },
    });

  it('names the organization, the role, the e-mail and the expiry, and writes nothing', async () => {
    const inv = await invite('new@example.com');
    const count = async () =>
      (await t.app.database.db.selectFrom('auditEvents').select('id').execute()).length;
    const before = await count();
    const res = await inspect(inv.token);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({
      organization: { slug: 'acme', name: 'Acme Inc' },
      role: 'devops',
      email: 'new@example.com',
      expiresAt: inv.expiresAt,
    });
    expect(await count()).toBe(before);
    // The token travels in a header: no log line carries it.
    expect(t.logs.join('')).not.toContain(inv.token);
  });

  it('answers 404 INVITATION_NOT_FOUND for an unknown, used, revoked or expired token', async () => {
    const used = await invite('used@example.com');
    const accepted = await t.call('POST', '/api/v1/invitations/accept', {
      body: { token: used.token, password: 'member password 1' },
    });
    expect(accepted.status).toBe(201);
    const revoked = await invite('revoked@example.com');
    expect(
      (await t.call('DELETE', `${A}/invitations/${revoked.id}`, { token: owner })).status,
    ).toBe(204);
    const expired = await invite('expired@example.com');
    await t.app.database.db
      .updateTable('invitations')
      .set({ expiresAt: new Date(Date.now() - 1000).toISOString() })
      .where('id', '=', expired.id)
      .execute();
    for (const token of ['hush_inv_unknown', used.token, revoked.token, expired.token]) {
      const res = await inspect(token);
      expect([res.status, res.body.error.code], token).toEqual([404, 'INVITATION_NOT_FOUND']);
    }
  });

  it('refuses a request without the header with 400 naming it', async () => {
    const res = await inspect();
    expect(res.status).toBe(400);
    expect(res.body.error.details.fields[0].field).toBe('x-hush-invitation');
  });
});
