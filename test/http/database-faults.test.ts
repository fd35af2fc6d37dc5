import path from 'node:path';

import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bootstrapOwner, OWNER, startTestServer, type TestServer } from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';
import { pgAdmin } from '../helpers/postgres.js';

// A database that cannot answer is a 503 with a code and Retry-After, never a 500 with a stack;
// when it answers again, Hush does too, without a restart.
describe.each(DIALECTS)('database faults on %s', (dialect) => {
  let t: TestServer;
  let token: string;
  const projects = () => t.call('GET', `/api/v1/orgs/${OWNER.org}/projects`, { token });

  beforeAll(async () => {
    t = await startTestServer(dialect);
    token = await bootstrapOwner(t);
  });
  afterAll(() => t?.close());

  it('answers 503 DATABASE_UNAVAILABLE while the database cannot be used, then recovers', async () => {
    expect((await projects()).status).toBe(200);
    let release: () => Promise<void>;
    if (dialect === 'postgres') {
      const name = new URL(t.databaseUrl!).pathname.slice(1);
      await pgAdmin(async (c) => {
        await c.query(`alter database ${name} allow_connections false`);
        await c.query(
          `select pg_terminate_backend(pid) from pg_stat_activity where datname = '${name}'`,
        );
      });
      release = () =>
        pgAdmin((c) => c.query(`alter database ${name} allow_connections true`)).then(() => {});
    } else {
      // Another process holds SQLite's write lock past the busy timeout (5 s).
      const other = new Database(path.join(t.dataDir, 'hush.db'));
      other.exec('begin exclusive');
      release = () => {
        other.exec('rollback');
        other.close();
        return Promise.resolve();
      };
    }
    try {
      const r =
        dialect === 'postgres'
          ? await projects()
          : await t.call('POST', `/api/v1/orgs/${OWNER.org}/projects`, {
              token,
              body: { slug: 'locked' },
            });
      expect(r.status, r.text).toBe(503);
      expect(r.body.error.code).toBe('DATABASE_UNAVAILABLE');
      expect(r.headers['retry-after']).toBe('5');
      expect(r.text).not.toMatch(/at .*\.js:\d+/);
    } finally {
      await release();
    }
    expect((await projects()).status).toBe(200);
    const created = await t.call('POST', `/api/v1/orgs/${OWNER.org}/projects`, {
      token,
      body: { slug: 'after' },
    });
    expect(created.status).toBe(201);
  }, 30_000);

  it.runIf(dialect === 'sqlite')(
    'answers 507 STORAGE_FULL when SQLite cannot grow, loses nothing, and writes again once it can',
    async () => {
      const db = t.app.database.db;
      const pages = await sql<{ pageCount: number }>`pragma page_count`.execute(db);
      // The database may not grow beyond a few pages more than it has: a full disk, in effect.
      await sql.raw(`pragma max_page_count = ${pages.rows[0]!.pageCount + 4}`).execute(db);
      let full: Awaited<ReturnType<typeof t.call>> | undefined;
      const written: string[] = [];
      try {
        for (let i = 0; i < 200 && !full; i++) {
          const r = await t.call('POST', `/api/v1/orgs/${OWNER.org}/secrets`, {
            token,
            body: { secret: { kind: 'env', name: `FILL_${i}`, value: 'x'.repeat(4000) } },
          });
          if (r.status === 201) written.push(`FILL_${i}`);
          else full = r;
        }
      } finally {
        await sql.raw('pragma max_page_count = 1073741823').execute(db);
      }
      expect(full?.status, full?.text).toBe(507);
      expect(full?.body.error.code).toBe('STORAGE_FULL');
      const check = await sql<{ integrityCheck: string }>`pragma integrity_check`.execute(db);
      expect(check.rows[0]!.integrityCheck).toBe('ok');
      const list = await t.call('GET', `/api/v1/orgs/${OWNER.org}/secrets`, { token });
      const names = list.body.map((x: { name: string }) => x.name);
      for (const name of written) expect(names).toContain(name);
      const again = await t.call('POST', `/api/v1/orgs/${OWNER.org}/secrets`, {
        token,
        body: { secret: { kind: 'env', name: 'AFTER_FULL', value: 'y' } },
      });
      expect(again.status, again.text).toBe(201);
      // The refused write left no half of itself in the audit chain either.
      const verify = await t.call('GET', `/api/v1/orgs/${OWNER.org}/audit/verify`, { token });
      expect(verify.body).toMatchObject({ ok: true });
    },
  );
});
