import { spawn } from 'node:child_process';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bootstrappedServerEnv, runHush, signedInCli, spawnServer } from '../helpers/cli.js';
import { DIALECTS } from '../helpers/databases.js';

// Small first-use points of the CLI: Ctrl-C on `job run` exits 130, a service token's whoami
// names its organization by slug, and a usage error exits 2.

describe.each(DIALECTS)('the CLI at the edges on %s', (dialect) => {
  let server: Awaited<ReturnType<typeof spawnServer>>;
  let cliEnv: Record<string, string>;
  const hush = (args: string[], env = cliEnv) => runHush(args, { env });

  beforeAll(async () => {
    const { serverEnv } = await bootstrappedServerEnv(dialect);
    server = await spawnServer({ ...serverEnv, HUSH_WORKERS: '1' });
    cliEnv = await signedInCli(server.url);
    expect((await hush(['project', 'create', 'maps'])).code).toBe(0);
  }, 90_000);
  afterAll(() => server.stop());

  it('cancels the job on Ctrl-C and exits 130', async () => {
    const child = spawn(
      process.execPath,
      [
        path.resolve('bin/hush.js'),
        'job',
        'run',
        '--project',
        'maps',
        '--',
        'sh',
        '-c',
        'echo started; sleep 30',
      ],
      { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...cliEnv } },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    for (let i = 0; i < 200 && !out.includes('started'); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(out).toContain('started');
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(err).toMatch(/cancel/);
    const id = /job (\S+) queued/.exec(err)?.[1];
    const shown = await hush(['job', 'show', id!, '--json']);
    expect((JSON.parse(shown.stdout) as { status: string }).status).toBe('cancelled');
  }, 30_000);

  it('names a service token’s organization by its slug in whoami', async () => {
    const created = await hush(['token', 'create', 'ci', '--role', 'viewer', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const token = (JSON.parse(created.stdout) as { token: string }).token;
    const env = {
      HUSH_CONFIG_DIR: cliEnv.HUSH_CONFIG_DIR!,
      HUSH_URL: server.url,
      HUSH_TOKEN: token,
    };
    const who = await hush(['whoami'], env);
    expect(who.code, who.stderr).toBe(0);
    expect(who.stdout).toContain('acme: viewer');
    const json = await hush(['whoami', '--json'], env);
    expect(
      (JSON.parse(json.stdout) as { organizations: { slug: string }[] }).organizations[0]?.slug,
    ).toBe('acme');
  });

  it('exits 2 on a usage error, 0 on --help', async () => {
    const unknown = await hush(['project', 'list', '--no-such-option']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown option');
    expect((await hush(['project', 'create'])).code).toBe(2);
    expect((await hush(['project', '--help'])).code).toBe(0);
  });
});
