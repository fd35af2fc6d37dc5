import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bootstrappedServerEnv, runHush, signedInCli, spawnServer } from '../helpers/cli.js';
import { DIALECTS, tempDir } from '../helpers/databases.js';
import { type ScramCluster, signsIn, startScramCluster } from '../helpers/scram-cluster.js';

// A client that reads no pg_service.conf: a Node script that connects with node-postgres from
// the URL in DATABASE_URL (an alias of the derived HUSH_PG_MAIN_URL), against a PostgreSQL that
// checks passwords, so a wrong one fails.
const CLIENT = `
const pg = require(${JSON.stringify(path.resolve('node_modules/pg'))});
const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
client.connect()
  .then(() => client.query('select current_user as u, current_database() as d'))
  .then((r) => { console.log(r.rows[0].u + '|' + r.rows[0].d + '|' + process.env.HUSH_PG_MAIN_PORT); return client.end(); })
  .catch((e) => { console.error('connect failed: ' + e.message); process.exit(3); });
`;

describe('derived pg variables and an alias, through the CLI', () => {
  let cluster: ScramCluster;

  beforeAll(async () => {
    cluster = await startScramCluster();
  }, 60_000);
  afterAll(() => cluster?.stop());

  describe.each(DIALECTS)('with Hush on %s', (dialect) => {
    let cliEnv: Record<string, string>;
    let server: Awaited<ReturnType<typeof spawnServer>>;
    let asToken: Record<string, string>;
    let script: string;
    const role = `refs_${dialect}`;
    const database = `refs_${dialect}_db`;
    // Characters a URL must escape: a client that took the URL unescaped would fail to sign in.
    const oldPassword = `o@:/?#${randomBytes(8).toString('hex')}`;
    const newPassword = `n %&+${randomBytes(8).toString('hex')}`;
    const hush = (args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}) =>
      runHush(args, { env: opts.env ?? cliEnv, stdin: opts.stdin });
    const ok = async (
      args: string[],
      opts: { stdin?: string; env?: Record<string, string> } = {},
    ) => {
      const r = await hush(args, opts);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r;
    };

    beforeAll(async () => {
      await cluster.admin(
        `create role ${role} login password '${oldPassword.replaceAll("'", "''")}'`,
        `create database ${database} owner ${role}`,
      );
      const { serverEnv } = await bootstrappedServerEnv(dialect);
      server = await spawnServer(serverEnv);
      cliEnv = await signedInCli(server.url);
      await ok(['project', 'create', 'maps']);
      await ok(
        [
          'secret',
          'add',
          'pgservice',
          '--service',
          'main',
          '--host',
          '127.0.0.1',
          '--port',
          String(cluster.port),
          '--dbname',
          database,
          '--db-user',
          role,
          '--password-stdin',
          '--sslmode',
          'disable',
          '--export-env',
          '--project',
          'maps',
        ],
        { stdin: `${oldPassword}\n` },
      );
      const alias = await ok([
        'secret',
        'add',
        'alias',
        'DATABASE_URL',
        'HUSH_PG_MAIN_URL',
        '--project',
        'maps',
      ]);
      expect(alias.stdout).toContain('Added alias DATABASE_URL at project maps');
      const created = await ok(['token', 'create', 'ci', '--role', 'DevOps', '--json']);
      asToken = { ...cliEnv, HUSH_TOKEN: (JSON.parse(created.stdout) as { token: string }).token };
      script = path.join(tempDir('hush-refs-'), 'client.cjs');
      fs.writeFileSync(script, CLIENT);
    }, 90_000);
    afterAll(() => server?.stop());

    it('connects with the URL the alias names, and follows a rotation', async () => {
      const first = await ok(['run', '--project', 'maps', '--', 'node', script], { env: asToken });
      expect(first.stdout).toBe(`${role}|${database}|${cluster.port}\n`);
      await cluster.admin(`alter role ${role} password '${newPassword.replaceAll("'", "''")}'`);
      expect(await signsIn(cluster.port, role, database, oldPassword)).toBe(false);
      const stale = await hush(['run', '--project', 'maps', '--', 'node', script], {
        env: asToken,
      });
      expect(stale.code).toBe(3);
      expect(stale.stderr).toContain('password authentication failed');
      await ok(['secret', 'rotate', 'main', '--project', 'maps', '--password-stdin'], {
        stdin: `${newPassword}\n`,
      });
      const after = await ok(['run', '--project', 'maps', '--', 'node', script], { env: asToken });
      expect(after.stdout).toBe(`${role}|${database}|${cluster.port}\n`);
    });

    it('stops giving the derived variables with export-env off; the alias still works', async () => {
      const off = await ok(['secret', 'export-env', 'main', 'off', '--project', 'maps']);
      expect(off.stdout).toContain('Jobs no longer get the HUSH_PG_* variables of pg service main');
      const r = await ok(['run', '--project', 'maps', '--', 'node', script], { env: asToken });
      expect(r.stdout).toBe(`${role}|${database}|undefined\n`);
      await ok(['secret', 'export-env', 'main', 'on', '--project', 'maps']);
      const on = await ok(['run', '--project', 'maps', '--', 'node', script], { env: asToken });
      expect(on.stdout).toBe(`${role}|${database}|${cluster.port}\n`);
      const bad = await hush(['secret', 'export-env', 'main', 'maybe', '--project', 'maps']);
      expect(bad.code).toBe(1);
    });

    it('shows in resolve what the alias and the derived variables are built from', async () => {
      const r = await ok(['secret', 'resolve', '--project', 'maps']);
      const line = r.stdout.split('\n').find((l) => l.startsWith('DATABASE_URL'));
      expect(line).toContain('HUSH_PG_MAIN_URL (project v');
      const json = JSON.parse(
        (await ok(['secret', 'resolve', '--project', 'maps', '--json'])).stdout,
      ) as {
        name: string;
        builtFrom?: { via: string; depth: number }[];
      }[];
      expect(json.find((e) => e.name === 'HUSH_PG_MAIN_PASSWORD')?.builtFrom).toEqual([
        expect.objectContaining({ via: 'pgservice main', depth: 1 }),
      ]);
      expect(r.stdout + JSON.stringify(json)).not.toContain(newPassword);
    });

    it('warns of a reference to a name no secret has, and fails the run naming the chain', async () => {
      const added = await hush([
        'secret',
        'add',
        'env',
        'API_URL',
        '--value',
        'https://${API_HOST}/v1',
        '--plain',
        '--project',
        'maps',
      ]);
      expect(added.code, added.stderr).toBe(0);
      expect(added.stderr).toContain(
        'warning: API_URL: ${API_HOST}: no secret of the organization is named API_HOST',
      );
      const run = await hush(['run', '--project', 'maps', '--', 'true'], { env: asToken });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('API_URL → API_HOST: API_HOST is not defined in maps');
      const resolve = await ok(['secret', 'resolve', '--project', 'maps']);
      expect(resolve.stderr).toContain('cannot build API_URL → API_HOST');
    });
  });
});
