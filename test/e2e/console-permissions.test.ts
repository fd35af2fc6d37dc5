import type { APIRequestContext, Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { launchChromium } from '../helpers/browser.js';
import { bootstrappedServerEnv, CLI_OWNER, spawnServer } from '../helpers/cli.js';
import { DIALECTS, freshDatabase } from '../helpers/databases.js';

// The console offers each role only what the server's policy allows it (GET /permissions): a
// DevOps member and a Viewer walk every page, click every enabled control (confirming its
// dialog), and the server answers none of it with 403 nor records a denial. At 390 px every
// table's row actions can be reached. Real `hush serve` (built dist/), real Chromium.

const DEV = { email: 'dev@example.com', password: 'dev password 1' };
const VIEWER = { email: 'viewer@example.com', password: 'viewer password 1' };
const LONG_COMMAND =
  'for step in extract transform load; do echo "nightly export: $step of s3://acme-exports/warehouse/daily/partitions"; done';

const ORG_PAGES = [
  '/orgs/acme',
  '/orgs/acme/secrets',
  '/orgs/acme/members',
  '/orgs/acme/roles',
  '/orgs/acme/tokens',
  '/orgs/acme/audit',
  '/orgs/acme/settings',
];
const PROJECT_PAGES = ['secrets', 'environments', 'services', 'jobs', 'resolve'].map(
  (tab) => `/orgs/acme/projects/web/${tab}`,
);

/** Calls the API as the page would (the CSRF rule wants the header and the origin). */
async function call(
  request: APIRequestContext,
  url: string,
  method: string,
  path: string,
  body?: unknown,
) {
  const res = await request.fetch(`${url}/api/v1${path}`, {
    method,
    headers: { 'x-hush-tool': 'console', origin: url },
    ...(body === undefined ? {} : { data: body }),
  });
  const text = await res.text();
  return { status: res.status(), body: text ? JSON.parse(text) : undefined, text };
}

interface RowAction {
  name: string;
  unscrolled: boolean;
  left: number;
  right: number;
  wrapLeft: number;
  wrapRight: number;
  contentRight: number;
  scrollWidth: number;
}

describe.each(DIALECTS)('the console offers each role only what it may on %s', (dialect) => {
  let server: Awaited<ReturnType<typeof spawnServer>>;
  let chromium: Awaited<ReturnType<typeof launchChromium>>;
  let browser: Browser;
  let owner: BrowserContext;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  const api = (method: string, path: string, body?: unknown) =>
    call(owner.request, server.url, method, path, body);
  const ok = async (method: string, path: string, body?: unknown) => {
    const res = await api(method, path, body);
    expect(res.status, `${method} ${path}: ${res.text}`).toBeLessThan(300);
    return res.body;
  };

  /** A browser context signed in as a member who accepted an invitation with `role`. */
  const member = async (who: { email: string; password: string }, role: string) => {
    const invitation = await ok('POST', '/orgs/acme/invitations', { email: who.email, role });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    const accepted = await context.request.post(`${server.url}/api/v1/invitations/accept`, {
      data: { token: invitation.token, password: who.password },
    });
    expect(accepted.status(), await accepted.text()).toBe(201);
    return context;
  };

  // API requests in flight per page, and when the last one started or ended: a page has
  // settled when none has for a while (a running job's log is polled, so never for long).
  const traffic = new WeakMap<Page, { inFlight: number; last: number }>();

  const newPage = async (context: BrowserContext) => {
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    const t = { inFlight: 0, last: Date.now() };
    traffic.set(page, t);
    const api = (r: { url(): string }) => r.url().includes('/api/v1/');
    page.on('request', (r) => {
      if (!api(r)) return;
      t.inFlight++;
      t.last = Date.now();
    });
    const done = (r: { url(): string }) => {
      if (!api(r)) return;
      t.inFlight--;
      t.last = Date.now();
    };
    page.on('requestfinished', done);
    page.on('requestfailed', done);
    return page;
  };

  /** Waits until the page's API calls are answered and none started for 250 ms. */
  const settle = async (page: Page) => {
    const t = traffic.get(page)!;
    const deadline = Date.now() + 10_000;
    await new Promise((r) => setTimeout(r, 50));
    while ((t.inFlight > 0 || Date.now() - t.last < 250) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  const go = async (page: Page, path: string) => {
    await page.goto(`${server.url}${path}`);
    await expect.poll(() => page.locator('h1').count()).toBe(1);
    await settle(page);
  };

  const denials = async () =>
    ((await ok('GET', '/orgs/acme/audit?eventType=DENIED&limit=100')).events as unknown[]).length;

  beforeAll(async () => {
    const { serverEnv } = await bootstrappedServerEnv(dialect);
    // No workers: jobs stay queued, so a running job (and its Cancel button) is on the page.
    server = await spawnServer({ ...serverEnv, HUSH_WORKERS: '0' });
    chromium = await launchChromium();
    browser = chromium.browser;
    owner = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const login = await owner.request.post(`${server.url}/api/v1/auth/login`, {
      data: { email: CLI_OWNER.email, password: CLI_OWNER.password },
    });
    expect(login.status()).toBe(200);
    await ok('PATCH', '/orgs/acme', { name: 'Acme Inc' });
    await ok('POST', '/orgs/acme/projects', { slug: 'web' });
    const p = '/orgs/acme/projects/web';
    await ok('POST', `${p}/environments`, { slug: 'prod', type: 'production' });
    await ok('POST', `${p}/environments`, { slug: 'stage', type: 'staging' });
    await ok('POST', `${p}/services`, { name: 'api', environment: 'prod', command: 'echo api' });
    await ok('POST', `${p}/services`, { name: 'stg', environment: 'stage', command: 'echo stg' });
    await ok('POST', `${p}/services`, { name: 'export', command: LONG_COMMAND });
    const secret = (where: object, name: string) =>
      ok('POST', '/orgs/acme/secrets', {
        ...where,
        secret: { kind: 'env', name, value: `value of ${name} long enough` },
      });
    await secret({}, 'ORG_KEY');
    await secret({ project: 'web' }, 'PROJECT_KEY');
    await secret({ project: 'web', env: 'prod' }, 'PROD_KEY');
    await secret({ project: 'web', env: 'stage' }, 'STAGE_KEY');
    await secret({ project: 'web', service: 'api' }, 'API_KEY');
    await ok('POST', '/orgs/acme/roles', {
      name: 'deployer',
      grants: [{ project: 'web', type: 'staging', level: 'deploy' }],
    });
    await ok('POST', '/orgs/acme/tokens', { name: 'ci', role: 'viewer' });
    await ok('POST', '/orgs/acme/jobs', { project: 'web', service: 'export' });
    await ok('POST', '/orgs/acme/jobs', { project: 'web', service: 'api' });
    await ok('POST', '/orgs/acme/invitations', { email: 'pending@example.com', role: 'viewer' });
  }, 60_000);

  afterAll(async () => {
    for (const c of contexts) await c.close();
    await owner?.close();
    await chromium?.close();
    await server?.stop();
  });

  /** Enabled, visible buttons of the page's content, by their accessible name. */
  const enabledButtons = async (page: Page): Promise<string[]> =>
    page.evaluate<string[]>(
      `[...document.querySelectorAll('#main button')]
        .filter((b) => !b.disabled && b.offsetParent !== null && !b.closest('dialog'))
        .map((b) => b.getAttribute('aria-label') || b.textContent.trim())`,
    );

  let walkSecrets = 0;
  /** Submits what a dialog asks for (or confirms it), then closes it. */
  const handleDialog = async (page: Page, dialog: Locator) => {
    const kind = dialog.getByRole('button', { name: /^Environment variable/ });
    if (await kind.count()) {
      await kind.click();
      await dialog.getByLabel('Name', { exact: true }).fill(`WALK_${++walkSecrets}`);
      await dialog.getByLabel('Value').fill('a value from the walk');
      await dialog.getByRole('button', { name: 'Save secret' }).click();
    } else if (await dialog.getByLabel('New value').count()) {
      await dialog.getByLabel('New value').fill('a rotated value from the walk');
      await dialog.getByRole('button', { name: 'Rotate', exact: true }).click();
      await dialog.getByRole('button', { name: 'Yes, rotate' }).click();
    } else {
      const confirm = dialog.locator('.actions button:not(:first-child)');
      if ((await confirm.count()) === 1 && (await confirm.isEnabled())) await confirm.click();
    }
    await settle(page);
    if (await dialog.isVisible()) await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' }).catch(() => undefined);
  };

  // Seeded secrets stay (their removal is opened and cancelled), so later tests have rows.
  const KEEP = /^Remove (ORG|PROJECT|PROD|STAGE|API)_KEY$/;

  /** Clicks every enabled control of the page once, handling the dialog it opens. */
  const clickEverything = async (page: Page, clicked: string[]) => {
    const done = new Set<string>();
    for (let round = 0; round < 60; round++) {
      const next = (await enabledButtons(page)).find((name) => !done.has(name));
      if (next === undefined) return;
      done.add(next);
      const target = page.locator('#main').getByRole('button', { name: next, exact: true }).first();
      if (!(await target.isVisible()) || !(await target.isEnabled())) continue;
      clicked.push(next);
      await target.click();
      await settle(page);
      const dialog = page.locator('dialog[open]');
      if (!(await dialog.count())) continue;
      if (KEEP.test(next)) {
        await dialog.getByRole('button', { name: 'Cancel' }).click();
        await dialog.waitFor({ state: 'hidden' });
      } else {
        await handleDialog(page, dialog);
      }
    }
  };

  /** Walks every page as a member: clicks all it may, and the server refuses nothing. */
  const walk = async (context: BrowserContext) => {
    const page = await newPage(context);
    const refused: string[] = [];
    page.on('response', (r) => {
      if (r.url().includes('/api/v1/') && r.status() === 403)
        refused.push(`${r.request().method()} ${r.url()}`);
    });
    const clicked: string[] = [];
    const before = await denials();
    for (const path of [...ORG_PAGES, ...PROJECT_PAGES]) {
      await go(page, path);
      await clickEverything(page, clicked);
      if (path.endsWith('/projects/web/secrets')) {
        for (const level of ['env:prod', 'env:stage', 'service:api', 'service:stg']) {
          await page.getByLabel('Level').selectOption(level);
          const [kind, name] = level.split(':') as [string, string];
          const label = `${kind === 'env' ? 'environment' : 'service'} ${name}`;
          await expect.poll(() => page.locator('.toolbar p').textContent()).toContain(label);
          await page.locator('tr[data-secret], .empty').first().waitFor();
          await settle(page);
          await clickEverything(page, clicked);
        }
      }
      if (path.endsWith('/resolve')) {
        await page.getByLabel('Environment').selectOption('stage');
        await settle(page);
        await page.getByLabel('Service').selectOption('stg');
        await settle(page);
      }
    }
    expect(refused).toEqual([]);
    expect(await denials()).toBe(before);
    await page.close();
    return clicked;
  };

  const tooltip = async (page: Page, name: string) => {
    const button = page.getByRole('button', { name, exact: true });
    await expect.poll(() => button.getAttribute('title')).toBeTruthy();
    expect(await button.isDisabled()).toBe(true);
    return button.getAttribute('title');
  };

  it('a Viewer sees every write disabled with the reason, and nothing it clicks is refused', async () => {
    const context = await member(VIEWER, 'viewer');
    const page = await newPage(context);
    await go(page, '/orgs/acme');
    expect(await tooltip(page, 'Create project')).toBe('Your role (Viewer) cannot create projects');
    await go(page, '/orgs/acme/members');
    expect(await tooltip(page, 'Invite')).toBe(
      'Your role (Viewer) cannot manage members, invitations and roles',
    );
    expect(await page.getByRole('heading', { name: 'Pending invitations' }).count()).toBe(0);
    await go(page, '/orgs/acme/audit');
    await expect
      .poll(() => page.getByTestId('refusal').textContent())
      .toBe('Your role (Viewer) cannot view audit logs.');
    expect(await page.getByRole('button', { name: 'Apply filters' }).count()).toBe(0);
    expect(await page.getByRole('form', { name: 'Audit filters' }).count()).toBe(0);
    await go(page, '/orgs/acme/projects/web/secrets');
    expect(await tooltip(page, 'Add a new secret')).toBe(
      'Your role (Viewer) cannot add, rotate or remove secrets',
    );
    expect(await tooltip(page, 'Rotate PROJECT_KEY')).toMatch(/^Your role \(Viewer\) cannot/);
    expect(await tooltip(page, 'Delete project web')).toBe(
      'Your role (Viewer) cannot edit or delete this project',
    );
    await go(page, '/orgs/acme/projects/web/jobs');
    expect(await tooltip(page, 'Run job')).toBe(
      'Your role (Viewer) cannot run or cancel jobs in environment prod',
    );
    await page.close();

    const clicked = await walk(context);
    // What a Viewer may do is read: a secret's history at every level, a job's log.
    for (const name of ['ORG_KEY', 'PROJECT_KEY', 'PROD_KEY', 'STAGE_KEY', 'API_KEY'])
      expect(clicked).toContain(`History of ${name}`);
    expect(clicked.some((c) => c.startsWith('Show log of job'))).toBe(true);
    expect(clicked).not.toContain('Add a new secret');
  }, 180_000);

  it('a DevOps member is offered secrets and jobs, not projects, members, tokens or audit, and nothing it clicks is refused', async () => {
    const context = await member(DEV, 'devops');
    const page = await newPage(context);
    await go(page, '/orgs/acme');
    expect(await tooltip(page, 'Create project')).toBe('Your role (DevOps) cannot create projects');
    await go(page, '/orgs/acme/members');
    expect(await tooltip(page, `Remove ${VIEWER.email}`)).toBe(
      'Your role (DevOps) cannot manage members, invitations and roles',
    );
    expect(await page.getByLabel(`Role of ${VIEWER.email}`).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: /^Make .* the owner$/ }).count()).toBe(0);
    await go(page, '/orgs/acme/tokens');
    const serviceKind = page.getByLabel(/^Service token/);
    expect(await serviceKind.isDisabled()).toBe(true);
    expect(await serviceKind.getAttribute('title')).toBe(
      'Your role (DevOps) cannot manage service tokens',
    );
    expect(await page.getByLabel(/^Personal token/).isChecked()).toBe(true);
    await go(page, '/orgs/acme/settings');
    expect(await tooltip(page, 'Save name')).toBe(
      'Your role (DevOps) cannot rename the organization',
    );
    expect(await tooltip(page, 'Delete organization')).toBe(
      'Your role (DevOps) cannot delete the organization',
    );
    await go(page, '/orgs/acme/projects/web/environments');
    expect(await tooltip(page, 'Create environment')).toMatch(
      /^Your role \(DevOps\) cannot create/,
    );
    expect(await tooltip(page, 'Delete environment prod')).toBe(
      'Your role (DevOps) cannot edit or delete environments or services in environment prod',
    );
    await go(page, '/orgs/acme/projects/web/secrets');
    await expect
      .poll(() => page.getByRole('button', { name: 'Add a new secret' }).isEnabled())
      .toBe(true);
    await page.close();

    const clicked = await walk(context);
    // DevOps may write secrets and run jobs: the walk did, and the server took it.
    expect(clicked).toEqual(expect.arrayContaining(['Add a new secret', 'Run job']));
    for (const name of ['ORG_KEY', 'PROJECT_KEY', 'PROD_KEY', 'STAGE_KEY', 'API_KEY'])
      expect(clicked).toContain(`Rotate ${name}`);
    expect(clicked).toContain('Cancel job');
    const jobs = (await ok('GET', '/orgs/acme/projects/web/jobs')) as { triggeredBy: string }[];
    expect(jobs.some((j) => j.triggeredBy === DEV.email)).toBe(true);
    const created = await ok('GET', `/orgs/acme/audit?actor=${DEV.email}&eventType=CREATE`);
    expect(
      (created.events as { targetName: string }[]).some((e) => e.targetName.startsWith('WALK_')),
    ).toBe(true);
  }, 180_000);

  it('reaches every row action at 390 px, and cuts a long command to one line', async () => {
    const page = await newPage(owner);
    await page.setViewportSize({ width: 390, height: 844 });
    let checked = 0;
    for (const path of [...ORG_PAGES, ...PROJECT_PAGES]) {
      await go(page, path);
      const overflow = await page.evaluate<number>(
        'document.documentElement.scrollWidth - window.innerWidth',
      );
      expect(overflow, path).toBeLessThanOrEqual(0);
      // Each row action, scrolled into view (its table scrolls sideways if it must), is inside
      // the viewport, inside its table's visible box and within the table's scrollable width.
      const buttons = await page.evaluate<RowAction[]>(
        `[...document.querySelectorAll('.table-wrap')].flatMap((wrap) =>
          [...wrap.querySelectorAll('tbody button')].map((b) => {
            wrap.scrollLeft = 0;
            const before = b.getBoundingClientRect();
            const box = wrap.getBoundingClientRect();
            const unscrolled = before.left >= box.left - 1 && before.right <= box.right + 1;
            b.scrollIntoView({ block: 'nearest', inline: 'nearest' });
            const r = b.getBoundingClientRect();
            const w = wrap.getBoundingClientRect();
            return {
              name: b.getAttribute('aria-label') || b.textContent,
              unscrolled,
              left: r.left,
              right: r.right,
              wrapLeft: w.left,
              wrapRight: w.right,
              contentRight: r.right - w.left + wrap.scrollLeft,
              scrollWidth: Math.max(wrap.scrollWidth, wrap.clientWidth),
            };
          }))`,
      );
      for (const b of buttons) {
        const name = `${path}: ${b.name}`;
        expect(b.left, name).toBeGreaterThanOrEqual(0);
        expect(b.right, name).toBeLessThanOrEqual(390);
        expect(b.left, name).toBeGreaterThanOrEqual(b.wrapLeft - 1);
        expect(b.right, name).toBeLessThanOrEqual(b.wrapRight + 1);
        expect(b.contentRight, name).toBeLessThanOrEqual(b.scrollWidth + 1);
        // The actions column sticks to the table's right edge: in view before any scrolling.
        expect(b.unscrolled, name).toBe(true);
      }
      checked += buttons.length;
      if (path.endsWith('/jobs') || path.endsWith('/services')) {
        const region = path.endsWith('/jobs') ? 'Job history' : 'Services';
        // One line, cut: shorter than two lines, and its text wider than what shows.
        const cells = await page.evaluate<{ height: number; cut: boolean }[]>(
          `[...document.querySelectorAll('.table-wrap[aria-label="${region}"] td code')]
            .filter((c) => c.textContent.includes('nightly export'))
            .map((c) => ({ height: c.getBoundingClientRect().height, cut: c.scrollWidth > c.clientWidth }))`,
        );
        expect(cells.length, path).toBeGreaterThan(0);
        for (const cell of cells) expect(cell.cut, path).toBe(true);
        for (const cell of cells) expect(cell.height, path).toBeLessThan(40);
      }
    }
    expect(checked).toBeGreaterThan(10);
    await page.close();
  }, 120_000);

  it('names the organization, the role and the e-mail on the invitation page', async () => {
    const invitation = await ok('POST', '/orgs/acme/invitations', {
      email: 'newcomer@example.com',
      role: 'devops',
    });
    const context = await browser.newContext();
    contexts.push(context);
    const page = await newPage(context);
    await page.goto(`${server.url}/accept?token=${invitation.token}`);
    const summary = page.getByTestId('invitation');
    await expect.poll(() => summary.textContent()).toContain('Acme Inc');
    const text = (await summary.textContent()) ?? '';
    expect(text).toContain('(acme)');
    expect(text).toContain('as DevOps');
    expect(text).toContain('newcomer@example.com');
    expect(text).toMatch(/expires/);
    expect(await page.getByRole('button', { name: 'Accept and sign in' }).isEnabled()).toBe(true);

    await page.goto(`${server.url}/accept?token=hush_inv_not-a-real-token`);
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toMatch(/unknown, used, revoked or expired/);
    expect(await page.getByRole('button', { name: 'Accept and sign in' }).isDisabled()).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});

describe.each(DIALECTS)('the console before first-run setup on %s', (dialect) => {
  let server: Awaited<ReturnType<typeof spawnServer>>;
  let chromium: Awaited<ReturnType<typeof launchChromium>>;

  beforeAll(async () => {
    const db = await freshDatabase(dialect);
    server = await spawnServer({
      HUSH_DATA_DIR: db.dataDir,
      ...(db.databaseUrl ? { HUSH_DATABASE_URL: db.databaseUrl } : {}),
    });
    chromium = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await chromium?.close();
    await server?.stop();
  });

  it('says at / that setup is open and that hush serve printed the link, until it is done', async () => {
    const context = await chromium.browser.newContext();
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      await page.goto(server.url);
      await expect
        .poll(() => page.getByRole('heading', { name: 'Hush is not set up yet' }).count())
        .toBe(1);
      const text = (await page.locator('.card').textContent()) ?? '';
      expect(text).toContain('setup is open');
      expect(text).toContain('hush serve');
      expect(text).toContain('/setup?token=');
      expect(new URL(page.url()).pathname).toBe('/');
      // The sign-in page says so too.
      await page.goto(`${server.url}/signin`);
      await expect.poll(() => page.getByText('first-run setup is open').count()).toBe(1);

      const link = /(http:\/\/\S+\/setup\?token=\S+)/;
      for (let i = 0; i < 100 && !link.test(server.output()); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const token = new URL(link.exec(server.output())![1]!).searchParams.get('token');
      const setup = await call(context.request, server.url, 'POST', '/setup', {
        token,
        email: 'first@example.com',
        password: 'first password 1',
        org: 'first',
      });
      expect(setup.status, setup.text).toBe(201);
      await call(context.request, server.url, 'POST', '/auth/logout');
      // Set up: / is the sign-in page again, without the setup note.
      await page.goto(server.url);
      await page.waitForURL(/\/signin/);
      await page.waitForLoadState('networkidle');
      expect(await page.getByText('first-run setup is open').count()).toBe(0);
    } finally {
      await context.close();
    }
  });
});
