import http from 'node:http';
import type { AddressInfo } from 'node:net';

import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { launchChromium } from '../helpers/browser.js';
import { bootstrappedServerEnv, CLI_OWNER, spawnServer } from '../helpers/cli.js';
import { DIALECTS } from '../helpers/databases.js';
import { track } from '../helpers/resources.js';

// Cross-site request forgery in a real browser: the Owner is signed in to the console (session
// cookie, SameSite=Strict), then opens a page of another origin on the same site (127.0.0.1,
// another port: the cookie goes along). That page posts to Hush every way a page can without
// CORS: fetch in no-cors mode with a text/plain body, body-less, and an HTML form. Before the
// CSRF rule it moved ownership, cancelled a job and signed the Owner out.

const ADMIN = { email: 'admin@example.com', password: 'admin password 1' };

/** Serves one HTML page on 127.0.0.1 at a free port: the attacker's site. */
async function attackerSite(html: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const handle = track(
    'attacker site',
    () => new Promise<void>((resolve) => server.close(() => resolve())),
  );
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => handle.close(),
  };
}

describe.each(DIALECTS)('cross-site requests in Chromium on %s', (dialect) => {
  let server: Awaited<ReturnType<typeof spawnServer>>;
  let chromium: Awaited<ReturnType<typeof launchChromium>>;
  let context: BrowserContext;
  let page: Page;
  let bearer: string;
  let jobId: string;

  const api = async (method: string, path: string, body?: unknown, token = bearer) => {
    const res = await fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  /** A request from the console's own page (same origin), as its code would send it. */
  const fromConsole = (method: string, path: string, headers: Record<string, string>) =>
    page.evaluate(
      async ({ method, url, headers }) => {
        const res = await fetch(url, { method, headers, credentials: 'same-origin' });
        const text = await res.text();
        return { status: res.status, body: text ? JSON.parse(text) : undefined };
      },
      { method, url: `${server.url}/api/v1${path}`, headers },
    );

  beforeAll(async () => {
    const { serverEnv } = await bootstrappedServerEnv(dialect);
    // No workers: the job stays queued, so a forged cancel would show.
    server = await spawnServer({ ...serverEnv, HUSH_WORKERS: '0' });
    const signIn = await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: CLI_OWNER.email, password: CLI_OWNER.password }),
    });
    bearer = ((await signIn.json()) as { token: string }).token;
    const invite = await api('POST', '/orgs/acme/invitations', {
      email: ADMIN.email,
      role: 'admin',
    });
    expect(invite.status).toBe(201);
    const accepted = await fetch(`${server.url}/api/v1/invitations/accept`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: invite.body.token, password: ADMIN.password }),
    });
    expect(accepted.status).toBe(201);
    expect((await api('POST', '/orgs/acme/projects', { slug: 'maps' })).status).toBe(201);
    const env = await api('POST', '/orgs/acme/projects/maps/environments', {
      slug: 'prod',
      type: 'production',
    });
    expect(env.status).toBe(201);
    const job = await api('POST', '/orgs/acme/jobs', {
      project: 'maps',
      env: 'prod',
      command: ['sleep', '60'],
    });
    expect(job.status).toBe(201);
    jobId = job.body.id;

    chromium = await launchChromium();
    context = await chromium.browser.newContext();
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    // The Owner signs in to the console: the browser now holds the session cookie.
    await page.goto(`${server.url}/`);
    const consoleLogin = await page.evaluate(
      async ({ url, body }) =>
        (
          await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-hush-tool': 'console' },
            body,
          })
        ).status,
      {
        url: `${server.url}/api/v1/auth/login`,
        body: JSON.stringify({ email: CLI_OWNER.email, password: CLI_OWNER.password }),
      },
    );
    expect(consoleLogin).toBe(200);
    expect((await context.cookies()).map((c) => c.name)).toContain('hush_session');
  }, 60_000);

  afterAll(async () => {
    await chromium?.close();
    await server?.stop();
  });

  it('refuses every forged state change from another origin, body or not', async () => {
    const target = server.url;
    const transfer = `${target}/api/v1/orgs/acme/members/${encodeURIComponent(ADMIN.email)}/transfer-ownership`;
    const cancel = `${target}/api/v1/orgs/acme/jobs/${jobId}/cancel`;
    const logout = `${target}/api/v1/auth/logout`;
    const project = `${target}/api/v1/orgs/acme/projects`;
    const site = await attackerSite(`<!doctype html><html><body>
      <iframe name="sink"></iframe>
      <form id="f" method="POST" action="${transfer}" target="sink" enctype="text/plain">
        <input name='{"x":"' value='"}'>
      </form>
      <script>
        const opts = { method: 'POST', mode: 'no-cors', credentials: 'include' };
        const text = { ...opts, headers: { 'content-type': 'text/plain' } };
        (async () => {
          await fetch(${JSON.stringify(transfer)}, opts).catch(() => {});
          await fetch(${JSON.stringify(cancel)}, text).catch(() => {});
          await fetch(${JSON.stringify(project)}, { ...text, body: '{"slug":"forged"}' }).catch(() => {});
          // A custom header needs a CORS preflight, which Hush never grants: the POST never leaves.
          await fetch(${JSON.stringify(project)}, {
            method: 'POST', credentials: 'include',
            headers: { 'content-type': 'application/json', 'x-hush-tool': 'console' },
            body: '{"slug":"forged-two"}',
          }).catch(() => {});
          document.getElementById('f').submit();
          await new Promise((r) => document.querySelector('iframe').onload = r);
          await fetch(${JSON.stringify(logout)}, text).catch(() => {});
          document.title = 'done';
        })();
      </script></body></html>`);
    expect(new URL(site.url).origin).not.toBe(new URL(target).origin);
    await page.goto(site.url);
    await page.waitForFunction('document.title === "done"');
    await site.close();

    const members = await api('GET', '/orgs/acme/members');
    const roles = Object.fromEntries(
      (members.body as { email: string; role: string }[]).map((m) => [m.email, m.role]),
    );
    expect(roles).toMatchObject({ [CLI_OWNER.email]: 'owner', [ADMIN.email]: 'admin' });
    expect((await api('GET', `/orgs/acme/jobs/${jobId}`)).body.status).toBe('queued');
    const projects = (await api('GET', '/orgs/acme/projects')).body as { slug: string }[];
    expect(projects.map((p) => p.slug)).toEqual(['maps']);

    // Still signed in: the forged logout did nothing.
    await page.goto(`${target}/`);
    expect((await fromConsole('GET', '/auth/whoami', {})).status).toBe(200);
  });

  it('accepts the console’s own requests, and refuses a same-origin request without its header', async () => {
    await page.goto(`${server.url}/`);
    const bare = await fromConsole('POST', `/orgs/acme/jobs/${jobId}/cancel`, {});
    expect(bare.status).toBe(403);
    expect(bare.body.error.code).toBe('CSRF_REJECTED');
    const ok = await fromConsole('POST', `/orgs/acme/jobs/${jobId}/cancel`, {
      'x-hush-tool': 'console',
    });
    expect(ok.status).toBe(200);
  });

  it('leaves bearer-token requests alone, whatever their Origin says', async () => {
    const res = await fetch(`${server.url}/api/v1/orgs/acme/projects`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${bearer}`,
        'content-type': 'application/json',
        origin: 'http://evil.example',
      },
      body: JSON.stringify({ slug: 'from-ci' }),
    });
    expect(res.status).toBe(201);
  });

  it('refuses a sign-in posted by another origin’s page (login CSRF)', async () => {
    const res = await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        origin: 'http://evil.example',
        'sec-fetch-site': 'cross-site',
      },
      body: JSON.stringify({ email: CLI_OWNER.email, password: CLI_OWNER.password }),
    });
    expect(res.status).toBe(403);
  });
});
