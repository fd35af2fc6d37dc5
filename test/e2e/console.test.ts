import fs from 'node:fs';

import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { launchChromium } from '../helpers/browser.js';
import { bootstrappedServerEnv, CLI_OWNER, spawnServer } from '../helpers/cli.js';
import { DIALECTS, freshDatabase } from '../helpers/databases.js';

// The console end to end: a real `hush serve` (built dist/ and dist/console), real Chromium
// through playwright-core, and nothing mocked. One story per database, in order.

const OWNER = { email: 'owner@example.com', password: 'correct horse battery', org: 'acme' };
const DEV = { email: 'dev@example.com', password: 'dev password 1' };
const SENTINEL = 'SENTINEL-c0ns0le-7f3a';
const value = (what: string) => `${SENTINEL}-${what}`;

const LEVELS = [
  { key: 'org', label: 'organization' },
  { key: 'project', label: 'project' },
  { key: 'env', label: 'environment' },
  { key: 'service', label: 'service' },
] as const;
type LevelKey = (typeof LEVELS)[number]['key'];

describe.each(DIALECTS)('the web console on %s', (dialect) => {
  let server: Awaited<ReturnType<typeof spawnServer>>;
  let chromium: Awaited<ReturnType<typeof launchChromium>>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let setupLink: string;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    const db = await freshDatabase(dialect);
    server = await spawnServer({
      HUSH_DATA_DIR: db.dataDir,
      ...(db.databaseUrl ? { HUSH_DATABASE_URL: db.databaseUrl } : {}),
    });
    const link = /(http:\/\/\S+\/setup\?token=\S+)/;
    for (let i = 0; i < 100 && !link.test(server.output()); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    setupLink = link.exec(server.output())![1]!;
    chromium = await launchChromium();
    browser = chromium.browser;
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('console', (m) => {
      // Refused requests (400, 401, 404) are part of the story; anything else is a bug.
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
        consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
  }, 60_000);

  afterAll(async () => {
    await chromium?.close();
    await server?.stop();
  });

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await context.request.fetch(`${server.url}/api/v1${path}`, {
      method,
      // What the console's own page sends (the CSRF rule wants both).
      headers: { 'x-hush-tool': 'console', origin: server.url },
      ...(body === undefined ? {} : { data: body }),
    });
    return { status: res.status(), body: (await res.text()) ? await res.json() : undefined };
  };

  const go = async (path: string) => {
    await page.goto(`${server.url}${path}`);
  };

  const openSecrets = async (level: LevelKey) => {
    if (level === 'org') {
      await go('/orgs/acme/secrets');
    } else {
      await go('/orgs/acme/projects/web/secrets');
      const option = level === 'project' ? 'project' : level === 'env' ? 'env:prod' : 'service:api';
      await page.getByLabel('Level').selectOption(option);
    }
    await expect.poll(() => page.getByRole('button', { name: 'Add a new secret' }).count()).toBe(1);
  };

  const startAdd = async (kind: 'Environment variable' | 'pg_service' | 'File') => {
    await page.getByRole('button', { name: 'Add a new secret' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a new secret' });
    await dialog.getByRole('button', { name: new RegExp(`^${kind}`) }).click();
    return dialog;
  };

  const save = async (dialog: ReturnType<Page['getByRole']>) => {
    await dialog.getByRole('button', { name: 'Save secret' }).click();
    await dialog.waitFor({ state: 'hidden' });
  };

  const secretRow = (name: string) => page.locator(`tr[data-secret="${name}"]`);

  it('first-run setup creates the Owner from the printed link and signs in', async () => {
    await page.goto(setupLink);
    await page.getByLabel('E-mail').fill(OWNER.email);
    await page.getByLabel('Password').fill(OWNER.password);
    await page.getByLabel('Organization slug').fill(OWNER.org);
    await page.getByRole('button', { name: 'Create owner and organization' }).click();
    await page.waitForURL(/\/orgs\/acme$/);
    await expect
      .poll(() => page.getByRole('heading', { name: 'Projects', level: 1 }).count())
      .toBe(1);
    // The token is spent: the same link now fails with the server's message.
    const again = await api('GET', '/setup');
    expect(again.body).toEqual({ open: false });
  });

  it('signs out, refuses a wrong password, and signs in again', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/signin/);
    await page.getByLabel('E-mail').fill(OWNER.email);
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').first().textContent()).toMatch(/password/i);
    await page.getByLabel('Password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/orgs\/acme$/);
  });

  it('creates a project, an environment and a service', async () => {
    await page.getByLabel('New project slug').fill('web');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'web' }).click();
    await page.waitForURL(/\/projects\/web\/secrets$/);

    await page.getByRole('link', { name: 'Environments' }).click();
    await page.getByLabel('Environment slug').fill('prod');
    await page.getByLabel('Type').selectOption('production');
    await page.getByRole('button', { name: 'Create environment' }).click();
    await expect.poll(() => page.getByRole('cell', { name: 'production' }).count()).toBe(1);

    await page.getByRole('link', { name: 'Services' }).click();
    await page.getByLabel('Service name').fill('api');
    await page.getByLabel('Environment').selectOption('prod');
    await page
      .getByLabel('Command')
      .fill(
        'echo "token=$API_TOKEN"; echo "cert=$(cat "$CERT_SERVICE")"; grep -c "^\\[" "$PGSERVICEFILE"',
      );
    await page.getByRole('button', { name: 'Create service' }).click();
    await expect.poll(() => page.getByRole('cell', { name: 'api', exact: true }).count()).toBe(1);
  });

  it('shows a validation error next to the field it names and keeps the form', async () => {
    await openSecrets('org');
    const dialog = await startAdd('Environment variable');
    await dialog.getByLabel('Name', { exact: true }).fill('not a name');
    await dialog.getByLabel('Value').fill(value('invalid'));
    await dialog.getByRole('button', { name: 'Save secret' }).click();
    const error = dialog.locator(
      '#' + (await dialog.getByLabel('Name', { exact: true }).getAttribute('id'))! + '-error',
    );
    await expect.poll(() => error.textContent()).toMatch(/capitals only/);
    expect(await dialog.getByLabel('Name', { exact: true }).getAttribute('aria-invalid')).toBe(
      'true',
    );
    expect(await dialog.getByLabel('Value').inputValue()).toBe(value('invalid'));
    await dialog.getByRole('button', { name: 'Close' }).click();
    expect((await api('GET', '/orgs/acme/secrets')).body).toEqual([]);
  });

  it('adds one secret of each kind at each level, with both pg_service editors', async () => {
    for (const level of LEVELS) {
      await openSecrets(level.key);
      const suffix = level.key.toUpperCase();

      let dialog = await startAdd('Environment variable');
      expect(await dialog.textContent()).toContain('cannot be shown again');
      await dialog.getByLabel('Name', { exact: true }).fill('API_TOKEN');
      await dialog.getByLabel('Value').fill(value(`token-${level.key}`));
      await save(dialog);
      await expect.poll(() => secretRow('API_TOKEN').count()).toBe(1);

      dialog = await startAdd('File');
      await dialog.getByLabel('Name', { exact: true }).fill(`CERT_${suffix}`);
      await dialog.getByLabel('File name').fill(`${level.key}.pem`);
      await dialog.getByLabel('File content').fill(value(`cert-${level.key}`));
      await save(dialog);
      await expect.poll(() => secretRow(`CERT_${suffix}`).count()).toBe(1);

      dialog = await startAdd('pg_service');
      const service = `db_${level.key}`;
      if (level.key === 'org' || level.key === 'env') {
        await dialog.getByLabel('Service name').fill(service);
        await dialog.getByLabel('Database name').fill('gis');
        await dialog.getByLabel('User').fill('ninja');
        await dialog.getByLabel('Password').fill(value(`pg-${level.key}`));
        await dialog.getByLabel('Host').fill('127.0.0.1');
        expect(await dialog.getByLabel('Port').inputValue()).toBe('5432');
        await dialog.getByLabel('SSL mode').selectOption('disable');
        if (level.key === 'org') {
          await dialog.getByRole('button', { name: 'Add extra pgservice field' }).click();
          await dialog.getByLabel('Extra field 1 name').fill('application_name');
          await dialog.getByLabel('Extra field 1 value').fill('hush-console');
        }
      } else {
        await dialog.getByRole('button', { name: 'Advanced editor' }).click();
        await dialog
          .getByLabel('pg_service.conf')
          .fill(
            `[${service}]\nhost=127.0.0.1\nport=5433\ndbname=gis\nuser=ninja\npassword=${value(`pg-${level.key}`)}\n`,
          );
      }
      await save(dialog);
      await expect.poll(() => secretRow(service).count()).toBe(1);
      const row = await secretRow(service).textContent();
      expect(row).toContain(level.label);
      expect(row).toContain('v1');
      expect(await page.content()).not.toContain(SENTINEL);
    }
    const org = await api('GET', '/orgs/acme/secrets');
    const pg = org.body.find((s: { name: string }) => s.name === 'db_org');
    expect(pg.kind).toBe('pgservice');
    expect(org.body).toHaveLength(3);
  });

  it('accepts an invitation in the browser and assigns a secret to that member', async () => {
    await go('/orgs/acme/members');
    await page.getByLabel('E-mail').fill(DEV.email);
    await page.getByLabel('Role').selectOption('devops');
    await page.getByRole('button', { name: 'Invite' }).click();
    const token = (await page.getByTestId('shown-once').textContent())!;
    expect(token).toMatch(/^hush_inv_/);

    const invitee = await browser.newContext();
    const invPage = await invitee.newPage();
    await invPage.goto(`${server.url}/accept?token=${token}`);
    await invPage.getByLabel('Password').fill(DEV.password);
    await invPage.getByRole('button', { name: 'Accept and sign in' }).click();
    await invPage.waitForURL(/\/orgs\/acme$/);
    await invitee.close();

    await page.reload();
    const members = page.getByRole('region', { name: 'Members' });
    await expect
      .poll(() => members.getByRole('cell', { name: DEV.email, exact: true }).count())
      .toBe(1);

    await openSecrets('env');
    const dialog = await startAdd('Environment variable');
    await dialog.getByLabel('Name', { exact: true }).fill('API_TOKEN');
    await dialog.getByLabel('Value').fill(value('token-env-dev'));
    await dialog.getByLabel('Assign to member (optional)').selectOption(DEV.email);
    await save(dialog);
    const secrets = page.getByRole('region', { name: 'Secrets' });
    await expect
      .poll(() => secrets.getByRole('cell', { name: DEV.email, exact: true }).count())
      .toBe(1);
  });

  it('the resolve view picks the deepest level, then the member’s own value', async () => {
    await go('/orgs/acme/projects/web/resolve');
    const winner = (name: string) =>
      page.locator(`tr[data-name="${name}"] [data-testid="winner"]`).textContent();
    await page.getByLabel('Environment').selectOption('prod');
    await expect.poll(() => winner('API_TOKEN')).toBe('environment');
    await page.getByLabel('As member').selectOption(DEV.email);
    await expect.poll(() => winner('API_TOKEN')).toBe(`environment (assigned to ${DEV.email})`);
    const shadows = await page
      .locator('tr[data-name="API_TOKEN"] [data-testid="shadows"]')
      .textContent();
    expect(shadows).toContain('environment v1');
    expect(shadows).toContain('project v1');
    expect(shadows).toContain('organization v1');
    await page.getByLabel('Service').selectOption('api');
    await expect.poll(() => winner('API_TOKEN')).toBe('service');
    await expect.poll(() => winner('db_env')).toBe('environment');
    expect(await page.content()).not.toContain(SENTINEL);
  });

  it('rotates a secret and rolls it back, each confirmed', async () => {
    await openSecrets('project');
    await page.getByRole('button', { name: 'Rotate API_TOKEN' }).click();
    const rotate = page.getByRole('dialog', { name: 'Rotate API_TOKEN' });
    await rotate.getByLabel('New value').fill(value('token-project-2'));
    await rotate.getByRole('button', { name: 'Rotate' }).click();
    await rotate.getByRole('button', { name: 'Yes, rotate' }).click();
    await rotate.waitFor({ state: 'hidden' });
    await expect.poll(() => secretRow('API_TOKEN').textContent()).toContain('v2');

    await page.getByRole('button', { name: 'History of API_TOKEN' }).click();
    const history = page.getByRole('dialog', { name: 'History of API_TOKEN' });
    await history.getByRole('button', { name: 'Roll back to version 1' }).click();
    await page
      .getByRole('dialog', { name: 'Roll back to version 1?' })
      .getByRole('button', { name: 'Roll back' })
      .click();
    await expect.poll(() => secretRow('API_TOKEN').textContent()).toContain('v3');
    await page.getByRole('button', { name: 'History of API_TOKEN' }).click();
    await expect.poll(() => history.textContent()).toContain('rollback to v1');
    await history.getByRole('button', { name: 'Close' }).click();
  });

  it('runs a job and shows its log live with every secret value redacted', async () => {
    await go('/orgs/acme/projects/web/jobs');
    await page.getByLabel('Service').selectOption('api');
    await page.getByRole('button', { name: 'Run job' }).click();
    await expect
      .poll(() => page.getByTestId('job-status').textContent(), { timeout: 20_000 })
      .toMatch(/succeeded/);
    const log = (await page.getByTestId('job-log').textContent())!;
    expect(log).toContain('token=[REDACTED]');
    expect(log).toContain('cert=[REDACTED]');
    expect(log).toMatch(/^4$/m); // db_org, db_project, db_env and db_service in one pg_service.conf
    expect(log).not.toContain(SENTINEL);
    await expect
      .poll(() => page.getByRole('region', { name: 'Job history' }).textContent())
      .toContain('succeeded');
  });

  it('runs an ad-hoc command in an environment with its log redacted', async () => {
    await go('/orgs/acme/projects/web/jobs');
    await page.getByLabel('Command', { exact: true }).fill('echo "adhoc=$API_TOKEN"; exit 3');
    await page.getByLabel('Environment of the command').selectOption('prod');
    await page.getByRole('button', { name: 'Run command' }).click();
    await expect
      .poll(() => page.getByTestId('job-status').textContent(), { timeout: 20_000 })
      .toMatch(/failed/);
    const log = (await page.getByTestId('job-log').textContent())!;
    expect(log).toContain('adhoc=[REDACTED]');
    expect(log).not.toContain(SENTINEL);
    const jobs = (await api('GET', '/orgs/acme/projects/web/jobs?limit=1')).body as unknown[];
    expect(jobs[0]).toMatchObject({
      kind: 'adhoc',
      exitCode: 3,
      command: ['/bin/sh', '-c', 'echo "adhoc=$API_TOKEN"; exit 3'],
    });
    await expect
      .poll(() => page.getByRole('region', { name: 'Job history' }).textContent())
      .toContain(`/bin/sh -c 'echo "adhoc=$API_TOKEN"; exit 3'`);
  });

  it('says how jobs are isolated and warns next to the Run command form', async () => {
    await go('/orgs/acme/projects/web/jobs');
    const sandbox = page.getByRole('region', { name: 'Job sandbox' });
    await expect
      .poll(() => sandbox.textContent())
      .toBe('Jobs run in a bubblewrap sandbox (network: shared).');
    expect(await sandbox.getByRole('alert').count()).toBe(0);

    const warning =
      'A command you run here receives the secret values of the project or environment you choose and can print them in any encoding: redaction of the log catches accidents, not intent.';
    const form = page.getByRole('form', { name: 'Run a command' });
    const described = await form.getAttribute('aria-describedby');
    const note = page.locator(`[id="${described}"]`);
    expect(await note.isVisible()).toBe(true);
    expect((await note.textContent())?.replace(/\s+/g, ' ')).toBe(warning);
    expect(
      await page.getByRole('button', { name: 'Run command' }).getAttribute('aria-describedby'),
    ).toBe(described);
  });

  it('filters the audit log and opens an event’s JSON', async () => {
    await go('/orgs/acme/audit');
    await page.getByLabel('Event type').selectOption('ROTATE');
    await page.getByLabel('Target name').fill('API_TOKEN');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const table = page.getByRole('region', { name: 'Audit events' });
    await expect.poll(() => table.locator('tbody tr').count()).toBe(1);
    expect(await table.textContent()).toContain(OWNER.email);
    expect(await table.textContent()).toContain('console');
    await table.getByRole('button', { name: /^Open event/ }).click();
    const json = page.getByLabel('Event JSON');
    await expect.poll(() => json.textContent()).toContain('"eventType": "ROTATE"');
    expect(await json.textContent()).toContain('"tool": "console"');
    expect(await json.textContent()).not.toContain(SENTINEL);
    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();

    await page.getByRole('button', { name: 'Verify chain' }).click();
    await expect
      .poll(() => page.getByRole('status').first().textContent())
      .toMatch(/chain verifies/);

    // The export link streams the applied filters' events to a file, and is audited as the
    // console's doing (a download sends the session cookie but no X-Hush-Tool header).
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Export CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('hush-audit-acme.csv');
    const csv = fs
      .readFileSync(await download.path(), 'utf8')
      .trim()
      .split('\r\n');
    expect(csv[0]).toMatch(/^id,timestamp,organization,seq,event_type/);
    expect(csv).toHaveLength(2);
    expect(csv[1]).toContain(',ROTATE,secret,');
    expect(csv[1]).toContain(',API_TOKEN,');
    expect(csv.join('\n')).not.toContain(SENTINEL);
    const exported = (await api('GET', '/orgs/acme/audit?eventType=EXPORT&limit=1')).body;
    expect(exported.events[0]).toMatchObject({
      actor: OWNER.email,
      tool: 'console',
      details: { format: 'csv', count: 1, filters: { eventType: 'ROTATE', target: 'API_TOKEN' } },
    });
  });

  it('uploads a file secret and removes a secret, confirmed', async () => {
    await openSecrets('service');
    const dialog = await startAdd('File');
    await dialog.getByLabel('Name', { exact: true }).fill('UPLOADED');
    await dialog.getByRole('button', { name: 'Upload a file' }).click();
    await dialog.getByLabel('File to upload').setInputFiles({
      name: 'upload.pem',
      mimeType: 'application/x-pem-file',
      buffer: Buffer.from(value('uploaded')),
    });
    await save(dialog);
    await expect.poll(() => secretRow('UPLOADED').textContent()).toContain('upload.pem');

    await page.getByRole('button', { name: 'Remove UPLOADED' }).click();
    const confirm = page.getByRole('dialog', { name: 'Remove UPLOADED?' });
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    expect(await secretRow('UPLOADED').count()).toBe(1);
    await page.getByRole('button', { name: 'Remove UPLOADED' }).click();
    await confirm.getByRole('button', { name: 'Remove secret' }).click();
    await expect.poll(() => secretRow('UPLOADED').count()).toBe(0);
  });

  it('cancels a running job', async () => {
    await go('/orgs/acme/projects/web/services');
    await page.getByLabel('Service name').fill('slow');
    await page.getByLabel('Command').fill('echo started; sleep 60');
    await page.getByRole('button', { name: 'Create service' }).click();
    await expect.poll(() => page.getByRole('cell', { name: 'slow', exact: true }).count()).toBe(1);
    await page.getByRole('link', { name: 'Jobs' }).click();
    await page.getByLabel('Service').selectOption('slow');
    await page.getByRole('button', { name: 'Run job' }).click();
    await expect
      .poll(() => page.getByTestId('job-log').textContent(), { timeout: 20_000 })
      .toContain('started');
    await page.getByRole('button', { name: 'Cancel job' }).click();
    await page
      .getByRole('dialog', { name: 'Cancel this job?' })
      .getByRole('button', { name: 'Cancel job' })
      .click();
    await expect
      .poll(() => page.getByTestId('job-status').textContent(), { timeout: 20_000 })
      .toMatch(/cancelled/);
  });

  it('pages through the audit log', async () => {
    await go('/orgs/acme/audit');
    const table = page.getByRole('region', { name: 'Audit events' });
    await expect.poll(() => table.locator('tbody tr').count()).toBe(25);
    const newest = await table.locator('tbody tr').first().textContent();
    await page.getByRole('button', { name: 'Older' }).click();
    await expect.poll(() => table.locator('tbody tr').first().textContent()).not.toBe(newest);
    await page.getByRole('button', { name: 'Newer' }).click();
    await expect.poll(() => table.locator('tbody tr').first().textContent()).toBe(newest);
  });

  it('creates a service token and shows it once', async () => {
    await go('/orgs/acme/tokens');
    // The kind's label reads as words ("jobs and hush run", once run together).
    await expect
      .poll(() => page.getByLabel('Service token (for jobs and hush run, with a role)').count())
      .toBe(1);
    await page.getByLabel('Token name').fill('deploy');
    await page.getByLabel('Role', { exact: true }).selectOption('devops');
    await page.getByRole('checkbox', { name: 'web' }).check();
    await page.getByRole('button', { name: 'Create token' }).click();
    expect(await page.getByTestId('shown-once').textContent()).toMatch(/^hush_svc_/);
    await expect
      .poll(() => page.getByRole('region', { name: 'Service tokens' }).textContent())
      .toContain('deploy');
    await page.reload();
    expect(await page.getByTestId('shown-once').count()).toBe(0);
  });

  it('creates a custom role from the grid and changes a member’s role', async () => {
    await go('/orgs/acme/roles');
    await page.getByLabel('Role name').fill('prod-deployer');
    await page.getByLabel('web production').selectOption('deploy');
    await page.getByRole('button', { name: 'Create role' }).click();
    await expect
      .poll(() => page.getByRole('region', { name: 'Custom roles' }).textContent())
      .toContain('web/production: deploy');

    await go('/orgs/acme/members');
    await page.getByLabel(`Role of ${DEV.email}`).selectOption('prod-deployer');
    await page.getByRole('button', { name: 'Change role' }).click();
    await expect
      .poll(
        async () =>
          (await api('GET', '/orgs/acme/members')).body.find(
            (m: { email: string }) => m.email === DEV.email,
          ).role,
      )
      .toBe('prod-deployer');
  });

  it('says on the Roles page which roles and grant levels expose values', async () => {
    await go('/orgs/acme/roles');
    const exposure = (role: string) =>
      page.locator(`dl.roles [data-role="${role}"] dd.exposure`).textContent();
    await expect
      .poll(() => exposure('owner'))
      .toBe(
        'Exposes values: yes, of every environment, by running jobs, running any command, editing service commands and setting variables jobs read',
      );
    expect(await exposure('admin')).toBe(await exposure('owner'));
    expect(await exposure('devops')).toBe(
      'Exposes values: yes, of every environment, by running jobs, running any command and setting variables jobs read',
    );
    expect(await exposure('billing-manager')).toBe('Exposes values: no');
    expect(await exposure('viewer')).toBe('Exposes values: no');
    expect(await page.getByTestId('exposure-legend').textContent()).toContain(
      'Log redaction catches accidents, not intent.',
    );

    const note = page.getByTestId('grant-exposure');
    expect(await note.textContent()).toBe(
      "Exposes values: Levels deploy, manage and full expose the values of that environment type's jobs in that project, organization- and project-level values included (deploy by running jobs and setting variables jobs read; manage and full also by running any command and editing service commands). Levels none and read-only do not.",
    );
    // Every grant select is described by the note.
    const select = page.getByLabel('web production');
    expect(await select.getAttribute('aria-describedby')).toBe(await note.getAttribute('id'));

    const roles = page.getByRole('region', { name: 'Custom roles' });
    expect(await roles.locator('thead').textContent()).toContain('Exposes values of');
    const row = roles.locator('tbody tr', { hasText: 'prod-deployer' });
    expect(await row.locator('td').nth(2).textContent()).toBe('web/production');

    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate<number>(
      'document.documentElement.scrollWidth - window.innerWidth',
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('transfers ownership, confirmed, and the new Owner can give it back', async () => {
    await go('/orgs/acme/members');
    await page.getByRole('button', { name: `Make ${DEV.email} the owner` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Transfer ownership' }).click();
    const roles = async () =>
      Object.fromEntries(
        ((await api('GET', '/orgs/acme/members')).body as { email: string; role: string }[]).map(
          (m) => [m.email, m.role],
        ),
      );
    await expect.poll(roles).toMatchObject({ [OWNER.email]: 'admin', [DEV.email]: 'owner' });
    // An Admin sees no transfer button.
    await expect
      .poll(() => page.getByRole('button', { name: /^Make .* the owner$/ }).count())
      .toBe(0);

    const dev = await browser.newContext();
    try {
      const login = await dev.request.post(`${server.url}/api/v1/auth/login`, {
        data: { email: DEV.email, password: DEV.password },
      });
      expect(login.ok(), await login.text()).toBe(true);
      const { token } = (await login.json()) as { token: string };
      const back = await dev.request.post(
        `${server.url}/api/v1/orgs/acme/members/${encodeURIComponent(OWNER.email)}/transfer-ownership`,
        { headers: { authorization: `Bearer ${token}` } },
      );
      expect(back.status(), await back.text()).toBe(200);
    } finally {
      await dev.close();
    }
    expect(await roles()).toMatchObject({ [OWNER.email]: 'owner', [DEV.email]: 'admin' });
  });

  it('sends the user to sign-in with a clear message when the session expires', async () => {
    await openSecrets('org'); // the page has loaded with a live session
    // Every request of the page has answered: none still in flight can meet the revoked session
    // and send the page to sign-in before the click below.
    await page.waitForLoadState('networkidle');
    await api('POST', '/auth/logout'); // revokes this browser's session on the server
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Members' })
      .click();
    await page.waitForURL(/\/signin\?next=/);
    await expect
      .poll(() => page.getByRole('alert').first().textContent())
      .toMatch(/session has expired|signed out/);
    await page.getByLabel('E-mail').fill(OWNER.email);
    await page.getByLabel('Password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/orgs\/acme\/members$/);
  });

  it('tells a person removed from every organization how to get back in, offering only what the server allows', async () => {
    const invite = await api('POST', '/orgs/acme/invitations', {
      email: 'loner@example.com',
      role: 'viewer',
    });
    expect(invite.status).toBe(201);
    const loner = await browser.newContext();
    try {
      const accepted = await loner.request.post(`${server.url}/api/v1/invitations/accept`, {
        data: { token: (invite.body as { token: string }).token, password: 'loner password 1' },
      });
      expect(accepted.status()).toBe(201);
      expect((await api('DELETE', '/orgs/acme/members/loner@example.com')).status).toBe(204);

      const lonerPage = await loner.newPage();
      await lonerPage.goto(server.url);
      await expect
        .poll(() => lonerPage.getByRole('heading', { name: 'No organization yet' }).count())
        .toBe(1);
      // HUSH_ORG_CREATION is admins-only by default: no form that would answer 403.
      await expect.poll(() => lonerPage.getByText('Ask an Owner or Admin').count()).toBe(1);
      expect(await lonerPage.getByRole('button', { name: 'Create organization' }).count()).toBe(0);
      const refused = await loner.request.post(`${server.url}/api/v1/orgs`, {
        headers: { 'x-hush-tool': 'console', origin: server.url },
        data: { slug: 'solo' },
      });
      expect(refused.status()).toBe(403);
    } finally {
      await loner.close();
    }
  });

  it('creates another organization and deletes it once its slug is typed', async () => {
    await go('/orgs/acme/settings');
    await page.getByLabel('Organization slug').fill('beta');
    await page.getByRole('button', { name: 'Create organization' }).click();
    await page.waitForURL(/\/orgs\/beta$/);
    // Two organizations: the switcher offers both.
    expect(await page.getByLabel('Organization', { exact: true }).inputValue()).toBe('beta');

    await go('/orgs/beta/settings');
    const zone = page.getByRole('form', { name: 'Delete this organization' });
    const remove = zone.getByRole('button', { name: 'Delete organization' });
    expect(await remove.isDisabled()).toBe(true);
    await zone.getByLabel('Type beta to confirm').fill('acme');
    expect(await remove.isDisabled()).toBe(true);
    await zone.getByLabel('Type beta to confirm').fill('beta');
    await remove.click();
    await page.waitForURL(/\/orgs\/acme$/);
    expect((await api('GET', '/orgs/beta')).status).toBe(404);
  });

  it('deletes a project, confirmed', async () => {
    expect((await api('POST', '/orgs/acme/projects', { slug: 'scratch' })).status).toBe(201);
    await go('/orgs/acme/projects/scratch/environments');
    await page.getByRole('button', { name: 'Delete project scratch' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete project' }).click();
    await page.waitForURL(/\/orgs\/acme$/);
    const projects = (await api('GET', '/orgs/acme/projects')).body as { slug: string }[];
    expect(projects.map((p) => p.slug)).not.toContain('scratch');
    expect(projects.map((p) => p.slug)).toContain('web');
  });

  it('works at 390 px wide: no sideways scroll, the menu opens by keyboard', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const path of [
      '/orgs/acme/secrets',
      '/orgs/acme/projects/web/secrets',
      '/orgs/acme/projects/web/jobs',
      '/orgs/acme/members',
      '/orgs/acme/audit',
      '/orgs/acme/settings',
    ]) {
      await go(path);
      await expect.poll(() => page.locator('h1').count()).toBe(1);
      // Page functions run in the browser; as strings they need no DOM types in this Node project.
      const overflow = await page.evaluate<number>(
        'document.documentElement.scrollWidth - window.innerWidth',
      );
      expect(overflow, path).toBeLessThanOrEqual(0);
    }
    expect(await page.getByRole('navigation', { name: 'Main' }).isVisible()).toBe(false);
    await page.getByRole('button', { name: 'Menu' }).focus();
    await page.keyboard.press('Enter');
    expect(await page.getByRole('navigation', { name: 'Main' }).isVisible()).toBe(true);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('labels every field and leaks no secret value into the page or the server output', async () => {
    for (const path of [
      '/orgs/acme/secrets',
      '/orgs/acme/members',
      '/orgs/acme/tokens',
      '/orgs/acme/audit',
      '/orgs/acme/settings',
      '/orgs/acme/projects/web/services',
      '/orgs/acme/projects/web/jobs',
    ]) {
      await go(path);
      await expect.poll(() => page.locator('h1').count()).toBe(1);
      await page.waitForLoadState('networkidle');
      const unlabelled = await page.evaluate<string[]>(
        `[...document.querySelectorAll('input, select, textarea')]
          .filter((el) => !el.labels?.length && !el.getAttribute('aria-label'))
          .map((el) => el.outerHTML)`,
      );
      expect(unlabelled, path).toEqual([]);
      expect(await page.content(), path).not.toContain(SENTINEL);
    }
    expect(server.output()).not.toContain(SENTINEL);
    expect(consoleErrors).toEqual([]);
  });
});

// The Jobs tab under the other sandbox settings, each a server of its own (SQLite only: what is
// tested is the console's wording of GET /jobs/sandbox, not the store).
describe('the Jobs tab under other sandbox settings', () => {
  let chromium: Awaited<ReturnType<typeof launchChromium>>;

  beforeAll(async () => {
    chromium = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await chromium?.close();
  });

  /** A bootstrapped server with `env`, a signed-in page on its project's Jobs tab. */
  const jobsTab = async (env: Record<string, string>) => {
    const { serverEnv } = await bootstrappedServerEnv('sqlite');
    const server = await spawnServer({ ...serverEnv, ...env });
    const context = await chromium.browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(`${server.url}/signin`);
    await page.getByLabel('E-mail').fill(CLI_OWNER.email);
    await page.getByLabel('Password').fill(CLI_OWNER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/orgs\/acme$/);
    const created = await context.request.post(`${server.url}/api/v1/orgs/acme/projects`, {
      // What the console's own page sends (the CSRF rule wants both).
      headers: { 'x-hush-tool': 'console', origin: server.url },
      data: { slug: 'web' },
    });
    expect(created.status()).toBe(201);
    await page.goto(`${server.url}/orgs/acme/projects/web/jobs`);
    const sandbox = page.getByRole('region', { name: 'Job sandbox' });
    await expect.poll(() => sandbox.locator('p').count()).toBeGreaterThan(0);
    const close = async () => {
      await context.close();
      await server.stop();
    };
    return { page, sandbox, close };
  };

  it('warns, in an alert, that jobs run without a sandbox with HUSH_JOB_SANDBOX=none', async () => {
    const { page, sandbox, close } = await jobsTab({ HUSH_JOB_SANDBOX: 'none' });
    try {
      expect(await sandbox.getByTestId('job-sandbox').textContent()).toBe(
        'Jobs run without a sandbox.',
      );
      const alert = sandbox.getByRole('alert');
      expect(await alert.isVisible()).toBe(true);
      expect((await alert.textContent())?.replace(/\s+/g, ' ')).toBe(
        "Jobs on this server run without a sandbox: a job can read the server's files, its master key and every organization's secrets. Development machines only.",
      );
      const overflow = await page.evaluate<number>(
        'document.documentElement.scrollWidth - window.innerWidth',
      );
      expect(overflow).toBeLessThanOrEqual(0);
    } finally {
      await close();
    }
  });

  it('says why jobs cannot run when the sandbox cannot start, and the trigger says so too', async () => {
    // A mount that does not exist: bwrap refuses to build the sandbox, so the probe fails.
    const { page, sandbox, close } = await jobsTab({ HUSH_JOB_MOUNTS: '/nonexistent-hush-mount' });
    try {
      const alert = sandbox.getByRole('alert');
      expect(await alert.textContent()).toMatch(
        /^Jobs cannot run on this server: bubblewrap cannot create the job sandbox \(.+\)/,
      );
      await page.getByLabel('Command', { exact: true }).fill('true');
      await page.getByRole('button', { name: 'Run command' }).click();
      await expect
        .poll(() => page.getByRole('alert').last().textContent())
        .toContain('(JOB_SANDBOX_UNAVAILABLE)');
    } finally {
      await close();
    }
  });

  it('says jobs run on separate workers when this server has none (HUSH_WORKERS=0)', async () => {
    const { sandbox, close } = await jobsTab({ HUSH_WORKERS: '0' });
    try {
      expect(await sandbox.getByTestId('job-sandbox').textContent()).toBe(
        'Jobs run on separate workers: this server runs none itself. Its setting: jobs run in a bubblewrap sandbox (network: shared).',
      );
      expect(await sandbox.getByRole('alert').count()).toBe(0);
    } finally {
      await close();
    }
  });
});
