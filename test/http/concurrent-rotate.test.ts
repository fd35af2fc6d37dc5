import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bootstrapOwner, OWNER, startTestServer, type TestServer } from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';

// Writers racing on one secret: each either writes the next version or is told to try again
// (409 CONFLICT); none gets a 500, and the versions stay a gap-free run.
describe.each(DIALECTS)('concurrent rotations of one secret on %s', (dialect) => {
  let t: TestServer;
  let token: string;
  let id: string;
  const api = (method: string, url: string, body?: unknown) =>
    t.call(method, `/api/v1/orgs/${OWNER.org}${url}`, { token, body });

  beforeAll(async () => {
    t = await startTestServer(dialect);
    token = await bootstrapOwner(t);
    await api('POST', '/projects', { slug: 'maps' });
    const r = await api('POST', '/secrets', {
      project: 'maps',
      secret: { kind: 'env', name: 'KEY', value: 'v0' },
    });
    id = r.body[0].id as string;
  });
  afterAll(() => t?.close());

  it('answers each writer 200 or 409, never 500', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        api('POST', `/secrets/${id}/rotate`, { kind: 'env', value: `v${i + 1}` }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(
      statuses.filter((s) => s !== 200 && s !== 409),
      JSON.stringify(results.map((r) => r.text)),
    ).toEqual([]);
    const ok = statuses.filter((s) => s === 200).length;
    expect(ok).toBeGreaterThanOrEqual(1);
    const history = await api('GET', `/secrets/${id}/history`);
    expect(history.body.map((v: { version: number }) => v.version)).toEqual(
      Array.from({ length: ok + 1 }, (_, i) => ok + 1 - i),
    );
  });
});
