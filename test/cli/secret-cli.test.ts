import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bootstrappedServerEnv, runHush, signedInCli, spawnServer } from '../helpers/cli.js';
import { DIALECTS, tempDir } from '../helpers/databases.js';

describe.each(DIALECTS)('hush secret commands on %s', (dialect) => {
  let cliEnv: Record<string, string>;
  let server: Awaited<ReturnType<typeof spawnServer>>;
  const outputs: string[] = [];
  const hush = async (args: string[], stdin?: string, env = cliEnv) => {
    const r = await runHush(args, { env, stdin });
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  const json = async (args: string[], stdin?: string) => {
    const r = await hush([...args, '--json'], stdin);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  };
  const sentinel = `SENTINEL_${randomBytes(10).toString('hex')}`;

  beforeAll(async () => {
    const { serverEnv } = await bootstrappedServerEnv(dialect);
    server = await spawnServer(serverEnv);
    cliEnv = await signedInCli(server.url);
    const inv = await json(['member', 'invite', 'alice@example.com', '--role', 'devops']);
    await runHush(['member', 'accept', inv.token, '--password-stdin'], {
      env: { ...cliEnv, HUSH_CONFIG_DIR: tempDir() },
      stdin: 'alice password 1\n',
    });
    await hush(['project', 'create', 'maps']);
    await hush(['env', 'create', 'prod', '--project', 'maps', '--type', 'production']);
    await hush([
      'service',
      'create',
      'sync',
      '--project',
      'maps',
      '--env',
      'prod',
      '--command',
      'true',
    ]);
  }, 90_000);
  afterAll(() => server.stop());

  it('adds env, file and pgservice secrets at every level, as a new user would', async () => {
    const env = await json(
      ['secret', 'add', 'env', 'API_KEY', '--value-stdin', '--org', 'acme'],
      `${sentinel}\n`,
    );
    expect(env).toMatchObject({ id: expect.any(String), name: 'API_KEY', level: 'organization' });
    expect(
      (
        await hush([
          'secret',
          'add',
          'env',
          'LOG_LEVEL',
          '--value',
          'debug',
          '--plain',
          '--project',
          'maps',
        ])
      ).code,
    ).toBe(0);
    const certFile = path.join(tempDir(), 'ca.pem');
    fs.writeFileSync(certFile, 'certificate body');
    expect(
      (
        await hush([
          'secret',
          'add',
          'file',
          'CA_CERT',
          '--file-name',
          'ca.pem',
          '--from-file',
          certFile,
          '--project',
          'maps',
          '--env',
          'prod',
        ])
      ).code,
    ).toBe(0);
    const pg = await json(
      [
        'secret',
        'add',
        'pgservice',
        '--service',
        'ninja',
        '--host',
        '127.0.0.1',
        '--port',
        '5432',
        '--dbname',
        'gis',
        '--db-user',
        'ninja_project',
        '--password-stdin',
        '--sslmode',
        'disable',
        '--set',
        'application_name=hush',
        '--project',
        'maps',
        '--at-service',
        'sync',
      ],
      'pw\n',
    );
    expect(pg).toMatchObject({ name: 'ninja', level: 'service', kind: 'pgservice' });
    const conf = path.join(tempDir(), 'pg_service.conf');
    fs.writeFileSync(conf, '[ninja]\nhost=db\nuser=ninja_user\n\n[other]\nhost=db2\n');
    const many = await json([
      'secret',
      'add',
      'pgservice',
      '--from-file',
      conf,
      '--project',
      'maps',
      '--assignee',
      'alice@example.com',
    ]);
    expect(many.map((s: { name: string; assignee: string }) => [s.name, s.assignee])).toEqual([
      ['ninja', 'alice@example.com'],
      ['other', 'alice@example.com'],
    ]);
  });

  it('lists a level with --json and shows the table', async () => {
    const list = await json(['secret', 'list', '--project', 'maps']);
    expect(list.map((s: { name: string }) => s.name).sort()).toEqual([
      'LOG_LEVEL',
      'ninja',
      'other',
    ]);
    expect(list.every((s: { id: string }) => typeof s.id === 'string')).toBe(true);
    const table = await hush(['secret', 'list', '--org', 'acme']);
    expect(table.stdout).toMatch(/API_KEY\s+env\s+organization/);
  });

  it('explains resolution per member in the SPEC §8 shape', async () => {
    const rows = await json([
      'secret',
      'resolve',
      '--project',
      'maps',
      '--service',
      'sync',
      '--member',
      'alice@example.com',
    ]);
    const ninja = rows.find((r: { name: string }) => r.name === 'ninja');
    expect(Object.keys(ninja).sort()).toEqual([
      'assignee',
      'kind',
      'level',
      'name',
      'preview',
      'shadows',
      'version',
    ]);
    expect(ninja).toMatchObject({ level: 'service', assignee: null, version: 1 });
    expect(ninja.shadows).toEqual([
      { level: 'project', assignee: 'alice@example.com', version: 1 },
    ]);
    const owner = await json(['secret', 'resolve', '--project', 'maps']);
    expect(owner.find((r: { name: string }) => r.name === 'other')).toBeUndefined();
  });

  it('rotates, shows history and rolls back', async () => {
    const [apiKey] = await json(['secret', 'list', '--org', 'acme']);
    expect(
      (await hush(['secret', 'rotate', apiKey.id, '--value-stdin'], `${sentinel}-v2\n`)).code,
    ).toBe(0);
    const back = await json(['secret', 'rollback', apiKey.id, '--version', '1']);
    expect(back.version).toBe(3);
    const history = await json(['secret', 'history', apiKey.id]);
    expect(history.map((v: { source: string; tool: string }) => `${v.source}/${v.tool}`)).toEqual([
      'rollback/cli',
      'rotate/cli',
      'add/cli',
    ]);
  });

  it('answers bad input with one line on stderr and writes nothing', async () => {
    const before = (await json(['secret', 'list', '--org', 'acme'])).length;
    for (const args of [
      ['secret', 'add', 'env', 'lower', '--value', 'x', '--org', 'acme'],
      ['secret', 'add', 'env', 'LD_PRELOAD', '--value', 'x', '--org', 'acme'],
      ['secret', 'add', 'pgservice', '--service', 'p', '--port', '70000', '--org', 'acme'],
      ['secret', 'add', 'pgservice', '--service', 'p', '--set', 'colour=red', '--org', 'acme'],
      [
        'secret',
        'add',
        'env',
        'X',
        '--value',
        'x',
        '--assignee',
        'nobody@example.com',
        '--org',
        'acme',
      ],
    ]) {
      const r = await hush(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/^hush: VALIDATION_FAILED: /);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect((await json(['secret', 'list', '--org', 'acme'])).length).toBe(before);
  });

  it('removes a secret', async () => {
    const list = await json(['secret', 'list', '--project', 'maps']);
    const other = list.find((s: { name: string }) => s.name === 'other');
    expect((await hush(['secret', 'rm', other.id])).code).toBe(0);
    expect((await json(['secret', 'list', '--project', 'maps'])).length).toBe(list.length - 1);
  });

  it('never prints the sentinel value', () => {
    expect(outputs.join('\n')).not.toContain(sentinel.slice(9));
  });
});
