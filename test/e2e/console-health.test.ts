import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { launchChromium } from '../helpers/browser.js';
import {
  bootstrappedServerEnv,
  CLI_OWNER,
  runHush,
  signedInCli,
  spawnServer,
} from '../helpers/cli.js';
import { DIALECTS, tempDir } from '../helpers/databases.js';

// The Health page (the hygiene report) and the rotation badge of the secrets page, end to end:
// a real `hush serve`, data seeded through the real CLI, and Chromium. What was just made is
// younger than any period the report takes (1m at least), so the report finds the never-used
// token and no old secret. The rotation's database is a closed port: running it fails, and the
// page says why. No value reaches the page.

const SENTINEL = 'SENTINEL-h3a1th-5e2b';
const VIEWER = { email: 'viewer@example.com', password: 'viewer password 1' };

describe.each(DIALECTS)('the Health page and rotations in the console on %s', (dialect) => {
  let server: Awaited<ReturnType<typeof spawnServer>>;
  let cliEnv: Record<string, string>;
  let chromium: Awaited<ReturnType<typeof launchChromium>>;
  let browser: Browser;
  let owner: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  const hush = async (args: string[], stdin?: string) => {
    const r = await runHush(args, { env: cliEnv, stdin });
    expect(r.code, `hush ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r;
  };
  const section = (p: Page, key: string) => p.getByTestId(`report-${key}`);
  const count = (p: Page, key: string) => section(p, key).getByTestId('count').textContent();
  const row = (p: Page, key: string, name: string) =>
    section(p, key).locator(`tr[data-name="${name}"]`);

  const signIn = async (context: BrowserContext, who: { email: string; password: string }) => {
    const p = await context.newPage();
    p.setDefaultTimeout(10_000);
    p.on('pageerror', (e) => pageErrors.push(e.message));
    p.on('console', (m) => {
      // Refused requests (the failed rotation's 502, a bad period's 400) are part of the story.
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
        pageErrors.push(m.text());
    });
    await p.goto(`${server.url}/signin`);
    await p.getByLabel('E-mail').fill(who.email);
    await p.getByLabel('Password').fill(who.password);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.waitForURL(/\/orgs\/acme$/);
    return p;
  };

  beforeAll(async () => {
    const { serverEnv } = await bootstrappedServerEnv(dialect);
    server = await spawnServer(serverEnv);
    cliEnv = await signedInCli(server.url);
    await hush(['project', 'create', 'web']);
    await hush(
      ['secret', 'add', 'env', 'API_KEY', '--value-stdin', '--project', 'web'],
      `${SENTINEL}-api\n`,
    );
    await hush(['token', 'create', 'ci', '--role', 'DevOps']);
    const invited = await hush(['member', 'invite', VIEWER.email, '--role', 'Viewer', '--json']);
    const accepted = await runHush(
      [
        'member',
        'accept',
        (JSON.parse(invited.stdout) as { token: string }).token,
        '--password-stdin',
      ],
      {
        env: { ...cliEnv, HUSH_CONFIG_DIR: tempDir('hush-cli-') },
        stdin: `${VIEWER.password}\n`,
      },
    );
    expect(accepted.code, accepted.stderr).toBe(0);
    chromium = await launchChromium();
    browser = chromium.browser;
    owner = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await signIn(owner, CLI_OWNER);
  }, 90_000);

  afterAll(async () => {
    await owner?.close();
    await chromium?.close();
    await server?.stop();
  });

  it('shows the Owner the never-used token, no old secret and no failing rotation', async () => {
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Health' })
      .click();
    await page.waitForURL(/\/orgs\/acme\/health$/);
    expect(await page.getByLabel('Secrets older than').inputValue()).toBe('90d');
    expect(await page.getByLabel('Idle after').inputValue()).toBe('90d');

    // Never used counts however young the token is.
    await expect.poll(() => row(page, 'idleTokens', 'ci').count()).toBe(1);
    expect(await row(page, 'idleTokens', 'ci').textContent()).toContain('never');
    expect(await row(page, 'tokensWithoutExpiry', 'ci').count()).toBe(1);
    expect(await row(page, 'tokensWithoutExpiry', 'ci').textContent()).toContain('service');

    // API_KEY was written seconds ago: younger than 90 days.
    expect(await count(page, 'secrets')).toBe('0');
    expect(await section(page, 'secrets').locator('.empty').textContent()).toMatch(/^None/);
    expect(await section(page, 'secrets').locator('table').count()).toBe(0);
    expect(await count(page, 'rotations')).toBe('0');
    expect(await count(page, 'inactiveMembers')).toBe('0');
    expect(await count(page, 'expiredInvitations')).toBe('0');
    // The Owner may read every section: nothing is withheld.
    expect(await page.getByTestId('report-withheld').count()).toBe(0);
  });

  it('names a bad period next to its input, and good ones bring the report back', async () => {
    await page.goto(`${server.url}/orgs/acme/health`);
    await section(page, 'secrets').waitFor();
    const olderThan = page.getByLabel('Secrets older than');
    await olderThan.fill('0');
    await page.getByRole('button', { name: 'Show report' }).click();
    await expect.poll(() => olderThan.getAttribute('aria-invalid')).toBe('true');
    const message = await page.locator('.field.invalid .field-error').textContent();
    expect(message).toContain('must be a whole number and a unit');
    // Only the field says it: no second notice, and no report of a period nobody asked for.
    expect(await page.locator('.notice.error').count()).toBe(0);
    expect(await section(page, 'secrets').count()).toBe(0);

    await olderThan.fill('1m');
    await page.getByLabel('Idle after').fill('2w');
    await page.getByRole('button', { name: 'Show report' }).click();
    await expect
      .poll(() => page.getByText('secrets older than 1 minute, idle after 14 days').count())
      .toBe(1);
    expect(await olderThan.getAttribute('aria-invalid')).toBeNull();
    expect(await count(page, 'secrets')).toBe('0');
    expect(await row(page, 'idleTokens', 'ci').count()).toBe(1);
  });

  it("shows a pg service's rotation on the secrets page and why running it failed", async () => {
    // A database nobody listens on: the rotation can be added, but its run fails.
    const pg = (name: string, user: string) => [
      'secret',
      'add',
      'pgservice',
      '--project',
      'web',
      '--service',
      name,
      '--host',
      '127.0.0.1',
      '--port',
      '1',
      '--dbname',
      'app',
      '--db-user',
      user,
      '--password-stdin',
      '--sslmode',
      'disable',
    ];
    await hush(pg('main', 'app'), `${SENTINEL}-main\n`);
    await hush(pg('admin', 'postgres'), `${SENTINEL}-admin\n`);
    await hush([
      'rotation',
      'add',
      'nightly',
      '--project',
      'web',
      '--secret',
      'main',
      '--admin-service',
      'admin',
    ]);

    await page.goto(`${server.url}/orgs/acme/projects/web/secrets`);
    const badge = page.getByTestId('rotation-main');
    await badge.waitFor();
    expect(await badge.textContent()).toContain('nightly');
    expect(await badge.textContent()).toContain('single');
    expect(await badge.locator('.status').textContent()).toBe('ok');
    // Only the rotated pg service has a badge.
    expect(await page.getByTestId('rotation-admin').count()).toBe(0);
    expect(await page.getByTestId('rotation-API_KEY').count()).toBe(0);

    const rotateNow = badge.getByRole('button', { name: 'Rotate now' });
    expect(await rotateNow.isDisabled()).toBe(false);
    await rotateNow.click();
    const alert = page.locator('.notice.error[role="alert"]');
    await expect.poll(() => alert.textContent()).toContain('rotation nightly failed');
    expect(await alert.textContent()).toContain('(ROTATION_FAILED)');
    await expect.poll(() => badge.locator('.status').textContent()).toBe('failing (1)');
    const lastError = await badge.locator('.status').getAttribute('title');
    expect(lastError).toBeTruthy();
    expect(await alert.textContent()).toContain(lastError);
    // The secret is unchanged: no new version was stored.
    expect(await page.locator('tr[data-secret="main"]').textContent()).toContain('v1');

    await page.goto(`${server.url}/orgs/acme/health`);
    await expect.poll(() => count(page, 'rotations')).toBe('1');
    const failing = row(page, 'rotations', 'nightly');
    expect(await failing.textContent()).toContain('failing (1)');
    expect(await failing.textContent()).toContain('main');
    expect(await failing.textContent()).toContain(lastError);
    expect(await page.content()).not.toContain(SENTINEL);
  });

  it('withholds token and member sections from a Viewer, who may not rotate', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const viewer = await signIn(context, VIEWER);
      await viewer.goto(`${server.url}/orgs/acme/health`);
      const withheld = viewer.getByTestId('report-withheld');
      await withheld.waitFor();
      for (const name of [
        'idle API tokens',
        'API tokens without expiry',
        'inactive members',
        'expired invitations',
      ])
        expect(await withheld.textContent()).toContain(name);
      expect(await withheld.textContent()).not.toContain('rotations');
      for (const key of ['idleTokens', 'tokensWithoutExpiry', 'inactiveMembers'])
        expect(await section(viewer, key).count()).toBe(0);
      expect(await count(viewer, 'secrets')).toBe('0');
      // A Viewer reads the project's secrets, so its failing rotation too.
      expect(await count(viewer, 'rotations')).toBe('1');

      await viewer.goto(`${server.url}/orgs/acme/projects/web/secrets`);
      const badge = viewer.getByTestId('rotation-main');
      await badge.waitFor();
      expect(await badge.locator('.status').textContent()).toBe('failing (1)');
      const rotateNow = badge.getByRole('button', { name: 'Rotate now' });
      await expect.poll(() => rotateNow.getAttribute('title')).toContain('Your role (Viewer)');
      expect(await rotateNow.isDisabled()).toBe(true);
      expect(await viewer.content()).not.toContain(SENTINEL);
    } finally {
      await context.close();
    }
    expect(pageErrors).toEqual([]);
  });
});
