import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type App, createApp } from '../../src/app.js';
import { buildServer } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';
import { bootstrapOwner, OWNER, startTestServer, type TestServer } from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';

const O = `/api/v1/orgs/${OWNER.org}`;
const RUNTIME = `${O}/runtime/secrets?project=maps&env=prod`;

type Material = { name: string; value?: string };

describe.each(DIALECTS)('runtime read cache and ACCESS group commit on %s', (dialect) => {
  let t: TestServer;
  let owner: string;
  let ci: string;
  let secretId: string;
  // A second `hush serve` on the same database: what one node changes, the other must serve.
  let app2: App;
  let server2: Awaited<ReturnType<typeof buildServer>>;

  const read = async (server: 'one' | 'two' = 'one') => {
    const res =
      server === 'one'
        ? await t.call('GET', RUNTIME, { token: ci })
        : await server2.inject({
            method: 'GET',
            url: RUNTIME,
            headers: { authorization: `Bearer ${ci}` },
          });
    const status = 'status' in res ? res.status : res.statusCode;
    const text = 'text' in res ? res.text : res.body;
    expect(status, text).toBe(200);
    return Object.fromEntries(
      (JSON.parse(text) as Material[]).map((m) => [m.name, m.value ?? null]),
    );
  };
  const accessEvents = () =>
    t.app.database.db
      .selectFrom('auditEvents')
      .select(['seq', 'timestamp'])
      .where('eventType', '=', 'ACCESS')
      .orderBy('seq')
      .execute();

  beforeAll(async () => {
    t = await startTestServer(dialect);
    owner = await bootstrapOwner(t);
    await t.call('POST', `${O}/projects`, { token: owner, body: { slug: 'maps' } });
    await t.call('POST', `${O}/projects/maps/environments`, {
      token: owner,
      body: { slug: 'prod', type: 'production' },
    });
    const add = await t.call('POST', `${O}/secrets`, {
      token: owner,
      body: { project: 'maps', secret: { kind: 'env', name: 'API_KEY', value: 'project value' } },
    });
    expect(add.status, add.text).toBe(201);
    secretId = (add.body as { id: string }[])[0]!.id;
    const token = await t.call('POST', `${O}/tokens`, {
      token: owner,
      body: { name: 'ci', role: 'devops' },
    });
    ci = (token.body as { token: string }).token;
    app2 = await createApp(t.app.config);
    server2 = await buildServer(t.app.config, {
      services: app2.services,
      logger: createLogger('silent'),
    });
  }, 60_000);
  afterAll(async () => {
    await server2?.close();
    await app2?.close();
    await t.close();
  });

  it('serves every change at once, including one made through another server', async () => {
    expect(await read()).toEqual({ API_KEY: 'project value' });
    expect(await read('two')).toEqual({ API_KEY: 'project value' });

    // Rotated through server two: server one's cached answer is stale and must not be served.
    const rotated = await server2.inject({
      method: 'POST',
      url: `${O}/secrets/${secretId}/rotate`,
      headers: { authorization: `Bearer ${owner}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ kind: 'env', value: 'rotated value' }),
    });
    expect(rotated.statusCode, rotated.body).toBe(200);
    expect(await read()).toEqual({ API_KEY: 'rotated value' });

    // A deeper level through server one wins at once on server two, and goes with its removal.
    const deeper = await t.call('POST', `${O}/secrets`, {
      token: owner,
      body: {
        project: 'maps',
        env: 'prod',
        secret: { kind: 'env', name: 'API_KEY', value: 'env value' },
      },
    });
    expect(deeper.status, deeper.text).toBe(201);
    expect(await read('two')).toEqual({ API_KEY: 'env value' });
    const deeperId = (deeper.body as { id: string }[])[0]!.id;
    const removed = await t.call('DELETE', `${O}/secrets/${deeperId}`, { token: owner });
    expect(removed.status, removed.text).toBeLessThan(300);
    expect(await read('two')).toEqual({ API_KEY: 'rotated value' });
    expect(await read()).toEqual({ API_KEY: 'rotated value' });

    // A rollback is a change too.
    const back = await t.call('POST', `${O}/secrets/${secretId}/rollback`, {
      token: owner,
      body: { version: 1 },
    });
    expect(back.status, back.text).toBe(200);
    expect(await read('two')).toEqual({ API_KEY: 'project value' });
  });

  it('refuses a cached context to a token revoked on the other server', async () => {
    const res = await t.call('POST', `${O}/tokens`, {
      token: owner,
      body: { name: 'short-lived', role: 'devops' },
    });
    const token = (res.body as { token: string }).token;
    expect((await t.call('GET', RUNTIME, { token })).status).toBe(200);
    const revoke = await server2.inject({
      method: 'DELETE',
      url: `${O}/tokens/short-lived`,
      headers: { authorization: `Bearer ${owner}` },
    });
    expect(revoke.statusCode, revoke.body).toBeLessThan(300);
    expect((await t.call('GET', RUNTIME, { token })).status).toBe(401);
  });

  it('writes one ACCESS event per concurrent read, committed in batches, chain intact', async () => {
    const before = (await accessEvents()).length;
    const reads = 40;
    const answers = await Promise.all(
      Array.from({ length: reads }, () => t.call('GET', RUNTIME, { token: ci })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array<number>(reads).fill(200));
    const events = (await accessEvents()).slice(before);
    expect(events).toHaveLength(reads);
    // One batch takes one timestamp: fewer timestamps than reads means reads shared commits.
    expect(new Set(events.map((e) => e.timestamp)).size).toBeLessThan(reads);
    const org = await t.app.database.db
      .selectFrom('organizations')
      .select('id')
      .where('slug', '=', OWNER.org)
      .executeTakeFirstOrThrow();
    const verdict = await t.app.services.audit.verify(t.app.database.db, org.id);
    expect(verdict.ok).toBe(true);
  });

  it('sends no value when the ACCESS event cannot be committed', async () => {
    const db = t.app.database.db;
    if (dialect === 'sqlite') {
      await sql`CREATE TRIGGER refuse_access BEFORE INSERT ON audit_events
        WHEN NEW.event_type = 'ACCESS' BEGIN SELECT RAISE(ABORT, 'refused by test'); END`.execute(
        db,
      );
    } else {
      await sql`CREATE FUNCTION refuse_access() RETURNS trigger AS $$
        BEGIN IF NEW.event_type = 'ACCESS' THEN RAISE EXCEPTION 'refused by test'; END IF;
        RETURN NEW; END $$ LANGUAGE plpgsql`.execute(db);
      await sql`CREATE TRIGGER refuse_access BEFORE INSERT ON audit_events
        FOR EACH ROW EXECUTE FUNCTION refuse_access()`.execute(db);
    }
    try {
      const answers = await Promise.all(
        Array.from({ length: 5 }, () => t.call('GET', RUNTIME, { token: ci })),
      );
      for (const a of answers) {
        expect(a.status).toBe(500);
        expect(a.text).not.toContain('project value');
      }
    } finally {
      await sql`DROP TRIGGER refuse_access${sql.raw(dialect === 'postgres' ? ' ON audit_events' : '')}`.execute(
        db,
      );
      if (dialect === 'postgres') await sql`DROP FUNCTION refuse_access()`.execute(db);
    }
    expect(await read()).toEqual({ API_KEY: 'project value' });
  });
});
