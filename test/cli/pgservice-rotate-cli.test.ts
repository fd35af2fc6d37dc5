import { randomBytes } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bootstrappedServerEnv, runHush, signedInCli, spawnServer } from '../helpers/cli.js';
import { DIALECTS } from '../helpers/databases.js';
import { type ScramCluster, signsIn, startScramCluster } from '../helpers/scram-cluster.js';

const WHOAMI = `psql "service=ninja" -XAtc 'select current_user, current_database(), inet_server_port()'`;

describe('rotating a pgservice password through the CLI', () => {
  let cluster: ScramCluster;

  beforeAll(async () => {
    cluster = await startScramCluster();
  }, 60_000);
  afterAll(() => cluster?.stop());

  describe.each(DIALECTS)('with Hush on %s', (dialect) => {
    let cliEnv: Record<string, string>;
    let server: Awaited<ReturnType<typeof spawnServer>>;
    let secretId: string;
    const role = `rot_${dialect}`;
    const database = `rot_${dialect}_db`;
    const oldPassword = `old-${randomBytes(12).toString('hex')}`;
    const newPassword = `new-${randomBytes(12).toString('hex')}`;
    const outputs: string[] = [];
    const hush = async (args: string[], stdin?: string) => {
      const r = await runHush(args, { env: cliEnv, stdin });
      outputs.push(r.stdout, r.stderr);
      return r;
    };
    const whoami = () => hush(['job', 'run', '--project', 'maps', '--service', 'whoami']);
    const expected = () => `${role}|${database}|${cluster.port}\n`;

    beforeAll(async () => {
      await cluster.admin(
        `create role ${role} login password '${oldPassword}'`,
        `create database ${database} owner ${role}`,
      );
      const { serverEnv } = await bootstrappedServerEnv(dialect);
      server = await spawnServer(serverEnv);
      cliEnv = await signedInCli(server.url);
      await hush(['project', 'create', 'maps']);
      expect(
        (await hush(['service', 'create', 'whoami', '--project', 'maps', '--command', WHOAMI]))
          .code,
      ).toBe(0);
      const added = await hush(
        [
          'secret',
          'add',
          'pgservice',
          '--service',
          'ninja',
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
          '--set',
          'application_name=hush-rotate',
          '--project',
          'maps',
          '--json',
        ],
        `${oldPassword}\n`,
      );
      expect(added.code, added.stderr).toBe(0);
      secretId = (JSON.parse(added.stdout) as { id: string }).id;
    }, 90_000);
    afterAll(() => server?.stop());

    it('keeps host, port, database and user when only the password is rotated', async () => {
      const before = await whoami();
      expect(before.code, before.stderr).toBe(0);
      expect(before.stdout).toBe(expected());

      await cluster.admin(`alter role ${role} password '${newPassword}'`);
      expect(await signsIn(cluster.port, role, database, oldPassword)).toBe(false);
      const stale = await whoami();
      expect(stale.code).not.toBe(0);
      expect(stale.stderr).toContain(`password authentication failed for user "${role}"`);

      const rotated = await hush(['secret', 'rotate', secretId, '--password-stdin'], newPassword);
      expect(rotated.code, rotated.stderr).toBe(0);
      expect(rotated.stdout).toBe(
        'Rotated pgservice secret ninja at the project level to version 2: changed password\n',
      );

      const after = await whoami();
      expect(after.code, after.stderr).toBe(0);
      expect(after.stdout).toBe(expected());
    });

    it('changes and removes single settings with --set and --unset, and keeps the rest', async () => {
      const r = await hush([
        'secret',
        'rotate',
        secretId,
        '--set',
        'connect_timeout=5',
        '--unset',
        'application_name',
        '--json',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({
        version: 3,
        changed: ['application_name', 'connect_timeout'],
      });
      const job = await whoami();
      expect(job.code, job.stderr).toBe(0);
      expect(job.stdout).toBe(expected());
    });

    it.each([
      [['--unset', 'host'], /unset\.0.*"host" says where or as whom the job connects/],
      [['--unset', 'dbname'], /"dbname"/],
      [['--set', 'bogus=1'], /set\.bogus.*not a libpq connection keyword/],
      [[], /nothing to change/],
      [['--replace', '--unset', 'sslmode'], /--unset: not with --replace/],
      [['--value', 'x'], /--value, --value-stdin and --from-file are for env and file/],
    ])('refuses %j with a message naming the field and stores nothing', async (args, message) => {
      const r = await hush(['secret', 'rotate', secretId, ...args]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(message);
      const history = await hush(['secret', 'history', secretId, '--json']);
      expect((JSON.parse(history.stdout) as unknown[]).length).toBe(3);
    });

    it('gives the whole connection anew with --replace, dropping what it leaves out', async () => {
      const r = await hush(
        [
          'secret',
          'rotate',
          secretId,
          '--replace',
          '--host',
          '127.0.0.1',
          '--port',
          String(cluster.port),
          '--dbname',
          database,
          '--db-user',
          role,
          '--password-stdin',
        ],
        `${newPassword}\n`,
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(
        'Rotated pgservice secret ninja at the project level to version 4: changed connect_timeout, sslmode\n',
      );
      const job = await whoami();
      expect(job.code, job.stderr).toBe(0);
      expect(job.stdout).toBe(expected());
    });

    it('refuses pgservice options for an env secret and rotates its value as before', async () => {
      const env = await hush(
        ['secret', 'add', 'env', 'API_KEY', '--value-stdin', '--project', 'maps', '--json'],
        'first value\n',
      );
      const id = (JSON.parse(env.stdout) as { id: string }).id;
      const refused = await hush(['secret', 'rotate', id, '--set', 'a=b', '--value', 'x']);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('--set: only for a pgservice secret; this one is env');
      const r = await hush(['secret', 'rotate', id, '--value-stdin'], 'second value\n');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('Rotated env secret API_KEY at the project level to version 2\n');
    });

    it('documents the partial rotation in --help', async () => {
      const help = await hush(['secret', 'rotate', '--help']);
      expect(help.code).toBe(0);
      for (const flag of ['--password-stdin', '--set', '--unset', '--replace'])
        expect(help.stdout).toContain(flag);
      expect(help.stdout).toContain('keeps the others');
    });

    it('never prints either password', () => {
      const all = outputs.join('\n');
      expect(all).not.toContain(oldPassword);
      expect(all).not.toContain(newPassword);
    });
  });
});
