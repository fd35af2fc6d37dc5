import { randomBytes } from 'node:crypto';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { useClock } from '../../src/domain/context.js';
import { createRotationScheduler } from '../../src/jobs/rotation-scheduler.js';
import { createLogger } from '../../src/logger.js';
import {
  addMember,
  bootstrapOwner,
  OWNER,
  startTestServer,
  type TestServer,
} from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';
import { pgAdmin } from '../helpers/postgres.js';
import { track } from '../helpers/resources.js';

const DAY = 86_400_000;

// The shared PostgreSQL trusts every password, which is fine here: what is tested is that a due
// rotation runs once and on time, through a real ALTER ROLE on a real server.
describe.each(DIALECTS)('scheduled rotations on %s', (dialect) => {
  let t: TestServer;
  let token: string;
  const role = `hush_sched_${dialect}_${randomBytes(4).toString('hex')}`;
  let offset = 0;
  let restore: () => void;
  const api = (method: string, url: string, body?: unknown) =>
    t.call(method, `/api/v1/orgs/${OWNER.org}${url}`, { token, body });

  beforeAll(async () => {
    await pgAdmin((c) => c.query(`create role ${role} login password 'first'`));
    restore = useClock(() => new Date(Date.now() + offset));
    t = await startTestServer(dialect);
    // A personal token, not a session: sessions expire while the test moves the clock.
    const session = await bootstrapOwner(t);
    const created = await t.call('POST', '/api/v1/me/tokens', {
      token: session,
      body: { name: 'sched', expiresInDays: 3650 },
    });
    token = created.body.token as string;
    expect((await api('POST', '/projects', { slug: 'maps', name: 'Maps' })).status).toBe(201);
    for (const [name, user] of [
      ['admin', 'postgres'],
      ['main', role],
    ] as const) {
      const r = await api('POST', '/secrets', {
        project: 'maps',
        secret: {
          kind: 'pgservice',
          name,
          settings: {
            host: '127.0.0.1',
            port: '5432',
            dbname: 'postgres',
            user,
            password: 'first',
          },
        },
      });
      expect(r.status, r.text).toBe(201);
    }
  }, 60_000);
  afterEach(() => {
    offset = 0;
  });
  afterAll(async () => {
    restore?.();
    await t?.close();
    await pgAdmin((c) => c.query(`drop role if exists ${role}`));
  });

  it('runs a due rotation exactly once however many schedulers ask at once', async () => {
    const added = await api('POST', '/rotations', {
      name: 'nightly',
      secret: 'main',
      project: 'maps',
      adminService: 'admin',
      every: '1d',
      at: '03:00',
    });
    expect(added.status, added.text).toBe(201);
    const next = Date.parse(added.body.nextRunAt as string);
    expect(new Date(next).toISOString().slice(11, 16)).toBe('03:00');
    expect(next - Date.now()).toBeGreaterThan(0);
    expect(next - Date.now()).toBeLessThanOrEqual(2 * DAY);

    // Not due yet: nothing runs.
    expect(await t.app.services.rotations.runDue('a')).toEqual([]);

    // Another node on the same database, where there is one to share (PostgreSQL).
    let closing: { close(): Promise<void> } | undefined;
    const others = [t.app];
    if (dialect === 'postgres') {
      const other = await createApp(
        loadConfig({ dataDir: t.dataDir, databaseUrl: t.databaseUrl, logLevel: 'warn' }),
      );
      others.push(other);
      closing = track('second node', () => other.close());
    }
    offset = next - Date.now() + 1000;
    const runs = (
      await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          others[i % others.length]!.services.rotations.runDue(`node-${i}`),
        ),
      )
    ).flat();
    await closing?.close();
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ outcome: 'succeeded', trigger: 'schedule', version: 2 });
    const shown = await api('GET', '/rotations/nightly');
    expect(shown.body.runs).toHaveLength(1);
    // The next run is the following day at 03:00.
    expect(Date.parse(shown.body.nextRunAt as string) - next).toBe(DAY);
    const history = await api('GET', `/secrets/${shown.body.secret.id as string}/history`);
    expect(history.body[0]).toMatchObject({ version: 2, createdBy: 'rotation:nightly' });
  });

  it('does not run a paused rotation; resuming starts its schedule from then', async () => {
    expect((await api('PATCH', '/rotations/nightly', { paused: true })).body.paused).toBe(true);
    offset = 10 * DAY;
    expect(await t.app.services.rotations.runDue('a')).toEqual([]);
    const resumed = await api('PATCH', '/rotations/nightly', { paused: false });
    expect(Date.parse(resumed.body.nextRunAt as string)).toBeGreaterThan(Date.now() + offset);
    expect(await t.app.services.rotations.runDue('a')).toEqual([]);
  });

  it('runs due rotations from the scheduler the workers start', async () => {
    const show = await api('GET', '/rotations/nightly');
    offset = Date.parse(show.body.nextRunAt as string) - Date.now() + 1000;
    const scheduler = createRotationScheduler({
      rotations: t.app.services.rotations,
      logger: createLogger('silent'),
      everyMs: 20,
    });
    scheduler.start();
    const deadline = Date.now() + 10_000;
    let runs: unknown[] = [];
    while (runs.length < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      runs = (await api('GET', '/rotations/nightly')).body.runs as unknown[];
    }
    await scheduler.stop();
    expect(runs).toHaveLength(2);
  });

  it('records why PostgreSQL refused: a missing role, an admin without the right', async () => {
    const weak = `hush_weak_${dialect}_${randomBytes(4).toString('hex')}`;
    await pgAdmin((c) => c.query(`create role ${weak} login`));
    try {
      const settings = { host: '127.0.0.1', port: '5432', dbname: 'postgres' };
      for (const [name, user] of [
        ['ghost', `hush_missing_${dialect}`],
        ['weak-admin', weak],
        ['other', role],
      ] as const) {
        const r = await api('POST', '/secrets', {
          project: 'maps',
          secret: { kind: 'pgservice', name, settings: { ...settings, user } },
        });
        expect(r.status, r.text).toBe(201);
      }
      const cases = [
        ['ghost-pw', 'ghost', 'admin', /role "hush_missing_\w+" does not exist/],
        ['weak-pw', 'other', 'weak-admin', /PostgreSQL refused: permission denied/],
      ] as const;
      for (const [name, secret, adminService, reason] of cases) {
        const added = await api('POST', '/rotations', {
          name,
          secret,
          project: 'maps',
          adminService,
          every: '1d',
        });
        expect(added.status, added.text).toBe(201);
        const before = await api('GET', `/secrets/${added.body.secret.id as string}/history`);
        const run = await api('POST', `/rotations/${name}/run`);
        expect(run.status).toBe(502);
        expect(run.body.error.code).toBe('ROTATION_FAILED');
        expect(run.body.error.message).toMatch(reason);
        const shown = await api('GET', `/rotations/${name}`);
        expect(shown.body).toMatchObject({ failures: 1 });
        expect(shown.body.lastError).toMatch(reason);
        const after = await api('GET', `/secrets/${added.body.secret.id as string}/history`);
        expect(after.body).toEqual(before.body);
        // Removed again: the next tests add their own rotation of main.
        expect((await api('DELETE', `/rotations/${name}`)).status).toBe(204);
      }
    } finally {
      await pgAdmin((c) => c.query(`drop role if exists ${weak}`));
    }
  });

  it('lets a Viewer see rotations but not add, run, pause or remove one (each denial audited)', async () => {
    const viewer = await addMember(t, token, `viewer-${dialect}@example.com`, 'viewer');
    const as = (method: string, url: string, body?: unknown) =>
      t.call(method, `/api/v1/orgs/${OWNER.org}${url}`, { token: viewer, body });
    expect((await as('GET', '/rotations')).body.map((r: { name: string }) => r.name)).toEqual([
      'nightly',
    ]);
    const attempts = [
      as('POST', '/rotations', {
        name: 'mine',
        secret: 'main',
        project: 'maps',
        adminService: 'admin',
      }),
      as('POST', '/rotations/nightly/run'),
      as('PATCH', '/rotations/nightly', { paused: true }),
      as('DELETE', '/rotations/nightly'),
    ];
    for (const r of await Promise.all(attempts)) {
      expect(r.status, r.text).toBe(403);
      expect(r.body.error.code).toBe('PERMISSION_DENIED');
    }
    const denied = await t.app.database.db
      .selectFrom('auditEvents')
      .select(['targetType'])
      .where('eventType', '=', 'DENIED')
      .where('actor', '=', `viewer-${dialect}@example.com`)
      .execute();
    expect(denied.map((d) => d.targetType)).toEqual(Array(4).fill('rotation'));
    expect((await api('GET', '/rotations/nightly')).body.paused).toBe(false);
  });

  it('refuses what a rotation cannot be, naming the field', async () => {
    const base = { secret: 'main', project: 'maps', adminService: 'admin' };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...base, name: 'x1', adminService: 'nope' }, 'adminService'],
      [{ ...base, name: 'x2', secret: 'nope' }, 'secret'],
      [{ ...base, name: 'x3', strategy: 'dual', roles: ['a'] }, 'roles'],
      [{ ...base, name: 'x4', strategy: 'dual', roles: ['a', 'b'] }, 'roles'],
      [{ ...base, name: 'x5', every: '5 days' }, 'every'],
      [{ ...base, name: 'x6', every: '12h', at: '03:00' }, 'at'],
      [{ ...base, name: 'x7', alphabet: "ab'c" }, 'alphabet'],
      [{ ...base, name: 'x8', at: '25:00' }, 'at'],
      [{ ...base, name: 'x9', every: '30m' }, 'every'],
    ];
    for (const [body, field] of cases) {
      const r = await api('POST', '/rotations', body);
      expect([400, 404, 409], `${field}: ${r.text}`).toContain(r.status);
      expect(r.text).toContain(field);
    }
    const list = await api('GET', '/rotations');
    expect(list.body.map((r: { name: string }) => r.name)).toEqual(['nightly']);
  });
});
