import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  addMember,
  bootstrapOwner,
  OWNER,
  startTestServer,
  type TestServer,
} from '../helpers/app.js';
import { runHush, signedInCli } from '../helpers/cli.js';
import { DIALECTS, tempDir } from '../helpers/databases.js';

/**
 * A hush.yaml of `projects` projects, each with prod/staging and two services; `command` is
 * the first project's render command.
 */
function fileOf(opts: { projects: string[]; command?: string; extra?: string }): string {
  const lines = ['organization: acme', 'projects:'];
  for (const [i, p] of opts.projects.entries()) {
    lines.push(
      `  ${p}:`,
      '    environments:',
      '      prod: { type: production }',
      '      staging: { type: staging }',
      '    services:',
      '      render:',
      `        command: ${JSON.stringify((i === 0 && opts.command) || 'echo render')}`,
      '        environment: prod',
      '        timeout: 10m',
      '      tiles:',
      '        command: "echo tiles"',
    );
  }
  lines.push(
    'roles:',
    '  gis-editor:',
    '    grants:',
    `      - { project: ${opts.projects[0]}, type: staging, level: deploy }`,
    'members:',
    '  bob@example.com: devops',
    '  carol@example.com: gis-editor',
  );
  return lines.join('\n') + '\n' + (opts.extra ?? '');
}

