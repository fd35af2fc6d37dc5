import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestServer, type TestServer } from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';

describe.each(DIALECTS)('first-run setup on %s', (dialect) => {
  let t: TestServer;
  let token: string;
  beforeAll(async () => {
    t = await startTestServer(dialect);
    token = (await t.app.services.auth.issueSetupToken())!;
  });
  afterAll(() => t.close());

  const body = { email: 'first@example.com', password: 'first password', org: 'first-org' };

  it('serves the setup page the start-up line links to', async () => {
    const page = await t.call('GET', `/setup?token=${token}`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    // The console's index.html (or, before a build, the page that says how to build it).
    expect(page.text).toMatch(/<title>Hush/);
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect((await t.call('GET', '/api/v1/setup')).body).toEqual({ open: true });
  });

  it('refuses a wrong token and writes nothing', async () => {
    const res = await t.call('POST', '/api/v1/setup', {
      body: { ...body, token: 'hush_setup_wrong' },
    });
    expect(res.status).toBe(401);
    expect((await t.call('GET', '/api/v1/setup')).body).toEqual({ open: true });
  });

  it('creates the first Owner with the printed token, once', async () => {
    const res = await t.call('POST', '/api/v1/setup', { body: { ...body, token } });
    expect(res.status, res.text).toBe(201);
    expect(res.headers['set-cookie']).toContain('hush_session=');
    const who = await t.call('GET', '/api/v1/auth/whoami', {
      headers: { cookie: `hush_session=${res.body.token}` },
    });
    expect(who.body).toMatchObject({
      email: body.email,
      organizations: [{ slug: 'first-org', role: 'owner' }],
    });
    const again = await t.call('POST', '/api/v1/setup', { body: { ...body, token } });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('ALREADY_SET_UP');
    expect(await t.app.services.auth.issueSetupToken()).toBeNull();
    expect(t.logs.join('')).not.toContain(token);
  });
});
