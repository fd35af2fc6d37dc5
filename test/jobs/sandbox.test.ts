import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  addMember,
  bootstrapOwner,
  jobLog,
  OWNER,
  startTestServer,
  type TestServer,
  waitForJob,
} from '../helpers/app.js';
import { DIALECTS, tempDir } from '../helpers/databases.js';

// The attacks of issue 16, replayed by the Owner of a second organization on the same server.
const SENTINEL = `server-env-sentinel-${randomBytes(8).toString('hex')}`;
const VICTIM_PASSWORD = `victim-pg-password-${randomBytes(8).toString('hex')}`;
const A = `/api/v1/orgs/${OWNER.org}`;
const E = '/api/v1/orgs/evil';

describe.each(DIALECTS)('a job in its sandbox on %s', (dialect) => {
  let t: TestServer;
  let owner: string;
  let attacker: string;

  beforeAll(async () => {
    process.env.HUSH_SANDBOX_TEST_SENTINEL = SENTINEL;
    // Anyone may create an organization here: the attacker owns one of their own.
    t = await startTestServer(dialect, { HUSH_ORG_CREATION: 'anyone' }, { workers: 3 });
    owner = await bootstrapOwner(t);
    // A Viewer of acme (no jobs there) who owns an organization of their own.
    attacker = await addMember(t, owner, 'mallory@example.com', 'viewer');
    const org = await t.call('POST', '/api/v1/orgs', { token: attacker, body: { slug: 'evil' } });
    expect(org.status, org.text).toBe(201);
    for (const [base, token] of [
      [A, owner],
      [E, attacker],
    ] as const) {
      await t.call('POST', `${base}/projects`, { token, body: { slug: 'maps' } });
    }
    await t.call('POST', `${A}/secrets`, {
      token: owner,
      body: {
        project: 'maps',
        secret: {
          kind: 'pgservice',
          name: 'victim',
          settings: { host: '127.0.0.1', user: 'victim', password: VICTIM_PASSWORD },
        },
      },
    });
  }, 60_000);
  afterAll(async () => {
    delete process.env.HUSH_SANDBOX_TEST_SENTINEL;
    await t.close();
  });

  const attack = async (script: string, argv = ['sh', '-c', script]) => {
    const res = await t.call('POST', `${E}/jobs`, {
      token: attacker,
      body: { project: 'maps', command: argv },
    });
    expect(res.status, res.text).toBe(201);
    const id = res.body.id as string;
    // A search of the whole sandbox reads every directory of /usr: tens of seconds with a cold
    // page cache on a machine with Chromium, PostGIS and the rest installed.
    const job = await waitForJob(t, attacker, id, 'evil', 90_000);
    return { job, log: await jobLog(t, attacker, id, 'evil') };
  };

  it('cannot read the master key or the database files, and says so', async () => {
    const key = path.join(t.dataDir, 'master.key');
    expect(fs.existsSync(key)).toBe(true);
    const { job, log } = await attack(
      `cat ${key}; cat ${path.join(t.dataDir, 'hush.db')}; ls ${t.dataDir}`,
    );
    expect(job.status).toBe('failed');
    expect(job.exitCode).not.toBe(0);
    expect(log).toContain(`cat: ${key}: No such file or directory`);
    expect(log).toContain(`ls: cannot access '${t.dataDir}': No such file or directory`);
    expect(log).not.toContain(fs.readFileSync(key, 'utf8').trim().slice(-16));
  });

  it("sees neither the server's process nor its environment", async () => {
    const { log } = await attack(
      `cat /proc/${process.pid}/environ; echo; for f in /proc/[0-9]*/environ; do echo "== $f"; tr '\\0' '\\n' < "$f"; done; ls /proc | grep -c '^[0-9]'`,
    );
    expect(log).toContain(`/proc/${process.pid}/environ: No such file or directory`);
    expect(log).toContain('== /proc/1/environ');
    expect(log).toContain('HUSH_ORGANIZATION=evil');
    expect(log).not.toContain(SENTINEL);
    expect(log).not.toContain('HUSH_SANDBOX_TEST_SENTINEL');
    // bwrap's init, the shell and its pipeline: nothing of the host.
    expect(Number(log.trim().split('\n').at(-1))).toBeLessThan(8);
  });

  it("cannot reach another organization's running job or its pg_service.conf", async () => {
    const victim = await t.call('POST', `${A}/jobs`, {
      token: owner,
      body: { project: 'maps', command: ['sh', '-c', 'echo started; sleep 3'] },
    });
    expect(victim.status, victim.text).toBe(201);
    const victimId = victim.body.id as string;
    for (let i = 0; i < 100 && !(await jobLog(t, owner, victimId)).includes('started'); i++)
      await new Promise((r) => setTimeout(r, 50));
    // Nothing of a sandboxed job is on the host's disk: its directory lives in its sandbox.
    expect(fs.readdirSync(path.join(t.dataDir, 'jobs'))).toEqual([]);
    const { log } = await attack(
      `ls ${path.join(t.dataDir, 'jobs')}; cat ${path.join(t.dataDir, 'jobs', victimId, 'pg_service.conf')}; ` +
        `grep -rs password= / --include=pg_service.conf; ls -a /job; id -u; echo done`,
    );
    expect(log).toContain('No such file or directory');
    expect(log).not.toContain(VICTIM_PASSWORD);
    expect(log).toContain('65534');
    expect(log).toContain('done');
    expect((await waitForJob(t, owner, victimId)).status).toBe('succeeded');
  }, 120_000);

  it('a Node script cannot open the data directory, write the system or become root', async () => {
    const script = `
      const fs = require('fs');
      for (const p of [process.argv[1], process.argv[1] + '/master.key', '/usr/hush-was-here', '/etc/shadow']) {
        try { fs.readdirSync(p); console.log('READ', p); } catch (e) { console.log(e.code, p); }
      }
      try { fs.writeFileSync('/usr/hush-was-here', 'x'); console.log('WROTE /usr'); } catch (e) { console.log(e.code, 'write /usr'); }
      try { process.setuid(0); console.log('ROOT'); } catch (e) { console.log(e.code, 'setuid'); }
      process.exit(fs.existsSync(process.argv[1]) ? 0 : 9);
    `;
    const { job, log } = await attack('', ['node', '-e', script, t.dataDir]);
    expect(job).toMatchObject({ status: 'failed', exitCode: 9 });
    expect(log).toContain(`ENOENT ${t.dataDir}`);
    expect(log).toContain('ENOENT /etc/shadow');
    expect(log).toMatch(/EROFS write \/usr|EACCES write \/usr/);
    // uid 0 is not even mapped in the job's user namespace.
    expect(log).toMatch(/(EPERM|EINVAL) setuid/);
    expect(log).not.toContain('READ');
    expect(log).not.toContain('WROTE');
    expect(log).not.toContain('ROOT');
  });

  it('cannot make a user namespace of its own to regain privileges', async () => {
    const { log } = await attack('unshare -U -r id -u; echo "unshare=$?"');
    expect(log).toMatch(/unshare=[1-9]/);
  });

  it("keeps the job's own files private: 0700 home, 0600 files, writable home, private /tmp", async () => {
    const { job, log } = await attack(
      'stat -c "%a %U" "$HOME"; echo x > "$HOME/out" && echo home-ok; echo y > /tmp/t && echo tmp-ok; ls /tmp; pwd',
    );
    expect(job.status, log).toBe('succeeded');
    expect(log).toBe('700 hush-job\nhome-ok\ntmp-ok\nt\n/job\n');
  });

  it("refuses a service's working directory outside the job's directory", async () => {
    for (const workingDir of ['/', '../../..', t.dataDir]) {
      const res = await t.call('POST', `${E}/projects/maps/services`, {
        token: attacker,
        body: { name: 'escape', command: 'ls', workingDir },
      });
      expect(res.status, workingDir).toBe(400);
      expect(res.body.error.details.fields[0].field).toBe('workingDir');
    }
    const ok = await t.call('POST', `${E}/projects/maps/services`, {
      token: attacker,
      body: { name: 'nested', command: 'pwd', workingDir: 'src/app' },
    });
    expect(ok.status, ok.text).toBe(201);
    const run = await t.call('POST', `${E}/jobs`, {
      token: attacker,
      body: { project: 'maps', service: 'nested' },
    });
    await waitForJob(t, attacker, run.body.id as string, 'evil');
    expect(await jobLog(t, attacker, run.body.id as string, 'evil')).toBe('/job/src/app\n');
  });
});

