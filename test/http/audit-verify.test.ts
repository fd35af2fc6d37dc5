import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bootstrapOwner, OWNER, startTestServer, type TestServer } from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';

describe.each(DIALECTS)('audit verification on %s', (dialect) => {
  let t: TestServer;
  let token: string;
  beforeAll(async () => {
    t = await startTestServer(dialect);
    token = await bootstrapOwner(t);
    for (const slug of ['p1', 'p2', 'p3'])
      await t.call('POST', `/api/v1/orgs/${OWNER.org}/projects`, { token, body: { slug } });
  });
  afterAll(() => t.close());

  it('names the event edited directly in the database as the first broken link', async () => {
    const ok = await t.call('GET', `/api/v1/orgs/${OWNER.org}/audit/verify`, { token });
    expect(ok.body).toMatchObject({ ok: true, checked: 5 });
    const target = await t.app.database.db
      .selectFrom('auditEvents')
      .select(['id', 'seq'])
      .where('targetName', '=', 'p2')
      .executeTakeFirstOrThrow();
    await t.app.database.db
      .updateTable('auditEvents')
      .set({ actor: 'someone-else@example.com' })
      .where('id', '=', target.id)
      .execute();
    const broken = await t.call('GET', `/api/v1/orgs/${OWNER.org}/audit/verify`, { token });
    expect(broken.body).toMatchObject({
      ok: false,
      brokenAt: { id: target.id, seq: Number(target.seq), reason: 'hash-mismatch' },
    });
  });

  it('pages both ways with cursors, newest first', async () => {
    const first = await t.call('GET', `/api/v1/orgs/${OWNER.org}/audit?limit=2`, { token });
    expect(first.body.events.map((e: { seq: number }) => e.seq)).toEqual([5, 4]);
    expect(first.body.prevCursor).toBeNull();
    const second = await t.call(
      'GET',
      `/api/v1/orgs/${OWNER.org}/audit?limit=2&cursor=${first.body.nextCursor}`,
      { token },
    );
    expect(second.body.events.map((e: { seq: number }) => e.seq)).toEqual([3, 2]);
    const back = await t.call(
      'GET',
      `/api/v1/orgs/${OWNER.org}/audit?limit=2&cursor=${second.body.prevCursor}`,
      { token },
    );
    expect(back.body.events.map((e: { seq: number }) => e.seq)).toEqual([5, 4]);
    expect(back.body.prevCursor).toBeNull();
    const detail = await t.call(
      'GET',
      `/api/v1/orgs/${OWNER.org}/audit/${first.body.events[0].id}`,
      { token },
    );
    expect(detail.body).toMatchObject({
      seq: 5,
      hash: expect.any(String),
      details: expect.any(Object),
    });
  });
});
