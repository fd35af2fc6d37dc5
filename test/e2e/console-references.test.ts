import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { launchChromium } from '../helpers/browser.js';
import { bootstrappedServerEnv, CLI_OWNER, spawnServer } from '../helpers/cli.js';

// References in the console: an alias added through the Add dialog, a pg service exporting its
// variables, and the Resolve view saying what each value is built from, or why it cannot be,
// with no value on the page. A real `hush serve` and Chromium; SQLite only (resolution runs on
// both databases in test/jobs/references.test.ts).

const SENTINEL = 'SENTINEL-r3f5-9c1d';

describe('references in the console', () => {
  let server: Awaited<ReturnType<typeof spawnServer>>;
  let chromium: Awaited<ReturnType<typeof launchChromium>>;
  let browser: Browser;
  let owner: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await owner.request.fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: { 'x-hush-tool': 'console', origin: server.url },
      ...(body === undefined ? {} : { data: body }),
    });
    const text = await res.text();
    expect(res.status(), `${method} ${path}: ${text}`).toBeLessThan(300);
    return text ? (JSON.parse(text) as unknown) : undefined;
  };
  const builtFrom = (name: string) =>
    page.locator(`tr[data-name="${name}"] [data-testid="built-from"]`).textContent();

  beforeAll(async () => {
    const { serverEnv } = await bootstrappedServerEnv('sqlite');
    server = await spawnServer(serverEnv);
    chromium = await launchChromium();
    browser = chromium.browser;
    owner = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await owner.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${server.url}/signin`);
    await page.getByLabel('E-mail').fill(CLI_OWNER.email);
    await page.getByLabel('Password').fill(CLI_OWNER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/orgs\/acme$/);
    await api('POST', '/orgs/acme/projects', { slug: 'web' });
    await api('POST', '/orgs/acme/secrets', {
      project: 'web',
      secret: { kind: 'env', name: 'DB_PASS', value: `${SENTINEL}-pass` },
    });
    await api('POST', '/orgs/acme/secrets', {
      project: 'web',
      secret: { kind: 'env', name: 'DSN', value: 'app:${DB_PASS}@${org.DB_HOST}' },
    });
  }, 60_000);

  afterAll(async () => {
    await owner?.close();
    await chromium?.close();
    await server?.stop();
  });

  it('adds a pg service exporting its variables and an alias of its URL from the Add dialog', async () => {
    await page.goto(`${server.url}/orgs/acme/projects/web/secrets`);
    await page.getByLabel('Level').selectOption('project');
    await page.getByRole('button', { name: 'Add a new secret' }).click();
    let dialog = page.getByRole('dialog', { name: 'Add a new secret' });
    await dialog.getByRole('button', { name: /^pg_service/ }).click();
    await dialog.getByRole('button', { name: 'Advanced editor' }).click();
    await dialog
      .getByLabel('pg_service.conf')
      .fill(`[main]\nhost=db.internal\ndbname=gis\nuser=app\npassword=${SENTINEL}-pg\n`);
    await dialog.getByLabel('Also give jobs its HUSH_PG_* variables').check();
    await dialog.getByRole('button', { name: 'Save secret' }).click();
    await dialog.waitFor({ state: 'hidden' });

    await page.getByRole('button', { name: 'Add a new secret' }).click();
    dialog = page.getByRole('dialog', { name: 'Add a new secret' });
    await dialog.getByRole('button', { name: /^Alias/ }).click();
    await dialog.getByLabel('Name').fill('DATABASE_URL');
    await dialog.getByLabel('Stands for').fill('HUSH_PG_MAIN_URL');
    await dialog.getByRole('button', { name: 'Save secret' }).click();
    await dialog.waitFor({ state: 'hidden' });
    // An alias's value is a name: the list shows it.
    await expect
      .poll(() => page.locator('tr[data-secret="DATABASE_URL"]').textContent())
      .toContain('HUSH_PG_MAIN_URL');

    // A reference to a name no secret has is stored, and said.
    await page.getByRole('button', { name: 'Add a new secret' }).click();
    dialog = page.getByRole('dialog', { name: 'Add a new secret' });
    await dialog.getByRole('button', { name: /^Environment variable/ }).click();
    await dialog.getByLabel('Name').fill('LATER');
    await dialog.getByLabel('Value').fill('x-${NOT_YET}');
    await dialog.getByRole('button', { name: 'Save secret' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await expect
      .poll(() => page.getByRole('status').first().textContent())
      .toContain('Note: ${NOT_YET}: no secret of the organization is named NOT_YET (yet).');
  });

  it('shows in the Resolve view what each value is built from, and why one cannot be', async () => {
    await page.goto(`${server.url}/orgs/acme/projects/web/resolve`);
    await expect.poll(() => builtFrom('DATABASE_URL')).toContain('HUSH_PG_MAIN_URL');
    expect(await builtFrom('DATABASE_URL')).toContain('(pgservice main)');
    expect(await builtFrom('HUSH_PG_MAIN_USER')).toContain('project v1');
    // DSN references org.DB_HOST, which no secret holds yet.
    expect(await builtFrom('DSN')).toBe(
      'DSN → org.DB_HOST: DB_HOST is not defined in organization',
    );
    await api('POST', '/orgs/acme/secrets', {
      secret: { kind: 'env', name: 'DB_HOST', value: 'db.internal', sensitivity: 'plain' },
    });
    await page.reload();
    await expect.poll(() => builtFrom('DSN')).toContain('DB_PASS');
    expect(await builtFrom('DSN')).toContain('DB_HOST in organization, organization v1');
    expect(await page.content()).not.toContain(SENTINEL);
    expect(pageErrors).toEqual([]);
  });
});
