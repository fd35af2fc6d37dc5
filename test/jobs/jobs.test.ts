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
import { DIALECTS } from '../helpers/databases.js';

const O = `/api/v1/orgs/${OWNER.org}`;
const VALUE = 'p@ss word/with+chars-0123456789';

describe.each(DIALECTS)('jobs on %s', (dialect) => {
  let t: TestServer;
  let owner: string;
  let viewer: string;

  beforeAll(async () => {
    process.env.HUSH_TEST_SERVER_ONLY = 'server-side-value';
    t = await startTestServer(dialect, {}, { workers: 2 });
    owner = await bootstrapOwner(t);
    viewer = await addMember(t, owner, 'viewer@example.com', 'viewer');
    await t.call('POST', `${O}/projects`, { token: owner, body: { slug: 'maps' } });
    await t.call('POST', `${O}/projects/maps/environments`, {
      token: owner,
      body: { slug: 'prod', type: 'production' },
    });
    const svc = (name: string, command: string, timeout = '1h') =>
      t.call('POST', `${O}/projects/maps/services`, {
        token: owner,
        body: { name, environment: 'prod', command, timeout },
      });
    await svc(
      'printenv',
      'env; ls -ld "$HOME"; stat -c %a "$CA_CERT" "$PGSERVICEFILE"; cat "$PGSERVICEFILE" | grep -c password',
    );
    await svc(
      'leaky',
      'echo "plain $API_KEY"; printf %s "$API_KEY" | base64; echo "url p%40ss%20word%2Fwith%2Bchars-0123456789"; printf %s "$API_KEY" >&2',
    );
    await svc('sleepy', 'sleep 30 & sleep 30', '1s');
    await svc('cancel-me', 'echo started; sleep 30');
    await svc('fails', 'echo bye; exit 3');
    const add = (secret: unknown, level: Record<string, string> = { project: 'maps' }) =>
      t.call('POST', `${O}/secrets`, { token: owner, body: { ...level, secret } });
    await add({ kind: 'env', name: 'API_KEY', value: VALUE });
    await add(
      {
        kind: 'file',
        name: 'CA_CERT',
        fileName: 'certs/ca.pem',
        contentBase64: Buffer.from('certificate').toString('base64'),
      },
      { project: 'maps', env: 'prod' },
    );
    await add(
      {
        kind: 'pgservice',
        name: 'ninja',
        settings: { host: '127.0.0.1', password: 'pg-secret-password' },
      },
      {},
    );
  }, 60_000);
  afterAll(() => t.close());

  const run = async (body: Record<string, unknown>, token = owner) => {
    const res = await t.call('POST', `${O}/jobs`, { token, body: { project: 'maps', ...body } });
    expect(res.status, res.text).toBe(201);
    return res.body.id as string;
  };

  it('names the environment a job runs in, in every answer about it', async () => {
    const id = await run({ service: 'printenv' });
    const adhoc = await run({ command: ['true'] });
    await waitForJob(t, owner, id);
    await waitForJob(t, owner, adhoc);
    expect((await t.call('GET', `${O}/jobs/${id}`, { token: owner })).body.environment).toBe(
      'prod',
    );
    expect((await t.call('GET', `${O}/jobs/${adhoc}`, { token: owner })).body.environment).toBe(
      null,
    );
    const listed = (await t.call('GET', `${O}/projects/maps/jobs`, { token: owner })).body as {
      id: string;
      environment: string | null;
    }[];
    expect(listed.find((j) => j.id === id)?.environment).toBe('prod');
    const logs = await t.call('GET', `${O}/jobs/${id}/logs`, { token: owner });
    expect(logs.body.job.environment).toBe('prod');
  });

  it('gives the process a clean environment, its secrets, private files and the built-ins', async () => {
    const id = await run({ service: 'printenv' });
    const job = await waitForJob(t, owner, id);
    const log = await jobLog(t, owner, id);
    expect(job.status, log).toBe('succeeded');
    expect(log).not.toContain('HUSH_TEST_SERVER_ONLY');
    expect(log).not.toContain('server-side-value');
    expect(log).toContain(`HUSH_JOB_ID=${id}`);
    expect(log).toContain('HUSH_PROJECT=maps');
    expect(log).toContain('HUSH_ENVIRONMENT=prod');
    expect(log).toContain('HUSH_SERVICE=printenv');
    expect(log).toContain(`HUSH_TRIGGERED_BY=${OWNER.email}`);
    expect(log).toContain('API_KEY=[REDACTED]');
    expect(log).toMatch(/^drwx------ /m);
    expect(log).toMatch(/^600\n600\n1\n/m);
    expect(fs.existsSync(path.join(t.dataDir, 'jobs', id))).toBe(false);
  });

  it('redacts values and their base64 and URL-encoded forms before storing the log', async () => {
    const id = await run({ service: 'leaky' });
    await waitForJob(t, owner, id);
    const log = await jobLog(t, owner, id);
    expect(log).toContain('plain [REDACTED]');
    expect(log).toContain('url [REDACTED]');
    expect(log).not.toContain('0123456789');
    expect(log).not.toContain(Buffer.from(VALUE).toString('base64').slice(0, 20));
  });

  it('audits TRIGGER_JOB and an ACCESS event naming secrets and levels, never values', async () => {
    const id = await run({ service: 'fails' });
    const job = await waitForJob(t, owner, id);
    expect(job).toMatchObject({ status: 'failed', exitCode: 3 });
    const page = await t.call('GET', `${O}/audit?targetType=job&limit=100`, { token: owner });
    const mine = page.body.events.filter((e: { targetId: string }) => e.targetId === id);
    expect(mine.map((e: { eventType: string }) => e.eventType).reverse()).toEqual([
      'TRIGGER_JOB',
      'ACCESS',
      'UPDATE',
    ]);
    const access = mine.find((e: { eventType: string }) => e.eventType === 'ACCESS');
    expect(access.details.secrets).toEqual(
      expect.arrayContaining([
        { name: 'API_KEY', kind: 'env', level: 'project', assigned: false },
        { name: 'ninja', kind: 'pgservice', level: 'organization', assigned: false },
      ]),
    );
    expect(page.text).not.toContain('pg-secret-password');
    expect(page.text).not.toContain(VALUE);
  });

  it('kills the whole process tree on timeout', async () => {
    const id = await run({ service: 'sleepy' });
    const job = await waitForJob(t, owner, id);
    expect(job.status).toBe('timed_out');
    expect(job.error).toContain('timed out');
  });

  it('cancels a running job, and refuses to cancel a finished one', async () => {
    const id = await run({ service: 'cancel-me' });
    for (let i = 0; i < 100 && !(await jobLog(t, owner, id)).includes('started'); i++)
      await new Promise((r) => setTimeout(r, 50));
    const cancel = await t.call('POST', `${O}/jobs/${id}/cancel`, { token: owner });
    expect(cancel.status).toBe(200);
    expect((await waitForJob(t, owner, id)).status).toBe('cancelled');
    const again = await t.call('POST', `${O}/jobs/${id}/cancel`, { token: owner });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('CONFLICT');
  });

  it('runs ad-hoc commands, failing clearly when the command does not exist', async () => {
    const ok = await run({ command: ['sh', '-c', 'echo adhoc-$HUSH_PROJECT'] });
    expect((await waitForJob(t, owner, ok)).status).toBe('succeeded');
    expect(await jobLog(t, owner, ok)).toBe('adhoc-maps\n');
    const missing = await run({ command: ['definitely-not-a-command-xyz'] });
    expect(await waitForJob(t, owner, missing)).toMatchObject({
      status: 'failed',
      error: 'command not found: definitely-not-a-command-xyz',
    });
  });

  it('answers an unknown service with 404 and a Viewer with 403 jobs:run', async () => {
    const res = await t.call('POST', `${O}/jobs`, {
      token: owner,
      body: { project: 'maps', service: 'nope' },
    });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('SERVICE_NOT_FOUND');
    const denied = await t.call('POST', `${O}/jobs`, {
      token: viewer,
      body: { project: 'maps', service: 'fails' },
    });
    expect(denied.status).toBe(403);
    expect(denied.body.error.details.permission).toBe('jobs:run');
  });

  it('marks a job whose worker died as failed instead of leaving it running', async () => {
    const id = await run({ command: ['true'] });
    await waitForJob(t, owner, id);
    await t.app.database.db
      .updateTable('jobs')
      .set({ status: 'running', heartbeatAt: '2000-01-01T00:00:00.000Z', finishedAt: null })
      .where('id', '=', id)
      .execute();
    const deadline = Date.now() + 10_000;
    let job = await waitForJob(t, owner, id);
    while (job.status !== 'failed' && Date.now() < deadline) job = await waitForJob(t, owner, id);
    expect(job).toMatchObject({ status: 'failed', error: expect.stringContaining('heartbeat') });
  });

  it("removes a reaped job's directory at the next sweep, not at the next restart", async () => {
    const id = await run({ command: ['true'] });
    await waitForJob(t, owner, id);
    // What an unsandboxed job of a worker that died leaves on disk.
    const dir = path.join(t.dataDir, 'jobs', id);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'pg_service.conf'), '[x]\npassword=left-behind\n');
    await t.app.database.db
      .updateTable('jobs')
      .set({ status: 'running', heartbeatAt: '2000-01-01T00:00:00.000Z', finishedAt: null })
      .where('id', '=', id)
      .execute();
    const deadline = Date.now() + 15_000;
    while (fs.existsSync(dir) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(fs.existsSync(dir)).toBe(false);
    expect((await waitForJob(t, owner, id)).status).toBe('failed');
  });
});

describe('a worker starting after a crash', () => {
  it('removes job directories left behind by jobs that are no longer running', async () => {
    const t = await startTestServer(DIALECTS[0]!);
    try {
      const leftover = path.join(t.dataDir, 'jobs', 'crashed-job');
      fs.mkdirSync(leftover, { recursive: true });
      fs.writeFileSync(path.join(leftover, 'pg_service.conf'), '[x]\npassword=left-behind\n');
      const { createWorkerPool } = await import('../../src/jobs/worker.js');
      const { createLogger } = await import('../../src/logger.js');
      const pool = createWorkerPool({
        database: t.app.database,
        audit: t.app.services.audit,
        resolve: t.app.services.resolve,
        sandbox: t.app.services.sandbox,
        dataDir: t.dataDir,
        concurrency: 1,
        logger: createLogger('silent'),
      });
      await pool.start();
      await pool.stop();
      expect(fs.existsSync(leftover)).toBe(false);
    } finally {
      await t.close();
    }
  });
});
