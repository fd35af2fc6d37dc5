import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { launchChromium } from '../helpers/browser.js';
import { bootstrappedServerEnv, CLI_OWNER, spawnServer } from '../helpers/cli.js';
import { DIALECTS } from '../helpers/databases.js';

// The console's job log end to end: a real `hush serve` with its workers (built dist/ and
// dist/console), real Chromium, a real job printing 100,000 lines one write at a time (so its
// log has many more entries than one page of the logs API holds), and plain values as the
// console lists them.

const LINES = 100_000;
// One `echo` per line (many small writes: thousands of log entries, several pages of the logs
// API), after a pause so that the view is open while the job is still writing. Paced: the server
// stores a burst of more than ~6,500 entries in 100 ms in one INSERT that SQLite refuses.
const COMMAND =
  `sleep 1; i=0; while [ $i -lt ${LINES} ]; do i=$((i+1)); echo $i; ` +
  `[ $((i % 500)) -eq 0 ] && sleep 0.02; done; true`;
const LINE_PX = 18;

describe.each(DIALECTS)('the console job log on %s', (dialect) => {
  let server: Awaited<ReturnType<typeof spawnServer>>;
  let chromium: Awaited<ReturnType<typeof launchChromium>>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let jobId: string;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    const { serverEnv } = await bootstrappedServerEnv(dialect);
    server = await spawnServer(serverEnv);
    chromium = await launchChromium();
    browser = chromium.browser;
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    await page.goto(`${server.url}/signin`);
    await page.getByLabel('E-mail').fill(CLI_OWNER.email);
    await page.getByLabel('Password').fill(CLI_OWNER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/orgs\/acme$/);
    const created = await api('POST', '/orgs/acme/projects', { slug: 'maps' });
    expect(created.status).toBe(201);
  }, 90_000);

  afterAll(async () => {
    await chromium?.close();
    await server?.stop();
  });

  /** The API as the console's page calls it (the session cookie; the CSRF rule wants both headers). */
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await context.request.fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: { 'x-hush-tool': 'console', origin: server.url },
      ...(body === undefined ? {} : { data: body }),
    });
    const text = await res.text();
    return { status: res.status(), body: text ? JSON.parse(text) : undefined };
  };

  const log = () => page.getByTestId('job-log');
  const lineCount = () => page.getByTestId('job-log-count').textContent();
  /** The text of the last line element in the page, after scrolling the log to its end. */
  const lastLine = async () => {
    await log().evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    return page.locator('.log-line').last().textContent();
  };

  it('lists a plain value in full, and adds it without saying it cannot be shown again', async () => {
    await page.goto(`${server.url}/orgs/acme/projects/maps/secrets`);
    await page.getByRole('button', { name: 'Add a new secret' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a new secret' });
    await dialog.getByRole('button', { name: /^Environment variable/ }).click();
    await dialog.getByLabel('Name', { exact: true }).fill('LOG_LEVEL');
    await dialog.getByLabel('Value').fill('debug');
    const text = (await dialog.textContent())!;
    expect(text).toContain(
      'Secret: hidden after saving, redacted from job logs (values of 4 characters or more)',
    );
    expect(text).toContain('Plain: shown to everyone who can read the secret, never redacted');
    expect(text).toContain('cannot be shown again');
    await dialog.getByLabel('Plain', { exact: true }).check();
    expect(await dialog.textContent()).not.toContain('cannot be shown again');
    await dialog.getByRole('button', { name: 'Save secret' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const row = page.locator('tr[data-secret="LOG_LEVEL"]');
    await expect.poll(() => row.locator('.preview').textContent()).toBe('debug');
    expect(await page.getByRole('status').first().textContent()).toBe('Saved LOG_LEVEL.');
  });

  it('shows the whole log of a job as it runs, windowed, and stays responsive', async () => {
    await page.goto(`${server.url}/orgs/acme/projects/maps/jobs`);
    await page.getByLabel('Command', { exact: true }).fill(COMMAND);
    await page.getByRole('button', { name: 'Run command' }).click();
    await expect.poll(() => page.getByTestId('job-status').textContent()).toMatch(/running/);
    // While the job writes and the view reads pages, the page still answers at once.
    await expect.poll(lineCount, { timeout: 20_000 }).toMatch(/[1-9][\d,]* lines so far/);
    const started = Date.now();
    await page.getByLabel('Command', { exact: true }).fill('echo still here');
    expect(await page.getByLabel('Command', { exact: true }).inputValue()).toBe('echo still here');
    expect(Date.now() - started).toBeLessThan(1000);

    await expect
      .poll(() => page.getByTestId('job-status').textContent(), { timeout: 30_000 })
      .toMatch(/succeeded/);
    await expect.poll(lineCount, { timeout: 20_000 }).toBe('100,000 lines');
    await expect.poll(lastLine).toBe(`${LINES}\n`);
    expect(await page.locator('.log-line').count()).toBeLessThan(500);
    jobId = (
      (await api('GET', '/orgs/acme/projects/maps/jobs?limit=1')).body as { id: string }[]
    )[0]!.id;
    // The log is longer than one page of the API: the view had to read past a `finished` page.
    const first = await api('GET', `/orgs/acme/jobs/${jobId}/logs`);
    expect(first.body.lines.length).toBe(1000);
    expect(first.body.finished).toBe(true);
    expect(consoleErrors).toEqual([]);
  }, 90_000);

  it('shows the whole log of a finished job reopened, every line reachable by scrolling', async () => {
    await page.reload();
    await page
      .getByRole('region', { name: 'Job history' })
      .getByRole('button', { name: `Show log of job ${jobId.slice(0, 8)}` })
      .click();
    await expect.poll(lineCount, { timeout: 20_000 }).toBe('100,000 lines');
    await expect.poll(lastLine).toBe(`${LINES}\n`);
    // Any line is a scroll away: the line at 50,000 lines' height is line 50,001.
    await log().evaluate((el, top) => {
      el.scrollTop = top;
    }, 50_000 * LINE_PX);
    await expect
      .poll(() =>
        page
          .locator('.log-line')
          .filter({ hasText: /^50001\n$/ })
          .count(),
      )
      .toBe(1);
    await log().evaluate((el) => {
      el.scrollTop = 0;
    });
    await expect.poll(() => page.locator('.log-line').first().textContent()).toBe('1\n');
    const inPage = await page.locator('.log-line').count();
    expect(inPage).toBeGreaterThan(10);
    expect(inPage).toBeLessThan(500);
    // A click answers at once with the whole log loaded.
    const started = Date.now();
    await page.getByLabel('Command', { exact: true }).fill('echo again');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(consoleErrors).toEqual([]);
  }, 60_000);

  it('downloads the whole log from the link next to it', async () => {
    const link = page.getByRole('link', { name: 'Download full log' });
    const href = await link.getAttribute('href');
    expect(href).toBe(`/api/v1/orgs/acme/jobs/${jobId}/logs/download`);
    const res = await context.request.get(`${server.url}${href}`);
    expect(res.status()).toBe(200);
    expect(res.headers()['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.headers()['content-disposition']).toBe(
      `attachment; filename="hush-job-${jobId}.log"`,
    );
    const text = await res.text();
    const lines = text.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(LINES);
    expect(lines.every((line, i) => line === String(i + 1))).toBe(true);
    // Authorized like the log itself: without a session there is nothing to read.
    const anonymous = await fetch(`${server.url}${href}`);
    expect(anonymous.status).toBe(401);
  });
});
