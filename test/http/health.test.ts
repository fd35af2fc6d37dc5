import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bootstrapOwner, OWNER, startTestServer, type TestServer } from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';
import { pgAdmin } from '../helpers/postgres.js';

const METRICS_TOKEN = 'metrics-token-0123456789';

describe.each(DIALECTS)('health, readiness and metrics on %s', (dialect) => {
  let t: TestServer;
  let token: string;
  const sentinel = `sentinel-${dialect}-a1b2c3d4e5`;

  beforeAll(async () => {
    t = await startTestServer(dialect, { HUSH_METRICS: 'on', HUSH_METRICS_TOKEN: METRICS_TOKEN });
    token = await bootstrapOwner(t);
  });
  afterAll(() => t?.close());

  it('answers /healthz and /readyz without a credential', async () => {
    expect((await t.call('GET', '/healthz')).body).toEqual({ status: 'ok' });
    const ready = await t.call('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ready');
    expect(ready.body.checks.map((c: { check: string }) => c.check)).toEqual([
      'shutdown',
      'database',
      'migrations',
      'masterKey',
    ]);
  });

  it('names the failing check when the database lacks a migration', async () => {
    const db = t.app.database.db;
    const rows = await sql<{ name: string; timestamp: string }>`
      select name, timestamp from hush_migrations order by name desc limit 1`.execute(db);
    const { name, timestamp } = rows.rows[0]!;
    await sql`delete from hush_migrations where name = ${name}`.execute(db);
    try {
      const r = await t.call('GET', '/readyz');
      expect(r.status).toBe(503);
      expect(r.body.checks).toContainEqual({
        check: 'migrations',
        ok: false,
        reason: `not applied: ${name}`,
      });
    } finally {
      await sql`insert into hush_migrations (name, timestamp) values (${name}, ${timestamp})`.execute(
        db,
      );
    }
    expect((await t.call('GET', '/readyz')).status).toBe(200);
  });

  it('names the master key the database needs and this node lacks', async () => {
    const db = t.app.database.db;
    const held = (await t.call('GET', '/readyz')).body.checks.find(
      (c: { check: string }) => c.check === 'masterKey',
    ) as { keys: string[] };
    expect(held.keys.length).toBeGreaterThan(0);
    // Another node activated a key this one was never given.
    await sql`update master_keys set state = 'previous' where state = 'active'`.execute(db);
    await sql`insert into master_keys (id, state, changed_at) values ('mk_elsewhere', 'active', '2026-01-01T00:00:00.000Z')`.execute(
      db,
    );
    try {
      const r = await t.call('GET', '/readyz');
      expect(r.status).toBe(503);
      expect(r.body.checks).toContainEqual({
        check: 'masterKey',
        ok: false,
        reason: expect.stringContaining('lacks master key "mk_elsewhere"') as unknown,
        keys: held.keys,
      });
      // It wraps nothing with the old key meanwhile: a new organization is refused whole.
      const created = await t.call('POST', '/api/v1/orgs', {
        token,
        body: { slug: 'wrapped-old', name: 'x' },
      });
      expect(created.status).toBe(503);
      expect(created.body.error.code).toBe('KEY_UNAVAILABLE');
      const orgs = await sql<{
        n: number;
      }>`select count(*) as n from organizations where slug = 'wrapped-old'`.execute(db);
      expect(Number(orgs.rows[0]!.n)).toBe(0);
    } finally {
      await sql`delete from master_keys where id = 'mk_elsewhere'`.execute(db);
      await sql`update master_keys set state = 'active' where state = 'previous'`.execute(db);
    }
    expect((await t.call('GET', '/readyz')).status).toBe(200);
  });

  it.runIf(dialect === 'postgres')(
    'answers 503 naming the database while PostgreSQL refuses it, and recovers by itself',
    async () => {
      const name = new URL(t.databaseUrl!).pathname.slice(1);
      await pgAdmin(async (c) => {
        await c.query(`alter database ${name} allow_connections false`);
        await c.query(
          `select pg_terminate_backend(pid) from pg_stat_activity where datname = '${name}'`,
        );
      });
      try {
        const r = await t.call('GET', '/readyz');
        expect(r.status).toBe(503);
        const db = r.body.checks.find((c: { check: string }) => c.check === 'database');
        expect(db.ok).toBe(false);
        expect(db.reason).toMatch(/^postgres unreachable \((\w+|no answer)\)$/);
      } finally {
        await pgAdmin((c) => c.query(`alter database ${name} allow_connections true`));
      }
      expect((await t.call('GET', '/readyz')).status).toBe(200);
    },
  );

  it('exposes Prometheus metrics behind its token, with no secret value in them', async () => {
    expect((await t.call('GET', '/metrics')).status).toBe(401);
    expect(
      (
        await t.call('GET', '/metrics', {
          headers: { authorization: 'Bearer wrong-token-000000000' },
        })
      ).status,
    ).toBe(401);
    await t.call('POST', `/api/v1/orgs/${OWNER.org}/projects`, { token, body: { slug: 'maps' } });
    await t.call('POST', `/api/v1/orgs/${OWNER.org}/secrets`, {
      token,
      body: { project: 'maps', secret: { kind: 'env', name: 'KEY', value: sentinel } },
    });
    const created = await t.call('POST', `/api/v1/orgs/${OWNER.org}/tokens`, {
      token,
      body: { name: 'reader', role: 'devops' },
    });
    for (let i = 0; i < 2; i++) {
      const read = await t.call('GET', `/api/v1/orgs/${OWNER.org}/runtime/secrets?project=maps`, {
        token: created.body.token,
      });
      expect(read.status).toBe(200);
    }
    const m = await t.call('GET', '/metrics', {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(m.status).toBe(200);
    expect(m.headers['content-type']).toContain('text/plain');
    const text = m.text;
    expect(text).toMatch(
      /hush_http_requests_total\{method="POST",route="\/api\/v1\/orgs\/:org\/secrets",status="201"\} 1/,
    );
    expect(text).toMatch(/hush_http_request_duration_seconds_bucket\{le="0.001"/);
    expect(text).toMatch(/hush_runtime_reads_total\{cache="miss"\} 1/);
    expect(text).toMatch(/hush_runtime_reads_total\{cache="hit"\} 1/);
    expect(text).toMatch(/hush_audit_group_commit_events_count [1-9]/);
    expect(text).toMatch(/hush_job_queue_oldest_seconds\{pool="default"\} 0/);
    expect(text).toContain('hush_process_cpu_user_seconds_total');
    if (dialect === 'postgres') expect(text).toMatch(/hush_db_pool_connections\{state="total"\}/);
    expect(text).not.toContain(sentinel);
  });

  it('answers not ready from the moment the node starts to shut down', async () => {
    t.app.services.health.drain();
    const r = await t.call('GET', '/readyz');
    expect(r.status).toBe(503);
    expect(r.body.checks[0]).toEqual({
      check: 'shutdown',
      ok: false,
      reason: 'the node is shutting down',
    });
    t.app.services.health.runJobs();
    const probed = t.app.services.sandbox.status();
    const again = await t.call('GET', '/readyz');
    expect(again.body.checks.find((c: { check: string }) => c.check === 'sandbox')).toEqual(
      probed?.available
        ? { check: 'sandbox', ok: true }
        : { check: 'sandbox', ok: false, reason: probed?.reason ?? 'not probed yet' },
    );
  });
});

describe('metrics are off by default', () => {
  it('has no /metrics route', async () => {
    const t = await startTestServer(DIALECTS[0]!);
    try {
      expect((await t.call('GET', '/metrics')).status).toBe(404);
    } finally {
      await t.close();
    }
  });
});
