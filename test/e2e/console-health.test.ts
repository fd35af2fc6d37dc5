import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { useClock } from '../../src/domain/context.js';
import {
  addMember,
  bootstrapOwner,
  login,
  OWNER,
  startTestServer,
  type TestServer,
} from '../helpers/app.js';
import { launchChromium } from '../helpers/browser.js';
import { runHush, signedInCli } from '../helpers/cli.js';
import { DIALECTS, tempDir } from '../helpers/databases.js';

// The Health page (the hygiene report) and the rotations of the secrets page, end to end: the
// server runs in this process so that the test moves its clock (no sleeping), data is seeded
// through the real CLI over HTTP, and Chromium reads the page. What was made at the start is
// 120 days old when the browser looks: an old secret, an idle and a never-used token, a member
// who has not signed in since, an invitation past its week. The rotations' database is a
// closed port: adding one connects to nothing, running it fails and the page says why. No value
// reaches the page.

const DAY = 86_400_000;
const SENTINEL = 'SENTINEL-h3a1th-5e2b';
const VIEWER = { email: 'viewer@example.com', password: 'viewer password 1' };
const BOB = 'bob@example.com';
const CAROL = 'carol@example.com';

describe.each(DIALECTS)('the Health page and rotations in the console on %s', (dialect) => {
  let t: TestServer;
  let url: string;
  let offset = 0;
  let restore: (() => void) | undefined;
  let cliEnv: Record<string, string>;
  let chromium: Awaited<ReturnType<typeof launchChromium>>;
  let browser: Browser;
  let owner: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  const hush = async (args: string[], stdin?: string, env = cliEnv) => {
    const r = await runHush(args, { env, stdin });
    expect(r.code, `hush ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r;
  };
  const section = (p: Page, key: string) => p.getByTestId(`report-${key}`);
  const count = (p: Page, key: string) => section(p, key).getByTestId('count').textContent();
  const row = (p: Page, key: string, name: string) =>
    section(p, key).locator(`tr[data-name="${name}"]`);
  const names = (p: Page, key: string) =>
    section(p, key)
      .locator('tr[data-name]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-name')));

  const signIn = async (context: BrowserContext, who: { email: string; password: string }) => {
    const p = await context.newPage();
    p.setDefaultTimeout(10_000);
    p.on('pageerror', (e) => pageErrors.push(e.message));
    p.on('console', (m) => {
      // Refused requests (the failed rotation's 502, a bad period's 400) are part of the story.
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
        pageErrors.push(m.text());
    });
    await p.goto(`${url}/signin`);
    await p.getByLabel('E-mail').fill(who.email);
    await p.getByLabel('Password').fill(who.password);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.waitForURL(/\/orgs\/acme$/);
    return p;
  };

  beforeAll(async () => {
    restore = useClock(() => new Date(Date.now() + offset));
    t = await startTestServer(dialect);
    url = await t.server.listen({ host: '127.0.0.1', port: 0 });
    // Day 0: the Owner, bob who signs in once, an invitation nobody accepts (its link expires
    // after a week), a secret nobody rotates and two service tokens.
    const ownerToken = await bootstrapOwner(t);
    await addMember(t, ownerToken, BOB, 'devops');
    await login(t, BOB, 'member password 1');
    const inv = await t.call('POST', `/api/v1/orgs/${OWNER.org}/invitations`, {
      token: ownerToken,
      body: { email: CAROL, role: 'viewer' },
    });
    expect(inv.status, inv.text).toBe(201);
    cliEnv = await signedInCli(url);
    await hush(['project', 'create', 'web']);
    await hush(
      ['secret', 'add', 'env', 'OLD_KEY', '--value-stdin', '--project', 'web'],
      `${SENTINEL}-old\n`,
    );
    await hush(
      ['secret', 'add', 'env', 'API_KEY', '--value-stdin', '--project', 'web'],
      `${SENTINEL}-api\n`,
    );
    await hush(['token', 'create', 'forgotten', '--role', 'Viewer']);
    const used = await hush([
      'token',
      'create',
      'used',
      '--role',
      'DevOps',
      '--expires',
      '365d',
      '--json',
    ]);
    const usedToken = (JSON.parse(used.stdout) as { token: string }).token;

    // 120 days later: sessions have expired, so the Owner signs in again; API_KEY is rotated,
    // the `used` token is used, and the Viewer joins.
    offset = 120 * DAY;
    cliEnv = await signedInCli(url);
    await hush(
      ['secret', 'rotate', 'API_KEY', '--value-stdin', '--project', 'web'],
      `${SENTINEL}-api-2\n`,
    );
    await hush(['secret', 'list', '--project', 'web'], undefined, {
      ...cliEnv,
      HUSH_TOKEN: usedToken,
    });
    const invited = await hush(['member', 'invite', VIEWER.email, '--role', 'Viewer', '--json']);
    await hush(
      [
        'member',
        'accept',
        (JSON.parse(invited.stdout) as { token: string }).token,
        '--password-stdin',
      ],
      `${VIEWER.password}\n`,
      { ...cliEnv, HUSH_CONFIG_DIR: tempDir('hush-cli-') },
    );
    chromium = await launchChromium();
    browser = chromium.browser;
    owner = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await signIn(owner, OWNER);
  }, 120_000);

  afterAll(async () => {
    await owner?.close();
    await chromium?.close();
    await t?.close();
    restore?.();
  });

  it('shows the Owner what is old, idle or expired, 120 days on', async () => {
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Health' })
      .click();
    await page.waitForURL(/\/orgs\/acme\/health$/);
    expect(await page.getByLabel('Secrets older than').inputValue()).toBe('90d');
    expect(await page.getByLabel('Idle after').inputValue()).toBe('90d');
    await section(page, 'secrets').waitFor();

    // OLD_KEY's only version is 120 days old; API_KEY was rotated today.
    expect(await names(page, 'secrets')).toEqual(['OLD_KEY']);
    const old = await row(page, 'secrets', 'OLD_KEY').textContent();
    expect(old).toContain('project web');
    expect(old).toContain('v1');
    expect(old).toContain('120 days');
    expect(old).toContain(OWNER.email);
    expect(await count(page, 'secrets')).toBe('1');

    // `forgotten` was never used, `used` was today; only `forgotten` never expires.
    expect(await names(page, 'idleTokens')).toEqual(['forgotten']);
    expect(await row(page, 'idleTokens', 'forgotten').textContent()).toContain('never');
    expect(await names(page, 'tokensWithoutExpiry')).toEqual(['forgotten']);
    expect(await row(page, 'tokensWithoutExpiry', 'forgotten').textContent()).toContain('service');

    // bob signed in on day 0 only; the Owner signed in again today.
    const inactive = await names(page, 'inactiveMembers');
    expect(inactive).toContain(BOB);
    expect(inactive).not.toContain(OWNER.email);
    expect(await row(page, 'inactiveMembers', BOB).textContent()).toContain('DevOps');
    expect(await names(page, 'expiredInvitations')).toEqual([CAROL]);

    expect(await count(page, 'rotations')).toBe('0');
    // The Owner may read every section: nothing is withheld.
    expect(await page.getByTestId('report-withheld').count()).toBe(0);
    expect(await page.content()).not.toContain(SENTINEL);
  });

  it('names a bad period next to its input, and a longer one empties the old secrets', async () => {
    await page.goto(`${url}/orgs/acme/health`);
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

    await olderThan.fill('200d');
    await page.getByRole('button', { name: 'Show report' }).click();
    await expect
      .poll(() => page.getByText('secrets older than 200 days, idle after 90 days').count())
      .toBe(1);
    expect(await olderThan.getAttribute('aria-invalid')).toBeNull();
    expect(await count(page, 'secrets')).toBe('0');
    expect(await section(page, 'secrets').locator('.empty').textContent()).toMatch(/^None/);
    expect(await section(page, 'secrets').locator('table').count()).toBe(0);
    // The other sections are of the idle period, which did not change.
    expect(await names(page, 'idleTokens')).toEqual(['forgotten']);
    expect(await names(page, 'inactiveMembers')).toContain(BOB);

    await page.getByLabel('Idle after').fill('200d');
    await page.getByRole('button', { name: 'Show report' }).click();
    await expect
      .poll(() => page.getByText('secrets older than 200 days, idle after 200 days').count())
      .toBe(1);
    expect(await count(page, 'inactiveMembers')).toBe('0');
    // Never used counts whatever the period.
    expect(await names(page, 'idleTokens')).toEqual(['forgotten']);
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
    await hush(pg('reports', 'reporter'), `${SENTINEL}-reports\n`);
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

    await page.goto(`${url}/orgs/acme/projects/web/secrets`);
    const badge = page.getByTestId('rotation-main');
    await badge.waitFor();
    expect(await badge.textContent()).toContain('nightly');
    expect(await badge.textContent()).toContain('single');
    expect(await badge.locator('.status').textContent()).toBe('ok');
    // Only the rotated pg service has a badge; the other pg services offer to set one up.
    expect(await page.getByTestId('rotation-admin').count()).toBe(0);
    expect(await page.getByTestId('rotation-API_KEY').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Set up rotation of main' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Set up rotation of admin' }).count()).toBe(1);
    expect(
      await page
        .locator('tr[data-secret="API_KEY"]')
        .getByRole('button', { name: /rotation/i })
        .count(),
    ).toBe(0);

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

    await page.goto(`${url}/orgs/acme/health`);
    await expect.poll(() => count(page, 'rotations')).toBe('1');
    const failing = row(page, 'rotations', 'nightly');
    expect(await failing.textContent()).toContain('failing (1)');
    expect(await failing.textContent()).toContain('main');
    expect(await failing.textContent()).toContain(lastError);
    expect(await page.content()).not.toContain(SENTINEL);
  });

  it('sets up a rotation on a pg service row, then pauses, resumes and removes it', async () => {
    const rotationsOnServer = async () =>
      JSON.parse((await hush(['rotation', 'list', '--json'])).stdout) as {
        name: string;
        strategy: string;
        roles: string[] | null;
        every: number | null;
        at: string | null;
        paused: boolean;
      }[];
    await page.goto(`${url}/orgs/acme/projects/web/secrets`);
    const setUp = page.getByRole('button', { name: 'Set up rotation of reports' });
    await setUp.waitFor();
    expect(await setUp.isDisabled()).toBe(false);
    await setUp.click();
    const dialog = page.getByRole('dialog', { name: 'Set up rotation of reports' });
    await dialog.waitFor();
    const field = (label: string) => dialog.getByLabel(label, { exact: true });
    const errorOf = async (label: string) => {
      await expect.poll(() => field(label).getAttribute('aria-invalid')).toBe('true');
      const id = await field(label).getAttribute('id');
      return dialog.locator(`[id="${id}-error"]`).textContent();
    };
    const submit = dialog.getByRole('button', { name: 'Set up rotation', exact: true });
    expect(await field('pg service').inputValue()).toBe('reports');
    expect(await field('Rotation name').inputValue()).toBe('reports-pw');
    // The admin service: another pg service of this level, or one named by hand.
    const admins = await field('Admin service')
      .locator('option')
      .evaluateAll((options) => options.map((o) => o.textContent));
    expect(admins).toContain('admin');
    expect(admins).toContain('main');
    expect(admins).not.toContain('reports');
    // Roles are asked for the dual strategy only.
    expect(await field('First role').count()).toBe(0);

    // A period the API cannot read: refused before anything else, next to its input.
    await field('Rotation name').fill('nightly');
    await field('Admin service').selectOption({ label: 'Another, by name (from a level above)' });
    await field('Admin service name').fill('nowhere');
    await field('Every').fill('3x');
    await submit.click();
    expect(await errorOf('Every')).toContain('must be a whole number and a unit');
    expect(await field('Rotation name').getAttribute('aria-invalid')).toBeNull();
    expect(await dialog.locator('.notice.error').count()).toBe(0);

    // An admin service nobody has added.
    await field('Every').fill('30d');
    await field('At').fill('03:00');
    await submit.click();
    expect(await errorOf('Admin service name')).toContain('no pg service nowhere');
    expect(await field('Every').getAttribute('aria-invalid')).toBeNull();

    // Dual: one of the two roles must be the one the pg service connects as.
    await field('Admin service').selectOption('admin');
    expect(await field('Admin service name').count()).toBe(0);
    await field('Strategy').selectOption('dual');
    await field('First role').fill('app_a');
    await field('Second role').fill('app_b');
    await submit.click();
    expect(await errorOf('First role')).toContain('connects as reporter');

    // A name another rotation has.
    await field('First role').fill('reporter');
    await field('Second role').fill('reporter_b');
    await submit.click();
    expect(await errorOf('Rotation name')).toContain('a rotation named nightly exists');
    expect(await field('First role').getAttribute('aria-invalid')).toBeNull();
    expect(await dialog.locator('.notice.error').count()).toBe(0);
    expect((await rotationsOnServer()).map((r) => r.name)).toEqual(['nightly']);

    await field('Rotation name').fill('reports-pw');
    await submit.click();
    await dialog.waitFor({ state: 'hidden' });
    const flash = page.locator('.notice.ok[role="status"]');
    await expect.poll(() => flash.textContent()).toContain('Set up rotation reports-pw of reports');
    const badge = page.getByTestId('rotation-reports');
    await badge.waitFor();
    expect(await badge.textContent()).toContain('reports-pw');
    expect(await badge.textContent()).toContain('dual, every 30d at 03:00 UTC');
    expect(await badge.locator('.status').textContent()).toBe('ok');
    expect(await page.getByRole('button', { name: 'Set up rotation of reports' }).count()).toBe(0);
    expect((await rotationsOnServer()).find((r) => r.name === 'reports-pw')).toMatchObject({
      strategy: 'dual',
      roles: ['reporter', 'reporter_b'],
      every: 30 * 86_400,
      at: '03:00',
      paused: false,
    });

    await badge.getByRole('button', { name: 'Pause rotation reports-pw' }).click();
    await expect.poll(() => badge.locator('.status').textContent()).toBe('paused');
    expect(await flash.textContent()).toContain('Paused rotation reports-pw');
    expect((await rotationsOnServer()).find((r) => r.name === 'reports-pw')?.paused).toBe(true);
    // The other rotation is untouched.
    expect(await page.getByTestId('rotation-main').locator('.status').textContent()).toBe(
      'failing (1)',
    );
    await badge.getByRole('button', { name: 'Resume rotation reports-pw' }).click();
    await expect.poll(() => badge.locator('.status').textContent()).toBe('ok');
    expect(await flash.textContent()).toContain('Resumed rotation reports-pw');
    expect((await rotationsOnServer()).find((r) => r.name === 'reports-pw')?.paused).toBe(false);

    await badge.getByRole('button', { name: 'Remove rotation reports-pw' }).click();
    await page
      .getByRole('dialog', { name: 'Remove rotation reports-pw?' })
      .getByRole('button', { name: 'Remove rotation' })
      .click();
    await expect.poll(() => page.getByTestId('rotation-reports').count()).toBe(0);
    expect(await flash.textContent()).toContain('Removed rotation reports-pw');
    // The pg service stays, unchanged, and may have a rotation set up again.
    expect(await page.locator('tr[data-secret="reports"]').textContent()).toContain('v1');
    await page.getByRole('button', { name: 'Set up rotation of reports' }).waitFor();
    expect((await rotationsOnServer()).map((r) => r.name)).toEqual(['nightly']);
    expect(await page.content()).not.toContain(SENTINEL);
  });

  it('withholds token and member sections from a Viewer, who may not rotate', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const viewer = await signIn(context, VIEWER);
      await viewer.goto(`${url}/orgs/acme/health`);
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
      expect(await names(viewer, 'secrets')).toEqual(['OLD_KEY']);
      // A Viewer reads the project's secrets, so its failing rotation too.
      expect(await count(viewer, 'rotations')).toBe('1');

      await viewer.goto(`${url}/orgs/acme/projects/web/secrets`);
      const badge = viewer.getByTestId('rotation-main');
      await badge.waitFor();
      expect(await badge.locator('.status').textContent()).toBe('failing (1)');
      const rotateNow = badge.getByRole('button', { name: 'Rotate now' });
      await expect.poll(() => rotateNow.getAttribute('title')).toContain('Your role (Viewer)');
      expect(await rotateNow.isDisabled()).toBe(true);
      for (const button of [
        badge.getByRole('button', { name: 'Pause rotation nightly' }),
        badge.getByRole('button', { name: 'Remove rotation nightly' }),
        viewer.getByRole('button', { name: 'Set up rotation of admin' }),
      ]) {
        expect(await button.isDisabled()).toBe(true);
        expect(await button.getAttribute('title')).toContain('Your role (Viewer)');
      }
      expect(await viewer.content()).not.toContain(SENTINEL);
    } finally {
      await context.close();
    }
    expect(pageErrors).toEqual([]);
  });
});
