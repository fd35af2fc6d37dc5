import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bootstrappedServerEnv, runHush, signedInCli, spawnServer } from '../helpers/cli.js';
import { DIALECTS, tempDir } from '../helpers/databases.js';
import { type ScramCluster, signsIn, startScramCluster } from '../helpers/scram-cluster.js';

const whoamiOf = (service: string) => `psql "service=${service}" -XAtc 'select current_user'`;

// Run by `hush run` on this machine (not a job): writes the settings of pg service SERVICE from
// the pg_service.conf Hush wrote to a file, so the test learns a password only Hush generated.
const DUMP = `
const fs = require('node:fs');
const [service, out] = process.argv.slice(2);
const text = fs.readFileSync(process.env.PGSERVICEFILE, 'utf8');
const block = text.split(/^\\[/m).find((b) => b.startsWith(service + ']'));
const settings = Object.fromEntries(block.split('\\n').slice(1).filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
fs.writeFileSync(out, JSON.stringify(settings));
`;

describe('rotating PostgreSQL passwords with hush rotation, on a cluster that checks them', () => {
  let cluster: ScramCluster;

  beforeAll(async () => {
    cluster = await startScramCluster();
    // Every statement in the server's log: the test greps it for plaintext passwords.
    await cluster.admin(`alter system set log_statement = 'all'`, 'select pg_reload_conf()');
  }, 60_000);
  afterAll(() => cluster?.stop());

  describe.each(DIALECTS)('with Hush on %s', (dialect) => {
    let cliEnv: Record<string, string>;
    let server: Awaited<ReturnType<typeof spawnServer>>;
    const admin = `rot_admin_${dialect}`;
    const single = `rot_single_${dialect}`;
    const [dualA, dualB] = [`rot_a_${dialect}`, `rot_b_${dialect}`];
    const database = `rot_${dialect}_db`;
    const pw = (what: string) => `${what}-${randomBytes(12).toString('hex')}`;
    const passwords = {
      admin: pw('admin'),
      single: pw('single'),
      dualA: pw('dual-a'),
      dualB: pw('dual-b'),
    };
    const known: string[] = Object.values(passwords);
    let asToken: Record<string, string>;
    const hush = (args: string[], stdin?: string, env = cliEnv) => runHush(args, { env, stdin });
    const ok = async (args: string[], stdin?: string, env = cliEnv) => {
      const r = await hush(args, stdin, env);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r;
    };
    const addPg = (service: string, user: string, password: string, port = cluster.port) =>
      ok(
        [
          'secret',
          'add',
          'pgservice',
          '--service',
          service,
          '--host',
          '127.0.0.1',
          '--port',
          String(port),
          '--dbname',
          database,
          '--db-user',
          user,
          '--password-stdin',
          '--sslmode',
          'disable',
          '--project',
          'maps',
        ],
        `${password}\n`,
      );
    const job = async (service: string) =>
      (await ok(['job', 'run', '--project', 'maps', '--service', service])).stdout;
    /** The settings of a pg service as `hush run` hands them to a process. */
    const settingsOf = async (service: string) => {
      const dir = tempDir('hush-rot-');
      const script = path.join(dir, 'dump.cjs');
      fs.writeFileSync(script, DUMP);
      const out = path.join(dir, 'out.json');
      await ok(
        ['run', '--project', 'maps', '--', process.execPath, script, service, out],
        undefined,
        asToken,
      );
      const settings = JSON.parse(fs.readFileSync(out, 'utf8')) as Record<string, string>;
      fs.rmSync(dir, { recursive: true, force: true });
      known.push(settings.password!);
      return settings;
    };

    beforeAll(async () => {
      const q = (p: string) => `'${p}'`;
      await cluster.admin(
        `create role ${admin} login createrole password ${q(passwords.admin)}`,
        `create role ${single} login password ${q(passwords.single)}`,
        `create role ${dualA} login password ${q(passwords.dualA)}`,
        `create role ${dualB} login password ${q(passwords.dualB)}`,
        `create database ${database} owner ${single}`,
        `grant connect on database ${database} to ${dualA}, ${dualB}`,
      );
      const { serverEnv } = await bootstrappedServerEnv(dialect);
      server = await spawnServer(serverEnv);
      cliEnv = await signedInCli(server.url);
      await ok(['project', 'create', 'maps']);
      const created = await ok(['token', 'create', 'ci', '--role', 'DevOps', '--json']);
      asToken = { ...cliEnv, HUSH_TOKEN: (JSON.parse(created.stdout) as { token: string }).token };
      await addPg('admin', admin, passwords.admin);
      await addPg('main', single, passwords.single);
      await addPg('dual', dualA, passwords.dualA);
      for (const service of ['main', 'dual'])
        await ok([
          'service',
          'create',
          `who-${service}`,
          '--project',
          'maps',
          '--command',
          whoamiOf(service),
        ]);
      await ok([
        'service',
        'create',
        'held',
        '--project',
        'maps',
        '--command',
        `psql "service=dual" -XAt -c 'select current_user' -c 'select pg_sleep(4)' -c 'select current_user' && ${whoamiOf('dual')}`,
      ]);
    }, 120_000);
    afterAll(() => server?.stop());

    it('single: the next job signs in with the new password and PostgreSQL refuses the old', async () => {
      expect(await job('who-main')).toBe(`${single}\n`);
      const added = await ok([
        'rotation',
        'add',
        'main-pw',
        '--secret',
        'main',
        '--project',
        'maps',
        '--admin-service',
        'admin',
      ]);
      expect(added.stdout).toContain('Added single rotation main-pw of pg service main (by hand)');
      const run = await ok(['rotation', 'run', 'main-pw']);
      expect(run.stdout).toContain(
        `Rotated main-pw: role ${single} has a new password, stored as version 2`,
      );
      expect(await job('who-main')).toBe(`${single}\n`);
      expect(await signsIn(cluster.port, single, database, passwords.single)).toBe(false);
      const fresh = await settingsOf('main');
      expect(fresh.password).toMatch(/^[A-Za-z0-9]{32}$/);
      expect(fresh.user).toBe(single);
      expect(await signsIn(cluster.port, single, database, fresh.password!)).toBe(true);

      const history = JSON.parse(
        (await ok(['secret', 'history', 'main', '--project', 'maps', '--json'])).stdout,
      ) as { version: number; createdBy: string; tool: string }[];
      expect(history[0]).toMatchObject({
        version: 2,
        createdBy: 'rotation:main-pw',
        tool: 'system',
      });
      const events = JSON.parse(
        (await ok(['audit', 'list', '--actor', 'rotation:main-pw', '--json'])).stdout,
      ).events as { eventType: string; tool: string; targetName: string }[];
      expect(events.map((e) => `${e.eventType} ${e.targetName} ${e.tool}`)).toEqual([
        'ROTATE main system',
        'ACCESS admin system',
      ]);
    });

    it('dual: a job connected before the rotation keeps working, the next one uses the other role', async () => {
      await ok([
        'rotation',
        'add',
        'dual-pw',
        '--secret',
        'dual',
        '--project',
        'maps',
        '--admin-service',
        'admin',
        '--strategy',
        'dual',
        '--roles',
        `${dualA},${dualB}`,
      ]);
      const verifierOf = async (role: string) =>
        (await cluster.query(`select rolpassword from pg_authid where rolname = '${role}'`))[0]!
          .rolpassword as string;
      const before = { a: await verifierOf(dualA), b: await verifierOf(dualB) };
      const held = hush(['job', 'run', '--project', 'maps', '--service', 'held']);
      // Rotate while the job holds its connection as role A.
      const deadline = Date.now() + 30_000;
      while (
        (await cluster.query(`select 1 from pg_stat_activity where usename = '${dualA}'`))
          .length === 0
      ) {
        if (Date.now() > deadline) throw new Error('the held job never connected');
        await new Promise((r) => setTimeout(r, 100));
      }
      await ok(['rotation', 'run', 'dual-pw']);
      const r = await held;
      expect(r.code, r.stderr).toBe(0);
      // Connected before: still A; a new connection with the old settings after: A still signs in.
      expect(r.stdout).toBe(`${dualA}\n\n${dualA}\n${dualA}\n`);
      expect(await job('who-dual')).toBe(`${dualB}\n`);
      const after = { a: await verifierOf(dualA), b: await verifierOf(dualB) };
      expect(after.a).toBe(before.a);
      expect(after.b).not.toBe(before.b);
      expect(after.b).toMatch(/^SCRAM-SHA-256\$4096:/);
      expect(await signsIn(cluster.port, dualA, database, passwords.dualA)).toBe(true);
      expect(await signsIn(cluster.port, dualB, database, passwords.dualB)).toBe(false);
      const settings = await settingsOf('dual');
      expect(settings.user).toBe(dualB);

      // The next rotation goes back to A, which gets a new password; B keeps its own.
      await ok(['rotation', 'run', 'dual-pw']);
      expect(await job('who-dual')).toBe(`${dualA}\n`);
      expect(await signsIn(cluster.port, dualA, database, passwords.dualA)).toBe(false);
      expect(await signsIn(cluster.port, dualB, database, settings.password!)).toBe(true);
      const shown = JSON.parse((await ok(['rotation', 'show', 'dual-pw', '--json'])).stdout);
      expect(shown.runs.map((x: { role: string }) => x.role)).toEqual([dualA, dualB]);
    });

    it('writes no plaintext password to the statement log, only verifiers', () => {
      const log = fs.readFileSync(cluster.logFile, 'utf8');
      expect(log).toContain("password 'SCRAM-SHA-256$4096:");
      // The first four were set by this test's own CREATE ROLE statements; the rest Hush made.
      expect(known.length).toBeGreaterThan(4);
      for (const p of known.slice(4)) expect(log.includes(p), 'a generated password').toBe(false);
    });

    it('a refused admin connection leaves the secret as it was, with the failure recorded', async () => {
      await addPg('nowhere', admin, passwords.admin, 1);
      const current = await settingsOf('main');
      // main has a rotation already: one rotation per secret.
      const taken = await hush([
        'rotation',
        'add',
        'broken',
        '--secret',
        'main',
        '--project',
        'maps',
        '--admin-service',
        'nowhere',
      ]);
      expect(taken.code).toBe(1);
      expect(taken.stderr).toContain('already has a rotation');
      await ok(['rotation', 'rm', 'main-pw']);
      await ok([
        'rotation',
        'add',
        'broken',
        '--secret',
        'main',
        '--project',
        'maps',
        '--admin-service',
        'nowhere',
        '--every',
        '30d',
      ]);
      const failed = await hush(['rotation', 'run', 'broken']);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain(
        'rotation broken failed: PostgreSQL refused: connect ECONNREFUSED',
      );
      expect((await settingsOf('main')).password).toBe(current.password);
      expect(await job('who-main')).toBe(`${single}\n`);
      const shown = await ok(['rotation', 'show', 'broken']);
      expect(shown.stdout).toContain('state: failing (1)');
      expect(shown.stdout).toContain('last error: PostgreSQL refused: connect ECONNREFUSED');
      const show = JSON.parse((await ok(['rotation', 'show', 'broken', '--json'])).stdout);
      expect(show.runs[0]).toMatchObject({ outcome: 'failed', trigger: 'manual' });
      // A scheduled rotation retries a failure after a minute, not at its next 30 days.
      expect(Date.parse(show.nextRunAt) - Date.parse(show.lastRunAt)).toBe(60_000);
      const audit = JSON.parse(
        (await ok(['audit', 'list', '--actor', 'rotation:broken', '--json'])).stdout,
      ).events as { eventType: string; change: string }[];
      expect(audit[0]!.eventType).toBe('UPDATE');
      expect(audit[0]!.change).toContain('rotation broken failed');
      const report = JSON.parse((await ok(['report', '--json'])).stdout);
      expect(report.rotations.map((x: { name: string }) => x.name)).toContain('broken');
      for (const p of known) {
        expect(JSON.stringify(show)).not.toContain(p);
        expect(failed.stderr).not.toContain(p);
      }
    });

    it('warns on rollback what is true of the restored version', async () => {
      const r = await ok(['secret', 'rollback', 'dual', '--project', 'maps', '--version', '2']);
      expect(r.stderr).toContain(
        `rotation dual-pw alternates two roles: version 2 connects as ${dualB}, whose password works until the next rotation`,
      );
      await ok(['rotation', 'rm', 'broken']);
      await ok([
        'rotation',
        'add',
        'main-pw',
        '--secret',
        'main',
        '--project',
        'maps',
        '--admin-service',
        'admin',
      ]);
      const s = await ok(['secret', 'rollback', 'main', '--project', 'maps', '--version', '1']);
      expect(s.stderr).toContain('the password of version 1 no longer works in PostgreSQL');
      expect(s.stderr).not.toContain(passwords.single);
    });
  });
});