describe('the sandbox settings', () => {
  const dialect = DIALECTS[0]!;

  it('mounts what the operator lists read-only, and can take the network away', async () => {
    const tools = tempDir('hush-tools-');
    fs.chmodSync(tools, 0o755);
    fs.writeFileSync(path.join(tools, 'hello.sh'), 'echo hello from tools\n', { mode: 0o644 });
    const t = await startTestServer(
      dialect,
      { HUSH_JOB_MOUNTS: tools, HUSH_JOB_NETWORK: 'none' },
      { workers: 1 },
    );
    try {
      const owner = await bootstrapOwner(t);
      await t.call('POST', `${A}/projects`, { token: owner, body: { slug: 'maps' } });
      const svc = await t.call('POST', `${A}/projects/maps/services`, {
        token: owner,
        body: {
          name: 'tools',
          workingDir: tools,
          command:
            'sh hello.sh; touch x 2>/dev/null || echo read-only; ' +
            `node -e "require('net').connect(8080,'127.0.0.1').on('connect',()=>console.log('connected')).on('error',e=>console.log(e.code))"`,
        },
      });
      expect(svc.status, svc.text).toBe(201);
      const run = await t.call('POST', `${A}/jobs`, {
        token: owner,
        body: { project: 'maps', service: 'tools' },
      });
      await waitForJob(t, owner, run.body.id as string);
      const log = await jobLog(t, owner, run.body.id as string);
      expect(log).toContain('hello from tools');
      expect(log).toContain('read-only');
      expect(log).toMatch(/ENETUNREACH|ECONNREFUSED/);
      expect(log).not.toContain('connected');
      const outside = await t.call('POST', `${A}/projects/maps/services`, {
        token: owner,
        body: { name: 'outside', command: 'ls', workingDir: path.dirname(tools) },
      });
      expect(outside.status).toBe(400);
    } finally {
      await t.close();
    }
  });

  it('refuses jobs with one clear reason when the sandbox cannot be made', async () => {
    const t = await startTestServer(
      dialect,
      { HUSH_JOB_MOUNTS: '/nonexistent-hush-mount' },
      { workers: 1 },
    );
    try {
      const owner = await bootstrapOwner(t);
      await t.call('POST', `${A}/projects`, { token: owner, body: { slug: 'maps' } });
      const res = await t.call('POST', `${A}/jobs`, {
        token: owner,
        body: { project: 'maps', command: ['true'] },
      });
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('JOB_SANDBOX_UNAVAILABLE');
      expect(res.body.error.message).toContain('bubblewrap cannot create the job sandbox');
      expect(res.body.error.message).toContain('/nonexistent-hush-mount');
      const status = await t.call('GET', '/api/v1/jobs/sandbox', { token: owner });
      expect(status.body).toMatchObject({ mode: 'bwrap', available: false, runsJobs: true });
      // The API itself still answers.
      expect((await t.call('GET', `${A}/projects`, { token: owner })).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('runs jobs without a sandbox only when told to, warning at start and on every job', async () => {
    const t = await startTestServer(dialect, { HUSH_JOB_SANDBOX: 'none' }, { workers: 1 });
    try {
      const owner = await bootstrapOwner(t);
      await t.call('POST', `${A}/projects`, { token: owner, body: { slug: 'maps' } });
      const res = await t.call('POST', `${A}/jobs`, {
        token: owner,
        body: { project: 'maps', command: ['sh', '-c', 'echo "$HOME"'] },
      });
      const job = await waitForJob(t, owner, res.body.id as string);
      expect(job.status).toBe('succeeded');
      expect(await jobLog(t, owner, job.id as string)).toBe(
        `${path.join(t.dataDir, 'jobs', job.id as string)}\n`,
      );
      const warnings = t.logs.filter((l) => l.includes('WITHOUT a sandbox'));
      expect(warnings.length).toBeGreaterThanOrEqual(2);
      const status = await t.call('GET', '/api/v1/jobs/sandbox', { token: owner });
      expect(status.body).toMatchObject({ mode: 'none', available: true });
    } finally {
      await t.close();
    }
  });
});
