import fs from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CONSOLE_DIR } from '../../src/http/console.js';
import {
  bootstrapOwner,
  type CallResult,
  OWNER,
  startTestServer,
  type TestServer,
} from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';

const O = `/api/v1/orgs/${OWNER.org}`;
const LOGIN = { email: OWNER.email, password: OWNER.password };

/** Lines the server logged at error level (pino: 50) or above, or with a stack. */
const errorLines = (t: TestServer) =>
  t.logs.filter((l) => {
    const { level, err } = JSON.parse(l) as { level: number; err?: unknown };
    return level >= 50 || err !== undefined;
  });

/**
 * GETs one of the built console's assets. The console may be rebuilt while the tests run
 * (Vite empties dist/console first), so a vanished file is looked up again.
 */
async function getAsset(t: TestServer, ext: string): Promise<CallResult & { url: string }> {
  const dir = path.join(CONSOLE_DIR, 'assets');
  let res: CallResult | undefined;
  for (let attempt = 0; attempt < 20; attempt++) {
    const name = fs.existsSync(dir) ? fs.readdirSync(dir).find((f) => f.endsWith(ext)) : undefined;
    if (name) {
      res = await t.call('GET', `/assets/${name}`);
      if (res.status === 200) return { ...res, url: `/assets/${name}` };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `no ${ext} asset in ${dir} could be fetched (${res?.status ?? 'none found'}): run npm run build`,
  );
}

describe.each(DIALECTS)('HTTP hardening on %s', (dialect) => {
  let t: TestServer;
  let owner: string;
  beforeAll(async () => {
    t = await startTestServer(dialect);
    owner = await bootstrapOwner(t);
  });
  afterAll(() => t.close());

  describe('unknown assets and console routes', () => {
    it.each(['/assets/', '/assets/nope.js', '/assets//', '/assets/%00', '/assets/x/', '/assets'])(
      'answers %s with the JSON 404 and logs no error',
      async (url) => {
        const before = t.logs.length;
        const res = await t.call('GET', url);
        expect(res.status, res.text).toBe(404);
        expect(res.headers['content-type']).toContain('application/json');
        expect(res.body).toEqual({
          error: { code: 'NOT_FOUND', message: `no route GET ${url}`, details: {} },
        });
        expect(res.headers['x-content-type-options']).toBe('nosniff');
        expect(errorLines({ ...t, logs: t.logs.slice(before) })).toEqual([]);
      },
    );

    it('answers a traversal attempt under /assets with the 404, not a file and not a 500', async () => {
      const before = t.logs.length;
      for (const url of ['/assets/..%2f..%2fpackage.json', '/assets/..%5c..%5cpackage.json']) {
        const res = await t.call('GET', url);
        expect(res.status, url).toBe(404);
        expect(res.body.error.code).toBe('NOT_FOUND');
      }
      expect(errorLines({ ...t, logs: t.logs.slice(before) })).toEqual([]);
    });

    it('answers a failed precondition or an unsatisfiable range on an asset as such, unlogged', async () => {
      const { url } = await getAsset(t, '.css');
      const before = t.logs.length;
      const precondition = await t.call('GET', url, { headers: { 'if-match': '"nope"' } });
      expect(precondition.status).toBe(412);
      const range = await t.call('GET', url, { headers: { range: 'bytes=999999999-' } });
      expect(range.status).toBe(416);
      expect(range.headers['content-range']).toMatch(/^bytes \*\/\d+$/);
      expect(range.headers['x-content-type-options']).toBe('nosniff');
      expect(errorLines({ ...t, logs: t.logs.slice(before) })).toEqual([]);
    });

    it.each(['/', '/some/console/route', '/orgs/acme/projects/maps/secrets', '/signin?next=%2F'])(
      'answers the client-side page %s with the console',
      async (url) => {
        const res = await t.call('GET', url);
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
        expect(res.text).toMatch(/<title>Hush/);
        expect(res.headers['cache-control']).toBe('no-store');
        expect(res.headers['x-content-type-options']).toBe('nosniff');
        expect(res.headers['x-frame-options']).toBe('DENY');
      },
    );

    it('answers /favicon.ico and /favicon.svg with the console’s icon, not a page', async () => {
      for (const url of ['/favicon.ico', '/favicon.svg']) {
        const res = await t.call('GET', url);
        expect(res.status, url).toBe(200);
        expect(res.headers['content-type'], url).toMatch(/^image\/svg\+xml/);
        expect(res.text, url).toContain('<svg');
      }
    });

    it('keeps the API out of the console: unknown /api paths and other methods are JSON 404s', async () => {
      for (const url of ['/api', '/api/v1/nope', '/api/v2/orgs']) {
        const res = await t.call('GET', url);
        expect(res.status, url).toBe(404);
        expect(res.body.error.code).toBe('NOT_FOUND');
        expect(res.headers['cache-control']).toBe('no-store');
      }
      const post = await t.call('POST', '/some/console/route', { body: {} });
      expect(post.status).toBe(404);
      expect(post.body.error.code).toBe('NOT_FOUND');
    });
  });

  describe('security headers', () => {
    it('sends credentials with no-store and nosniff: login, token creation', async () => {
      const login = await t.call('POST', '/api/v1/auth/login', { body: LOGIN });
      expect(login.status).toBe(200);
      expect(login.headers['cache-control']).toBe('no-store');
      expect(login.headers['x-content-type-options']).toBe('nosniff');
      const token = await t.call('POST', `${O}/tokens`, {
        token: owner,
        body: { name: 'ci', role: 'devops' },
      });
      expect(token.status, token.text).toBe(201);
      expect(token.headers['cache-control']).toBe('no-store');
      expect(token.headers['x-content-type-options']).toBe('nosniff');
    });

    it('sends no-store and nosniff on every other API answer, errors included', async () => {
      for (const [url, status] of [
        ['/api/v1/health', 200],
        ['/api/v1/openapi.json', 200],
        ['/api/v1/auth/whoami', 401],
        [`${O}/projects/none`, 404],
      ] as const) {
        const res = await t.call('GET', url, { token: status === 404 ? owner : undefined });
        expect(res.status, url).toBe(status);
        expect(res.headers['cache-control'], url).toBe('no-store');
        expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      }
      const bad = await t.call('POST', '/api/v1/auth/login', { rawBody: '{' });
      expect(bad.status).toBe(400);
      expect(bad.headers['cache-control']).toBe('no-store');
    });

    it('keeps the runtime read private, no-store, also on its 304', async () => {
      await t.call('POST', `${O}/projects`, { token: owner, body: { slug: 'maps' } });
      await t.call('POST', `${O}/secrets`, {
        token: owner,
        body: { project: 'maps', secret: { kind: 'env', name: 'API_KEY', value: 'v' } },
      });
      const created = await t.call('POST', `${O}/tokens`, {
        token: owner,
        body: { name: 'runtime', role: 'devops' },
      });
      const token = (created.body as { token: string }).token;
      const url = `${O}/runtime/secrets?project=maps`;
      const first = await t.call('GET', url, { token });
      expect(first.status, first.text).toBe(200);
      expect(first.headers['cache-control']).toBe('private, no-store');
      expect(first.headers['x-content-type-options']).toBe('nosniff');
      const again = await t.call('GET', url, {
        token,
        headers: { 'if-none-match': first.headers.etag as string },
      });
      expect(again.status).toBe(304);
      expect(again.headers['cache-control']).toBe('private, no-store');
    });

    it('sends nosniff on console assets, which stay cacheable for good', async () => {
      const js = await getAsset(t, '.js');
      expect(js.headers['x-content-type-options']).toBe('nosniff');
      expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      const css = await getAsset(t, '.css');
      expect(css.headers['x-content-type-options']).toBe('nosniff');
    });
  });
});

describe.each(DIALECTS)('the session cookie on %s', (dialect) => {
  /** The Set-Cookie of a login and of the logout that follows, on a server with this env. */
  async function cookies(env: Record<string, string>, headers: Record<string, string>) {
    const t = await startTestServer(dialect, env);
    try {
      await bootstrapOwner(t);
      const login = await t.call('POST', '/api/v1/auth/login', { body: LOGIN, headers });
      expect(login.status, login.text).toBe(200);
      const logout = await t.call('POST', '/api/v1/auth/logout', {
        token: login.body.token,
        headers,
      });
      expect(logout.status, logout.text).toBe(204);
      return {
        set: String(login.headers['set-cookie']),
        cleared: String(logout.headers['set-cookie']),
      };
    } finally {
      await t.close();
    }
  }

  const HTTPS = { 'x-forwarded-proto': 'https' };
  const HTTP = { 'x-forwarded-proto': 'http' };
  const PROXY = { HUSH_TRUST_PROXY: 'true' };
  it.each<{
    name: string;
    env: Record<string, string>;
    headers: Record<string, string>;
    secure: boolean;
  }>([
    { name: 'auto (default) over http', env: {}, headers: {}, secure: false },
    {
      name: 'auto, X-Forwarded-Proto https, no trustProxy',
      env: {},
      headers: HTTPS,
      secure: false,
    },
    { name: 'auto over https behind a trusted proxy', env: PROXY, headers: HTTPS, secure: true },
    { name: 'auto over http behind a trusted proxy', env: PROXY, headers: HTTP, secure: false },
    { name: 'true over http', env: { HUSH_COOKIE_SECURE: 'true' }, headers: {}, secure: true },
    {
      name: 'false over https behind a trusted proxy',
      env: { ...PROXY, HUSH_COOKIE_SECURE: 'false' },
      headers: HTTPS,
      secure: false,
    },
  ])('$name: Secure $secure', async ({ env, headers, secure }) => {
    const { set, cleared } = await cookies(env, headers);
    const attrs = `Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
    expect(set).toMatch(new RegExp(`^hush_session=[^;]+; ${attrs}; Expires=[^;]+$`));
    // Cleared on logout with the same attributes, so the browser replaces that very cookie.
    expect(cleared).toBe(`hush_session=; ${attrs}; Max-Age=0`);
  });
});
