import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bootstrappedServerEnv, runHush, signedInCli, spawnServer } from '../helpers/cli.js';
import { DIALECTS, tempDir } from '../helpers/databases.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The workflows a team moving from Doppler or Infisical reaches for on its first day, each
// through the real `hush` binary against a real server.
describe.each(DIALECTS)('CLI workflows on %s', (dialect) => {
  let cliEnv: Record<string, string>;
  let server: Awaited<ReturnType<typeof spawnServer>>;
  let token: string;
  let work: string;
  const hush = (
    args: string[],
    opts: { stdin?: string; cwd?: string; env?: Record<string, string> } = {},
  ) => runHush(args, { env: { ...cliEnv, ...opts.env }, stdin: opts.stdin, cwd: opts.cwd });
  const ok = async (args: string[], opts: Parameters<typeof hush>[1] = {}) => {
    const r = await hush(args, opts);
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r;
  };
  const asToken = { HUSH_TOKEN: '' };

  beforeAll(async () => {
    const { serverEnv } = await bootstrappedServerEnv(dialect);
    server = await spawnServer(serverEnv);
    cliEnv = await signedInCli(server.url);
    for (const args of [
      ['project', 'create', 'maps'],
      ['env', 'create', 'prod', '--project', 'maps', '--type', 'production'],
      ['env', 'create', 'dev', '--project', 'maps', '--type', 'development'],
      ['env', 'create', 'copy', '--project', 'maps', '--type', 'development'],
      ['env', 'create', 'copy2', '--project', 'maps', '--type', 'development'],
    ])
      await ok(args);
    const created = await ok(['token', 'create', 'ci', '--role', 'DevOps', '--json']);
    token = (JSON.parse(created.stdout) as { token: string }).token;
    asToken.HUSH_TOKEN = token;
    work = tempDir('hush-work-');
    fs.mkdirSync(path.join(work, 'deep', 'er'), { recursive: true });
  }, 90_000);
  afterAll(() => server.stop());

  it('setup writes .hush.json, and commands in subdirectories take it', async () => {
    const bad = await hush(['setup', '--project', 'maps', '--env', 'prd'], { cwd: work });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('did you mean prod?');
    expect(fs.existsSync(path.join(work, '.hush.json'))).toBe(false);
    await ok(['setup', '--project', 'maps', '--env', 'prod'], { cwd: work });
    expect(JSON.parse(fs.readFileSync(path.join(work, '.hush.json'), 'utf8'))).toEqual({
      project: 'maps',
      env: 'prod',
    });
    const sub = path.join(work, 'deep', 'er');
    const shown = JSON.parse((await ok(['setup', '--show', '--json'], { cwd: sub })).stdout) as {
      key: string;
      value: string | null;
      source: string;
    }[];
    expect(shown.find((r) => r.key === 'env')).toEqual({
      key: 'env',
      value: 'prod',
      source: path.join('..', '..', '.hush.json'),
    });
    await ok(['secret', 'set', 'FROM_SETUP=1'], { cwd: sub });
    const prod = await ok(['secret', 'list', '--project', 'maps', '--env', 'prod', '--json']);
    expect(prod.stdout).toContain('FROM_SETUP');
    // Flags and HUSH_* win over the file; a typed --project leaves the file's environment.
    await ok(['secret', 'set', 'FROM_ENV_VAR=1'], { cwd: sub, env: { HUSH_ENV: 'dev' } });
    await ok(['secret', 'set', 'AT_PROJECT=1', '--project', 'maps'], { cwd: sub });
    const dev = await ok(['secret', 'list', '--json'], { cwd: sub, env: { HUSH_ENV: 'dev' } });
    expect(dev.stdout).toContain('FROM_ENV_VAR');
    const project = await ok(['secret', 'list', '--project', 'maps', '--json'], { cwd: sub });
    expect(project.stdout).toContain('AT_PROJECT');
    expect(project.stdout).not.toContain('FROM_SETUP');
    // The organization level is never implied by a default.
    const orgLevel = await hush(['secret', 'set', 'X=1'], { cwd: tempDir() });
    expect(orgLevel.code).toBe(2);
  });

  it("setup on a terminal asks for what its flags leave out, offering the server's names", async () => {
    const dir = tempDir('hush-setup-tty-');
    // util-linux's script(1) gives the CLI a real terminal; each answer waits for its question.
    const child = spawn(
      'script',
      ['-qfc', `${process.execPath} ${path.resolve('bin/hush.js')} setup`, '/dev/null'],
      {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...cliEnv },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let seen = '';
    const answers: [RegExp, string][] = [
      [/Project \(maps\)/, 'maps\n'],
      [/Environment \(empty: none\) \([^)]*prod[^)]*\)/, 'prod\n'],
    ];
    child.stdout.on('data', (d: Buffer) => {
      seen += d.toString();
      const next = answers[0];
      if (next && next[0].test(seen)) {
        answers.shift();
        child.stdin.write(next[1]);
      }
    });
    const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
    expect(code, seen).toBe(0);
    expect(seen).not.toContain('Organization');
    expect(JSON.parse(fs.readFileSync(path.join(dir, '.hush.json'), 'utf8'))).toEqual({
      project: 'maps',
      env: 'prod',
    });
  });

  it('set of five names where two are unchanged, one of them from stdin', async () => {
    await ok([
      'secret',
      'set',
      'S_ONE=1',
      'S_TWO=2',
      'S_THREE=3',
      '--project',
      'maps',
      '--env',
      'dev',
    ]);
    const r = await ok(
      [
        'secret',
        'set',
        'S_ONE=1',
        'S_TWO=-',
        'S_THREE=33',
        'S_FOUR=4',
        'S_FIVE=5',
        '--project',
        'maps',
        '--env',
        'dev',
      ],
      { stdin: '2' },
    );
    expect(r.stdout).toMatch(/unchanged +S_ONE/);
    expect(r.stdout).toMatch(/unchanged +S_TWO/);
    expect(r.stdout).toMatch(/rotated +S_THREE version 2/);
    expect(r.stdout).toMatch(/created +S_FOUR/);
    expect(r.stdout).toContain('2 created, 1 rotated, 2 unchanged');
  });

  it('imports a dotenv file and exports it in every format, round-tripping byte for byte', async () => {
    const file = path.join(work, 'app.env');
    fs.writeFileSync(
      file,
      [
        '# database',
        'export DB_URL="postgres://u@h/db?sslmode=require"',
        "GREETING='hello # not a comment'",
        'CERT="-----BEGIN-----',
        'abc',
        '-----END-----"',
        'SPACED=  padded value  # trailing comment',
        'EMPTY=',
        '',
      ].join('\n'),
    );
    const dry = await ok(['import', file, '--project', 'maps', '--env', 'copy', '--dry-run']);
    expect(dry.stdout).toContain('Dry run, nothing written');
    await ok(['import', file, '--project', 'maps', '--env', 'copy']);
    const context = ['--project', 'maps', '--env', 'copy'];
    const exported: Record<string, string> = {};
    for (const format of ['dotenv', 'json', 'yaml', 'shell'])
      exported[format] = (
        await ok(['export', '--format', format, ...context], { env: asToken })
      ).stdout;
    expect(JSON.parse(exported.json!)).toMatchObject({
      CERT: '-----BEGIN-----\nabc\n-----END-----',
      DB_URL: 'postgres://u@h/db?sslmode=require',
      EMPTY: '',
      GREETING: 'hello # not a comment',
      SPACED: 'padded value',
    });
    // Each format imported elsewhere exports the same bytes again.
    for (const format of ['dotenv', 'json', 'yaml']) {
      const again = path.join(work, `again.${format === 'dotenv' ? 'env' : format}`);
      fs.writeFileSync(again, exported[format]!);
      await ok(['import', again, '--project', 'maps', '--env', 'copy2']);
      const back = await ok(['export', '--format', format, '--project', 'maps', '--env', 'copy2'], {
        env: asToken,
      });
      expect(back.stdout, format).toBe(exported[format]);
    }
    // shell output evaluates to the same values in a real bash.
    const bash = await runBash(
      `eval "$(cat)"; printf '%s|%s' "$CERT" "$GREETING"`,
      exported.shell!,
    );
    expect(bash).toBe('-----BEGIN-----\nabc\n-----END-----|hello # not a comment');
    const tpl = path.join(work, 'tpl.txt');
    fs.writeFileSync(tpl, 'url={{ DB_URL }}\n');
    const rendered = await ok(['export', '--template', tpl, ...context], { env: asToken });
    expect(rendered.stdout).toBe('url=postgres://u@h/db?sslmode=require\n');
    const bad = path.join(work, 'bad.env');
    fs.writeFileSync(bad, 'GOOD=1\nbad-name=2\n');
    const refused = await hush(['import', bad, '--project', 'maps', '--env', 'copy']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('line 2');
  });

  it('secret get prints one value: plain ones for people, others for service tokens', async () => {
    await ok(['secret', 'set', 'LOG_LEVEL=debug', '--plain', '--project', 'maps', '--env', 'prod']);
    await ok(['secret', 'set', 'API_KEY=-', '--project', 'maps', '--env', 'prod'], {
      stdin: 'key-123456',
    });
    const ctx = ['--project', 'maps', '--env', 'prod'];
    expect((await ok(['secret', 'get', 'LOG_LEVEL', ...ctx])).stdout).toBe('debug\n');
    expect(
      (await ok(['secret', 'get', 'API_KEY', '--plain', ...ctx], { env: asToken })).stdout,
    ).toBe('key-123456');
    const denied = await hush(['secret', 'get', 'API_KEY', ...ctx]);
    expect(denied.code).toBe(1);
    expect(denied.stdout).toBe('');
    const typo = await hush(['secret', 'get', 'API_KYE', ...ctx], { env: asToken });
    expect(typo.stderr).toContain('did you mean API_KEY?');
  });

  it('run --watch restarts CMD when a value rotates, and not otherwise', async () => {
    const log = path.join(work, 'watch.log');
    const pidFile = path.join(work, 'watch.pid');
    const script = `echo $$ > ${pidFile}; echo "start $WATCHED" >> ${log}; trap 'exit 0' TERM; while :; do sleep 0.05; done`;
    const ctx = ['--project', 'maps', '--env', 'dev'];
    await ok(['secret', 'set', 'WATCHED=one', ...ctx]);
    const run = hush(['run', '--watch', '--grace', '2', ...ctx, '--', 'sh', '-c', script], {
      env: asToken,
    });
    const lines = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : []);
    const until = async (n: number) => {
      for (let i = 0; i < 100 && lines().length < n; i++) await sleep(50);
    };
    await until(1);
    expect(lines()).toEqual(['start one']);
    // Another environment's change, and a set that changes nothing, restart nothing.
    await ok(['secret', 'set', 'UNRELATED=1', '--project', 'maps', '--env', 'prod']);
    await ok(['secret', 'set', 'WATCHED=one', ...ctx]);
    await sleep(700);
    expect(lines()).toEqual(['start one']);
    await ok(['secret', 'set', 'WATCHED=two', ...ctx]);
    await until(2);
    expect(lines()).toEqual(['start one', 'start two']);
    // CMD's own exit ends hush with its code.
    process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGTERM');
    const ended = await run;
    expect(ended.code, ended.stderr).toBe(0);
    expect(ended.stderr).toContain('restarting');
  });

  it('run --watch keeps CMD running when watching fails (a revoked token), and retries', async () => {
    const created = await ok(['token', 'create', 'doomed', '--role', 'DevOps', '--json']);
    const doomed = { HUSH_TOKEN: (JSON.parse(created.stdout) as { token: string }).token };
    const pidFile = path.join(work, 'doomed.pid');
    const script = `echo $$ > ${pidFile}; trap 'exit 3' TERM; while :; do sleep 0.05; done`;
    const ctx = ['--project', 'maps', '--env', 'dev'];
    const run = hush(['run', '--watch', ...ctx, '--', 'sh', '-c', script], { env: doomed });
    for (let i = 0; i < 100 && !fs.existsSync(pidFile); i++) await sleep(50);
    await sleep(300);
    await ok(['token', 'revoke', 'doomed']);
    await ok(['secret', 'set', 'WATCHED=after-revoke', ...ctx]);
    await sleep(1500);
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    expect(() => process.kill(pid, 0)).not.toThrow();
    process.kill(pid, 'SIGTERM');
    const ended = await run;
    expect(ended.code).toBe(3);
    expect(ended.stderr).toContain('cannot watch the secrets');
    expect(ended.stderr).toContain('CMD keeps running');
  });

  it('run --mount writes the values to a 0600 file or named pipe only, removed when CMD exits or is killed', async () => {
    const mount = path.join(work, 'secrets.env');
    const ctx = ['--project', 'maps', '--env', 'prod'];
    const r = await ok(
      [
        'run',
        '--mount',
        mount,
        ...ctx,
        '--',
        'sh',
        '-c',
        'stat -c %a "$HUSH_MOUNT"; grep -c API_KEY "$HUSH_MOUNT"; echo "env:${API_KEY:-none}"',
      ],
      { env: asToken },
    );
    expect(r.stdout).toBe('600\n1\nenv:none\n');
    expect(fs.existsSync(mount)).toBe(false);
    const killed = await hush(['run', '--mount', mount, ...ctx, '--', 'sh', '-c', 'kill -9 $$'], {
      env: asToken,
    });
    expect(killed.code).toBe(137);
    expect(fs.existsSync(mount)).toBe(false);
    // --pipe: a named pipe each reader gets the values from, nothing on disk; removed after.
    const piped = await ok(
      [
        'run',
        '--mount',
        mount,
        '--pipe',
        ...ctx,
        '--',
        'sh',
        '-c',
        'test -p "$HUSH_MOUNT" && stat -c %a "$HUSH_MOUNT"; grep -c API_KEY "$HUSH_MOUNT"; grep -c API_KEY "$HUSH_MOUNT"',
      ],
      { env: asToken },
    );
    expect(piped.stdout).toBe('600\n1\n1\n');
    expect(fs.existsSync(mount)).toBe(false);
    const once = await ok(
      [
        'run',
        '--mount',
        mount,
        '--pipe',
        '--max-reads',
        '1',
        ...ctx,
        '--',
        'sh',
        '-c',
        'grep -c API_KEY "$HUSH_MOUNT"; timeout 0.5 cat "$HUSH_MOUNT" || echo "no second read"',
      ],
      { env: asToken },
    );
    expect(once.stdout).toBe('1\nno second read\n');
    expect(fs.existsSync(mount)).toBe(false);
    fs.writeFileSync(mount, 'mine');
    const exists = await hush(['run', '--mount', mount, ...ctx, '--', 'true'], { env: asToken });
    expect(exists.code).toBe(2);
    expect(fs.readFileSync(mount, 'utf8')).toBe('mine');
  });
});

async function runBash(script: string, stdin: string): Promise<string> {
  const { spawn } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(out));
    child.stdin.end(stdin);
  });
}
