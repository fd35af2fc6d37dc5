import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { launchChromium } from '../helpers/browser.js';
import { bootstrappedServerEnv, CLI_OWNER, spawnServer } from '../helpers/cli.js';

// "Import from .env" in the console's Secrets tab: a real `hush serve` (built dist/), real
// Chromium, nothing mocked. SQLite only: what is tested is the console's dialog; the import
// itself runs on both databases in test/http/secret-set.test.ts.

const VIEWER = { email: 'viewer@example.com', password: 'viewer password 1' };
const SENTINEL = 'SENTINEL-1mp0rt-7f3a';

const DOTENV = [
  '# the database', // 1
  `DB_PASSWORD="${SENTINEL}-db"`, // 2
  `PRIVATE_KEY="-----BEGIN KEY-----`, // 3
  `${SENTINEL}-key`, // 4
  '-----END KEY-----"', // 5
  'LOG_LEVEL=debug # a comment', // 6
].join('\n');

describe('importing a .env file in the console', () => {
  let server: Awaited<ReturnType<typeof spawnServer>>;
  let chromium: Awaited<ReturnType<typeof launchChromium>>;
  let browser: Browser;
  let owner: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  /** Calls the API as the page would (the CSRF rule wants the header and the origin). */
  const api = async (context: BrowserContext, method: string, path: string, body?: unknown) => {
    const res = await context.request.fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: { 'x-hush-tool': 'console', origin: server.url },
      ...(body === undefined ? {} : { data: body }),
    });
    const text = await res.text();
    expect(res.status(), `${method} ${path}: ${text}`).toBeLessThan(300);
    return text ? (JSON.parse(text) as unknown) : undefined;
  };
  const prodNames = async () =>
    ((await api(owner, 'GET', '/orgs/acme/secrets?project=web&env=prod')) as { name: string }[])
      .map((s) => s.name)
      .sort();

  const newPage = async (context: BrowserContext) => {
    const p = await context.newPage();
    p.setDefaultTimeout(10_000);
    p.on('pageerror', (e) => pageErrors.push(e.message));
    return p;
  };

  /** The project's Secrets tab at environment prod, its list loaded. */
  const openProd = async (p: Page) => {
    await p.goto(`${server.url}/orgs/acme/projects/web/secrets`);
    await p.getByLabel('Level').selectOption('env:prod');
    await expect.poll(() => p.locator('.toolbar p').textContent()).toContain('environment prod');
    await p.locator('tr[data-secret], .empty').first().waitFor();
  };

  const openImport = async (): Promise<Locator> => {
    await page.getByRole('button', { name: 'Import from .env' }).click();
    return page.getByRole('dialog', { name: 'Import from .env' });
  };

  /** The preview's rows as `NAME: result`, in file order. */
  const previewRows = async (dialog: Locator) => {
    const table = dialog.getByRole('region', { name: 'Import preview' });
    await table.waitFor();
    return table
      .locator('tbody tr')
      .evaluateAll((rows) =>
        rows.map((r) => `${r.getAttribute('data-import')}: ${r.children[2]?.textContent}`),
      );
  };

  beforeAll(async () => {
    const { serverEnv } = await bootstrappedServerEnv('sqlite');
    server = await spawnServer(serverEnv);
    chromium = await launchChromium();
    browser = chromium.browser;
    owner = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await newPage(owner);
    await page.goto(`${server.url}/signin`);
    await page.getByLabel('E-mail').fill(CLI_OWNER.email);
    await page.getByLabel('Password').fill(CLI_OWNER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/orgs\/acme$/);
    await api(owner, 'POST', '/orgs/acme/projects', { slug: 'web' });
    await api(owner, 'POST', '/orgs/acme/projects/web/environments', {
      slug: 'prod',
      type: 'production',
    });
  }, 60_000);

  afterAll(async () => {
    await owner?.close();
    await chromium?.close();
    await server?.stop();
  });

  it('previews a pasted .env with a multi-line value and a comment, writes nothing, then imports it', async () => {
    await openProd(page);
    const dialog = await openImport();
    await dialog.getByLabel('Text to import').fill(DOTENV);
    await dialog.getByRole('button', { name: 'Preview' }).click();
    expect(await previewRows(dialog)).toEqual([
      'DB_PASSWORD: would create',
      'PRIVATE_KEY: would create',
      'LOG_LEVEL: would create',
    ]);
    expect(await dialog.getByTestId('import-preview').textContent()).not.toContain(SENTINEL);
    expect(await prodNames()).toEqual([]);

    await dialog.getByRole('button', { name: 'Import', exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });
    await expect
      .poll(() => page.getByRole('status').first().textContent())
      .toBe(
        'Imported 3 variables at environment web/prod: 3 created, 0 rotated, 0 unchanged. The values cannot be shown again.',
      );
    for (const name of ['DB_PASSWORD', 'PRIVATE_KEY', 'LOG_LEVEL'])
      await page.locator(`tr[data-secret="${name}"]`).waitFor();
    expect(await prodNames()).toEqual(['DB_PASSWORD', 'LOG_LEVEL', 'PRIVATE_KEY']);
    // The dialog is gone with its text: no value is anywhere on the page.
    expect(await page.content()).not.toContain(SENTINEL);
  });

  it('reads a picked .json file as JSON and previews what would rotate and what is unchanged', async () => {
    const dialog = await openImport();
    await dialog.getByLabel('File', { exact: true }).setInputFiles({
      name: 'prod.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify({ LOG_LEVEL: 'debug', DB_PASSWORD: `${SENTINEL}-new` })),
    });
    await expect.poll(() => dialog.getByLabel('Format').inputValue()).toBe('json');
    await dialog.getByRole('button', { name: 'Preview' }).click();
    expect(await previewRows(dialog)).toEqual([
      'LOG_LEVEL: unchanged',
      'DB_PASSWORD: would rotate',
    ]);
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const versions = (await api(owner, 'GET', '/orgs/acme/secrets?project=web&env=prod')) as {
      name: string;
      version: number;
    }[];
    expect(versions.every((s) => s.version === 1)).toBe(true);
  });

  it('lists the bad name with its line, and imports nothing of that text', async () => {
    const dialog = await openImport();
    await dialog.getByLabel('Text to import').fill(`GOOD_NAME=${SENTINEL}-good\nbad-name=1\n`);
    const problems = dialog.getByTestId('import-problems');
    // Preview, then Import itself: both refused with the line, all or nothing.
    for (const button of ['Preview', 'Import']) {
      const answered = page.waitForResponse(
        (r) =>
          r.url().endsWith('/api/v1/orgs/acme/secrets/import') && r.request().method() === 'POST',
      );
      await dialog.getByRole('button', { name: button, exact: true }).click();
      expect((await answered).status()).toBe(400);
      await expect
        .poll(() => problems.locator('li').allTextContents())
        .toEqual([expect.stringMatching(/^line 2: bad-name: /)]);
      expect(await dialog.getByTestId('import-preview').count()).toBe(0);
    }
    expect(await problems.textContent()).not.toContain(SENTINEL);
    expect(await dialog.isVisible()).toBe(true);
    expect(await prodNames()).toEqual(['DB_PASSWORD', 'LOG_LEVEL', 'PRIVATE_KEY']);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await page.locator('tr[data-secret="GOOD_NAME"]').count()).toBe(0);
    expect(await page.content()).not.toContain(SENTINEL);
  });

  it('offers a Viewer no import: the button is disabled with the reason', async () => {
    const invitation = (await api(owner, 'POST', '/orgs/acme/invitations', {
      email: VIEWER.email,
      role: 'viewer',
    })) as { token: string };
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const accepted = await context.request.post(`${server.url}/api/v1/invitations/accept`, {
        data: { token: invitation.token, password: VIEWER.password },
      });
      expect(accepted.status(), await accepted.text()).toBe(201);
      const viewer = await newPage(context);
      await openProd(viewer);
      const button = viewer.getByRole('button', { name: 'Import from .env' });
      await expect.poll(() => button.getAttribute('title')).toBeTruthy();
      expect(await button.isDisabled()).toBe(true);
      expect(await button.getAttribute('title')).toBe(
        'Your role (Viewer) cannot add, rotate or remove secrets',
      );
      expect(await viewer.getByRole('dialog', { name: 'Import from .env' }).count()).toBe(0);
    } finally {
      await context.close();
    }
    expect(pageErrors).toEqual([]);
    expect(server.output()).not.toContain(SENTINEL);
  });
});
