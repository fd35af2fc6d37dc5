import fs from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runHush, spawnServer } from '../helpers/cli.js';
import { DIALECTS, freshDatabase, tempDir } from '../helpers/databases.js';

describe.each(DIALECTS)('the hush CLI against a real server on %s', (dialect) => {
  let serverEnv: Record<string, string>;
  let cliEnv: Record<string, string>;
  let server: Awaited<ReturnType<typeof spawnServer>>;
  const hush = (args: string[], stdin?: string) => runHush(args, { env: cliEnv, stdin });

  beforeAll(async () => {
    const db = await freshDatabase(dialect);
    serverEnv = {
      HUSH_DATA_DIR: db.dataDir,
      ...(db.databaseUrl ? { HUSH_DATABASE_URL: db.databaseUrl } : {}),
    };
    const boot = await runHush(
      ['admin', 'bootstrap', '--email', 'owner@example.com', '--org', 'acme', '--password-stdin'],
      {
        env: serverEnv,
        stdin: 'correct horse battery\n',
      },
    );
    expect(boot.stderr).toContain('generated a new master key');
    expect(boot.code, boot.stderr).toBe(0);
    server = await spawnServer(serverEnv);
    cliEnv = { HUSH_CONFIG_DIR: tempDir('hush-cli-'), HUSH_URL: server.url };
  }, 60_000);
  afterAll(() => server.stop());

  it('refuses a wrong password with a one-line error and exit 1', async () => {
    const r = await hush(
      ['login', '--email', 'owner@example.com', '--password-stdin'],
      'nope-nope-nope\n',
    );
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('INVALID_CREDENTIALS');
  });

  it('logs in and saves the credential with mode 0600', async () => {
    const r = await hush(
      ['login', '--email', 'owner@example.com', '--password-stdin'],
      'correct horse battery\n',
    );
    expect(r.code, r.stderr).toBe(0);
    const file = path.join(cliEnv.HUSH_CONFIG_DIR!, 'credentials.json');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const who = await hush(['whoami', '--json']);
    expect(JSON.parse(who.stdout)).toMatchObject({
      email: 'owner@example.com',
      organizations: [{ slug: 'acme', role: 'owner' }],
    });
  });

  it('creates an organization, project, production environment and service, and lists them with --json', async () => {
    expect((await hush(['org', 'create', 'ninja'])).code).toBe(0);
    const project = await hush(['project', 'create', 'maps', '--org', 'ninja', '--json']);
    expect(JSON.parse(project.stdout)).toMatchObject({ slug: 'maps', id: expect.any(String) });
    const env = await hush([
      'env',
      'create',
      'prod',
      '--project',
      'maps',
      '--type',
      'production',
      '--org',
      'ninja',
      '--json',
    ]);
    expect(JSON.parse(env.stdout)).toMatchObject({ slug: 'prod', type: 'production' });
    const svc = await hush([
      'service',
      'create',
      'sync',
      '--project',
      'maps',
      '--env',
      'prod',
      '--command',
      'echo hi',
      '--org',
      'ninja',
      '--json',
    ]);
    expect(svc.code, svc.stderr).toBe(0);
    expect(JSON.parse(svc.stdout)).toMatchObject({ name: 'sync', timeoutSeconds: 3600 });

    const orgs = JSON.parse((await hush(['org', 'list', '--json'])).stdout) as {
      slug: string;
      id: string;
    }[];
    expect(orgs.map((o) => o.slug)).toEqual(['acme', 'ninja']);
    const projects = JSON.parse(
      (await hush(['project', 'list', '--org', 'ninja', '--json'])).stdout,
    ) as unknown[];
    expect(projects).toEqual([expect.objectContaining({ slug: 'maps', id: expect.any(String) })]);
    const envs = JSON.parse(
      (await hush(['env', 'list', '--project', 'maps', '--org', 'ninja', '--json'])).stdout,
    ) as unknown[];
    expect(envs).toEqual([expect.objectContaining({ slug: 'prod', id: expect.any(String) })]);
    const services = JSON.parse(
      (await hush(['service', 'list', '--project', 'maps', '--org', 'ninja', '--json'])).stdout,
    ) as unknown[];
    expect(services).toEqual([expect.objectContaining({ name: 'sync', id: expect.any(String) })]);
    const table = await hush(['project', 'list', '--org', 'ninja']);
    expect(table.stdout).toMatch(/SLUG\s+NAME/);
  });

  it('invites a member who accepts with --password-stdin and gets the role', async () => {
    const inv = await hush([
      'member',
      'invite',
      'dev@example.com',
      '--role',
      'devops',
      '--org',
      'ninja',
      '--json',
    ]);
    const { token } = JSON.parse(inv.stdout) as { token: string };
    const devEnv = { ...cliEnv, HUSH_CONFIG_DIR: tempDir('hush-cli-dev-') };
    const acc = await runHush(['member', 'accept', token, '--password-stdin'], {
      env: devEnv,
      stdin: 'dev password 123\n',
    });
    expect(acc.code, acc.stderr).toBe(0);
    const denied = await runHush(['project', 'create', 'nope', '--org', 'ninja'], { env: devEnv });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('PERMISSION_DENIED');
    const reused = await runHush(['member', 'accept', token, '--password-stdin'], {
      env: devEnv,
      stdin: 'dev password 123\n',
    });
    expect(reused.stderr).toContain('INVITATION_NOT_FOUND');
  });

  it('creates a custom role, gives it to a member and refuses to delete it while held', async () => {
    const role = await hush([
      'role',
      'create',
      'stager',
      '--grant',
      'maps:staging=deploy',
      '--grant',
      'maps:production=read-only',
      '--org',
      'ninja',
      '--json',
    ]);
    expect(role.code, role.stderr).toBe(0);
    expect(JSON.parse(role.stdout)).toMatchObject({
      name: 'stager',
      grants: [
        { project: 'maps', type: 'staging', level: 'deploy' },
        { project: 'maps', type: 'production', level: 'read-only' },
      ],
    });
    const list = JSON.parse((await hush(['role', 'list', '--org', 'ninja', '--json'])).stdout) as {
      name: string;
      id: string;
    }[];
    expect(list.map((r) => r.name)).toEqual(['stager']);
    expect(
      (await hush(['member', 'set-role', 'dev@example.com', 'stager', '--org', 'ninja'])).code,
    ).toBe(0);
    const del = await hush(['role', 'delete', 'stager', '--org', 'ninja']);
    expect(del.code).toBe(1);
    expect(del.stderr).toContain('CONFLICT');
    const bad = await hush(['role', 'create', 'oops', '--grant', 'maps-staging', '--org', 'ninja']);
    expect(bad.stderr).toContain('PROJECT:TYPE=LEVEL');
  });

  it('shows the audit trail with an intact chain', async () => {
    const list = await hush(['audit', 'list', '--org', 'ninja', '--json']);
    const events = (JSON.parse(list.stdout) as { events: { eventType: string; tool: string }[] })
      .events;
    expect(events.length).toBeGreaterThanOrEqual(6);
    expect(events.every((e) => e.tool === 'cli')).toBe(true);
    const verify = await hush(['audit', 'verify', '--org', 'ninja']);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain('Chain intact');
  });

  it('answers an unknown flag and a bad slug with one line on stderr and a non-zero exit', async () => {
    const flag = await hush(['project', 'list', '--bogus']);
    expect(flag.code).not.toBe(0);
    expect(flag.stderr).toContain("unknown option '--bogus'");
    const slug = await hush(['project', 'create', 'Bad_Slug', '--org', 'ninja']);
    expect(slug.code).toBe(1);
    expect(slug.stderr).toMatch(/^hush: VALIDATION_FAILED: slug: /);
  });

  it('logs out: the saved session is revoked and forgotten', async () => {
    const saved = JSON.parse(
      fs.readFileSync(path.join(cliEnv.HUSH_CONFIG_DIR!, 'credentials.json'), 'utf8'),
    ) as { token: string };
    expect((await hush(['logout'])).code).toBe(0);
    const who = await hush(['whoami']);
    expect(who.code).toBe(1);
    const reuse = await runHush(['whoami'], { env: { ...cliEnv, HUSH_TOKEN: saved.token } });
    expect(reuse.stderr).toContain('SESSION_EXPIRED');
  });

  it('has --help on every command', async () => {
    for (const args of [
      ['--help'],
      ['org', '--help'],
      ['admin', 'bootstrap', '--help'],
      ['audit', 'list', '--help'],
    ]) {
      const r = await hush(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toContain('Usage: hush');
    }
  });
});