describe.each(DIALECTS)('hush plan / apply / config export on %s', (dialect) => {
  let t: TestServer;
  let env: Record<string, string>;
  let url: string;
  let dir: string;
  const hush = (args: string[], e = env, stdin?: string) =>
    runHush(args, { env: e, cwd: dir, ...(stdin !== undefined ? { stdin } : {}) });
  const write = (name: string, text: string) => {
    fs.writeFileSync(path.join(dir, name), text);
    return name;
  };
  const plan = async (file: string, extra: string[] = [], e = env) => {
    const r = await hush(['plan', '-f', file, '--json', ...extra], e);
    if (r.code === 1) throw new Error(r.stderr);
    return { code: r.code, plan: JSON.parse(r.stdout), stderr: r.stderr };
  };
  const auditCount = async () => {
    const r = await t.app.services.auditQuery.list(
      { actor: { kind: 'system' }, tool: 'system', ip: null },
      OWNER.org,
      { limit: 200 },
    );
    return (r as { events: unknown[] }).events.length;
  };

  beforeAll(async () => {
    dir = tempDir('hush-config-');
    t = await startTestServer(dialect);
    const base = await t.server.listen({ host: '127.0.0.1', port: 0 });
    const owner = await bootstrapOwner(t);
    await addMember(t, owner, 'bob@example.com', 'viewer');
    await addMember(t, owner, 'carol@example.com', 'viewer');
    env = await signedInCli(base);
    url = base;
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('plans, applies, and then plans no changes; a second apply writes no audit event', async () => {
    const file = write('hush.yaml', fileOf({ projects: ['maps', 'roads'] }));
    const first = await plan(file);
    expect(first.code).toBe(2);
    expect(first.plan.summary).toMatchObject({ create: 11, update: 2, delete: 0 });
    const text = await hush(['plan', '-f', file]);
    expect(text.code).toBe(2);
    expect(text.stdout).toContain('+ create project maps');
    expect(text.stdout).toContain('~ update member bob@example.com');
    expect(text.stdout).toContain('Plan: 11 to create, 2 to change, 0 to delete.');

    const applied = await hush(['apply', '-f', file, '--yes']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('11 created, 2 changed, 0 deleted');

    const again = await plan(file);
    expect(again.code).toBe(0);
    expect(again.plan.changes).toEqual([]);
    const before = await auditCount();
    const noop = await hush(['apply', '-f', file, '--yes']);
    expect(noop.code, noop.stderr).toBe(0);
    expect(noop.stdout).toContain('No changes');
    // The server's apply itself writes nothing when nothing changes.
    const source = fs.readFileSync(path.join(dir, file), 'utf8');
    await t.app.services.config.apply(
      { actor: { kind: 'system' }, tool: 'cli', ip: null },
      OWNER.org,
      { file, source, prune: false },
    );
    expect(await auditCount()).toBe(before);
  });

  it("shows exactly one change for one service's command, and the audit log names tool apply", async () => {
    const file = write(
      'one.yaml',
      fileOf({ projects: ['maps', 'roads'], command: 'echo render v2' }),
    );
    const p = await plan(file);
    expect(p.code).toBe(2);
    expect(p.plan.changes).toEqual([
      {
        action: 'update',
        resource: 'service',
        name: 'maps/render',
        project: 'maps',
        fields: [{ field: 'command', from: 'echo render', to: 'echo render v2' }],
      },
    ]);
    const r = await hush(['apply', '-f', file, '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const audit = await hush(['audit', 'list', '--json', '--limit', '5']);
    const events = JSON.parse(audit.stdout).events as {
      tool: string;
      change: string;
      details: { apply?: { digest: string } };
    }[];
    const change = events.find((e) => e.change.includes('service render in maps'));
    expect(change?.tool).toBe('apply');
    expect(change?.details.apply?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('deletes a project left out of the file only with --prune', async () => {
    const file = write('two.yaml', fileOf({ projects: ['maps'], command: 'echo render v2' }));
    const without = await plan(file);
    expect(without.plan.changes).toEqual([]);
    const withPrune = await plan(file, ['--prune']);
    expect(withPrune.plan.changes).toEqual([
      expect.objectContaining({ action: 'delete', resource: 'project', name: 'roads' }),
    ]);
    const noPrune = await hush(['apply', '-f', file, '--yes']);
    expect(noPrune.code).toBe(0);
    expect((await hush(['project', 'list', '--json'])).stdout).toContain('roads');
    const pruned = await hush(['apply', '-f', file, '--yes', '--prune']);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect((await hush(['project', 'list', '--json'])).stdout).not.toContain('roads');
  });

  it('exports a hush.yaml that plans as no changes', async () => {
    await hush([
      'secret',
      'add',
      'env',
      'DATABASE_URL',
      '--value',
      'postgres://x',
      '--project',
      'maps',
      '--env',
      'prod',
    ]);
    const out = await hush(['config', 'export', '-o', 'exported.yaml']);
    expect(out.code, out.stderr).toBe(0);
    const text = fs.readFileSync(path.join(dir, 'exported.yaml'), 'utf8');
    expect(text).toContain('# yaml-language-server: $schema=');
    expect(text).toContain('DATABASE_URL');
    expect(text).not.toContain('postgres://x');
    const p = await plan('exported.yaml', ['--prune']);
    expect(p.code).toBe(0);
    expect(p.plan.changes).toEqual([]);
    expect(p.plan.secrets).toEqual([]);
  });

  it('reports declared secrets that are missing, without counting them as changes', async () => {
    const file = write(
      'secrets.yaml',
      fileOf({
        projects: ['maps'],
        command: 'echo render v2',
        extra:
          'secrets:\n  - { name: DATABASE_URL, project: maps, environment: prod }\n  - { name: API_KEY, project: maps }\n',
      }),
    );
    const p = await plan(file);
    expect(p.code).toBe(0);
    expect(p.plan.secrets).toEqual([
      { secret: expect.objectContaining({ name: 'API_KEY' }), problem: 'missing' },
    ]);
  });

  it('names the file, line and path of a bad value, and a reference to nothing', async () => {
    const bad = write(
      'bad.yaml',
      'organization: acme\nprojects:\n  maps:\n    environments:\n      prod: { type: prd }\n',
    );
    const r = await hush(['plan', '-f', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'bad.yaml:5 projects.maps.environments.prod.type: must be one of production, staging, development, preview',
    );
    const ref = write(
      'ref.yaml',
      'organization: acme\nroles:\n  r1:\n    grants:\n      - { project: nowhere, type: staging, level: deploy }\n',
    );
    const r2 = await hush(['plan', '-f', ref, '--prune']);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain(
      'ref.yaml:5 roles.r1.grants.0.project: project "nowhere" is not a project of acme',
    );
  });

  it('leaves nothing changed when an apply is denied halfway, and names the resource', async () => {
    // bob is DevOps now: he may change services but not create projects.
    const bobCli = await signedInAs('bob@example.com');
    const file = write(
      'denied.yaml',
      fileOf({ projects: ['maps', 'zeta'], command: 'echo render v3' }),
    );
    const before = await hush(['project', 'list', '--json']);
    const r = await hush(['apply', '-f', file, '--yes'], bobCli);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('PERMISSION_DENIED: cannot create project zeta');
    expect((await hush(['project', 'list', '--json'])).stdout).toBe(before.stdout);
    const services = await hush(['service', 'list', '--project', 'maps', '--json']);
    expect(services.stdout).not.toContain('echo render v3');
  });

  it('refuses an apply whose plan is out of date, and applies a saved plan', async () => {
    const file = write('saved.yaml', fileOf({ projects: ['maps'], command: 'echo render v4' }));
    const p = await hush(['plan', '-f', file, '-o', 'saved.plan']);
    expect(p.code).toBe(2);
    // Someone changes the organization between plan and apply.
    expect((await hush(['project', 'create', 'intruder'])).code).toBe(0);
    const stale = await hush(['apply', '--plan-file', 'saved.plan']);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('changed since the plan was made');
    const services = await hush(['service', 'list', '--project', 'maps', '--json']);
    expect(services.stdout).not.toContain('echo render v4');
    expect((await hush(['plan', '-f', file, '-o', 'saved.plan'])).code).toBe(2);
    const fresh = await hush(['apply', '--plan-file', 'saved.plan']);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect((await hush(['service', 'list', '--project', 'maps', '--json'])).stdout).toContain(
      'echo render v4',
    );
  });

  it('asks for --yes when not on a terminal', async () => {
    const file = write('ask.yaml', fileOf({ projects: ['maps'], command: 'echo render v5' }));
    const r = await hush(['apply', '-f', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('add --yes');
  });

  it('asks on a terminal and applies only on "yes"', async () => {
    const file = write('tty.yaml', fileOf({ projects: ['tty'] }));
    // `script` gives the CLI a pseudo-terminal; what the test writes is typed at the prompt.
    const onTty = (answer: string) =>
      new Promise<{ code: number; out: string }>((resolve, reject) => {
        const cmd = [process.execPath, path.resolve('bin/hush.js'), 'apply', '-f', file]
          .map((a) => `'${a}'`)
          .join(' ');
        const child = spawn('script', ['-qec', cmd, '/dev/null'], {
          cwd: dir,
          env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
        });
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('Only "yes" applies')) child.stdin.end(`${answer}\n`);
        });
        child.on('error', reject);
        child.on('close', (code) => resolve({ code: code ?? -1, out }));
      });
    const no = await onTty('no');
    expect(no.out).toContain('+ create project tty');
    expect(no.out).toContain('apply cancelled; nothing changed');
    expect(no.code).toBe(1);
    const listed = async () =>
      (JSON.parse((await hush(['project', 'list', '--json'])).stdout) as { slug: string }[]).map(
        (p) => p.slug,
      );
    expect(await listed()).not.toContain('tty');
    const yes = await onTty('yes');
    expect(yes.code, yes.out).toBe(0);
    expect(await listed()).toContain('tty');
  });

  async function signedInAs(email: string): Promise<Record<string, string>> {
    const cliEnv = { HUSH_CONFIG_DIR: tempDir('hush-member-'), HUSH_URL: url };
    const r = await runHush(['login', '--email', email, '--password-stdin'], {
      env: cliEnv,
      stdin: 'member password 1\n',
    });
    expect(r.code, r.stderr).toBe(0);
    return cliEnv;
  }
});
