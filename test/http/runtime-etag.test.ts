import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bootstrapOwner, OWNER, startTestServer, type TestServer } from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';

const O = `/api/v1/orgs/${OWNER.org}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const RUNTIME = `${O}/runtime/secrets?project=maps`;

describe.each(DIALECTS)('runtime read ETag on %s', (dialect) => {
  let t: TestServer;
  let owner: string;
  let ci: string;
  let other: string;
  let secretId: string;

  const newToken = async (name: string) => {
    const res = await t.call('POST', `${O}/tokens`, {
      token: owner,
      body: { name, role: 'devops' },
    });
    expect(res.status, res.text).toBe(201);
    return (res.body as { token: string }).token;
  };
  const accessEvents = async () =>
    (
      await t.app.database.db
        .selectFrom('auditEvents')
        .select('id')
        .where('eventType', '=', 'ACCESS')
        .execute()
    ).length;

  beforeAll(async () => {
    t = await startTestServer(dialect);
    owner = await bootstrapOwner(t);
    await t.call('POST', `${O}/projects`, { token: owner, body: { slug: 'maps' } });
    await t.call('POST', `${O}/projects`, { token: owner, body: { slug: 'tiles' } });
    const add = await t.call('POST', `${O}/secrets`, {
      token: owner,
      body: { project: 'maps', secret: { kind: 'env', name: 'API_KEY', value: 'first value' } },
    });
    secretId = (add.body as { id: string }[])[0]!.id;
    await t.call('POST', `${O}/secrets`, {
      token: owner,
      body: { project: 'tiles', secret: { kind: 'env', name: 'API_KEY', value: 'tiles value' } },
    });
    ci = await newToken('ci');
    other = await newToken('other');
  }, 60_000);
  afterAll(() => t.close());

  it('answers a matching If-None-Match with 304, no body and no ACCESS event', async () => {
    const first = await t.call('GET', RUNTIME, { token: ci });
    expect(first.status, first.text).toBe(200);
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const before = await accessEvents();
    const again = await t.call('GET', RUNTIME, { token: ci, headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
    expect(again.headers.etag).toBe(etag);
    expect(await accessEvents()).toBe(before);
    const stale = await t.call('GET', RUNTIME, { token: ci, headers: { 'if-none-match': '"x"' } });
    expect(stale.status).toBe(200);
    expect(await accessEvents()).toBe(before + 1);
  });

  it('changes the ETag when the secret rotates, and for another token or context', async () => {
    const first = await t.call('GET', RUNTIME, { token: ci });
    const etag = first.headers.etag as string;
    const byOther = await t.call('GET', RUNTIME, { token: other });
    expect(byOther.headers.etag).not.toBe(etag);
    const otherCtx = await t.call('GET', `${O}/runtime/secrets?project=tiles`, { token: ci });
    expect(otherCtx.headers.etag).not.toBe(etag);
    const rotated = await t.call('POST', `${O}/secrets/${secretId}/rotate`, {
      token: owner,
      body: { kind: 'env', value: 'second value' },
    });
    expect(rotated.status, rotated.text).toBe(200);
    const after = await t.call('GET', RUNTIME, { token: ci, headers: { 'if-none-match': etag } });
    expect(after.status).toBe(200);
    expect(after.headers.etag).not.toBe(etag);
    expect(after.text).toContain('second value');
  });

  it('long-polls with Prefer: wait=N: a rotation answers at once, no change 304 after the wait', async () => {
    const etag = (await t.call('GET', RUNTIME, { token: ci })).headers.etag as string;
    const wait = (seconds: number) => ({ 'if-none-match': etag, prefer: `wait=${seconds}` });
    const t0 = Date.now();
    const idle = await t.call('GET', RUNTIME, { token: ci, headers: wait(1) });
    expect(idle.status).toBe(304);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(idle.headers['preference-applied']).toBe('wait=1');
    // Another context's change wakes the wait, which finds its own set unchanged and waits on.
    const elsewhere = t.call('GET', RUNTIME, { token: ci, headers: wait(2) });
    await sleep(200);
    const tiles = await t.call('POST', `${O}/secrets/set`, {
      token: owner,
      body: { project: 'tiles', secrets: [{ name: 'API_KEY', value: 'tiles value 2' }] },
    });
    expect(tiles.status, tiles.text).toBe(200);
    expect((await elsewhere).status).toBe(304);
    const waiting = t.call('GET', RUNTIME, { token: ci, headers: wait(30) });
    await sleep(200);
    const t1 = Date.now();
    const rotated = await t.call('POST', `${O}/secrets/${secretId}/rotate`, {
      token: owner,
      body: { kind: 'env', value: 'third value' },
    });
    expect(rotated.status, rotated.text).toBe(200);
    const woke = await waiting;
    expect(woke.status).toBe(200);
    expect(Date.now() - t1).toBeLessThan(1500);
    expect(woke.text).toContain('third value');
    expect(woke.headers.etag).not.toBe(etag);
  });

  it('ends a long poll of a token revoked while it waits with 401 and no value', async () => {
    const doomed = await newToken('doomed-waiting');
    const etag = (await t.call('GET', RUNTIME, { token: doomed })).headers.etag as string;
    const waiting = t.call('GET', RUNTIME, {
      token: doomed,
      headers: { 'if-none-match': etag, prefer: 'wait=30' },
    });
    await sleep(200);
    const revoke = await t.call('DELETE', `${O}/tokens/doomed-waiting`, { token: owner });
    expect(revoke.status, revoke.text).toBeLessThan(300);
    await t.call('POST', `${O}/secrets/${secretId}/rotate`, {
      token: owner,
      body: { kind: 'env', value: 'value after the revocation' },
    });
    const ended = await waiting;
    expect(ended.status).toBe(401);
    expect(ended.text).not.toContain('value after the revocation');
  });

  it('still authorizes a conditional read: a revoked token gets 401, not 304', async () => {
    const doomed = await newToken('doomed');
    const first = await t.call('GET', RUNTIME, { token: doomed });
    const etag = first.headers.etag as string;
    const revoke = await t.call('DELETE', `${O}/tokens/doomed`, { token: owner });
    expect(revoke.status, revoke.text).toBeLessThan(300);
    const after = await t.call('GET', RUNTIME, {
      token: doomed,
      headers: { 'if-none-match': etag },
    });
    expect(after.status).toBe(401);
  });
});
