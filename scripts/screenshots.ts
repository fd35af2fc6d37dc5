/**
 * `npm run screenshots`: PNGs of the console's main pages in docs/screenshots/, taken from a
 * real `hush serve` (SQLite in a temporary directory) seeded through the REST API, in Debian's
 * Chromium through playwright-core (HUSH_CHROMIUM overrides the path).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { chromium, type Page } from 'playwright-core';

const ROOT = path.resolve(import.meta.dirname, '..');
const OUT = path.join(ROOT, 'docs', 'screenshots');
const OWNER = { email: 'ada@example.com', password: 'screenshots only', org: 'acme' };

async function startServer(dataDir: string) {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/hush.js'), 'serve', '--port', '0'], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: dataDir,
      HUSH_DATA_DIR: dataDir,
      HUSH_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const setup = await new Promise<{ url: string; token: string }>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/\S+)\/setup\?token=(\S+)/.exec(out);
      if (m) resolve({ url: m[1]!, token: m[2]! });
    });
    child.once('exit', (code) => reject(new Error(`hush serve exited with ${code}: ${out}`)));
  });
  return { ...setup, stop: () => child.kill('SIGTERM') };
}

/** A small REST client with the Owner's session token. */
function client(url: string) {
  let token = '';
  const call = async <T>(method: string, p: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${url}/api/v1${p}`, {
      method,
      headers: {
        'x-hush-tool': 'console',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  return { call, setToken: (t: string) => (token = t) };
}

async function seed(url: string, setupToken: string) {
  const api = client(url);
  const session = await api.call<{ token: string }>('POST', '/setup', {
    token: setupToken,
    ...OWNER,
  });
  api.setToken(session.token);
  const o = `/orgs/${OWNER.org}`;
  for (const slug of ['maps', 'billing', 'website'])
    await api.call('POST', `${o}/projects`, { slug });
  await api.call('POST', `${o}/projects/maps/environments`, { slug: 'prod', type: 'production' });
  await api.call('POST', `${o}/projects/maps/environments`, { slug: 'staging', type: 'staging' });
  await api.call('POST', `${o}/projects/maps/services`, {
    name: 'sync',
    environment: 'prod',
    command: 'echo "syncing with $API_KEY"; psql service=ninja -Atc "select 1" || true',
  });
  const add = (where: object, secret: object, assignee?: string) =>
    api.call('POST', `${o}/secrets`, { ...where, secret, ...(assignee ? { assignee } : {}) });
  await add(
    {},
    { kind: 'env', name: 'SENTRY_DSN', value: 'https://example.invalid/1', sensitivity: 'plain' },
  );
  await add({}, { kind: 'env', name: 'API_KEY', value: 'org-wide-key-0001' });
  await add(
    {},
    {
      kind: 'pgservice',
      name: 'ninja',
      settings: {
        host: 'db.internal',
        port: '5432',
        dbname: 'gis',
        user: 'ninja_org',
        password: 'pw-org',
        sslmode: 'require',
      },
    },
  );
  await add({ project: 'maps' }, { kind: 'env', name: 'API_KEY', value: 'maps-project-key' });
  await add(
    { project: 'maps', env: 'prod' },
    { kind: 'env', name: 'API_KEY', value: 'maps-prod-key-42' },
  );
  await add(
    { project: 'maps', env: 'prod' },
    {
      kind: 'file',
      name: 'TLS_CERT',
      fileName: 'client.pem',
      contentBase64: Buffer.from('-----BEGIN CERTIFICATE-----\n...').toString('base64'),
      sensitivity: 'secret',
    },
  );
  await add(
    { project: 'maps' },
    { kind: 'env', name: 'TILES_URL', value: 'https://tiles.example.invalid/${API_KEY}' },
  );
  await add(
    { project: 'maps' },
    { kind: 'alias', name: 'DATABASE_URL', target: 'HUSH_PG_NINJA_URL' },
  );
  const invite = await api.call<{ token: string }>('POST', `${o}/invitations`, {
    email: 'lin@example.com',
    role: 'devops',
  });
  await api.call('POST', '/invitations/accept', {
    token: invite.token,
    password: 'lin password 1',
  });
  await add(
    { project: 'maps', env: 'prod' },
    {
      kind: 'pgservice',
      name: 'ninja',
      settings: {
        host: 'db.internal',
        port: '5432',
        dbname: 'gis',
        user: 'lin',
        password: 'pw-lin',
      },
    },
    'lin@example.com',
  );
  const secrets = await api.call<{ id: string; name: string }[]>(
    'GET',
    `${o}/secrets?project=maps`,
  );
  const key = secrets.find((s) => s.name === 'API_KEY')!;
  await api.call('POST', `${o}/secrets/${key.id}/rotate`, {
    kind: 'env',
    value: 'maps-project-key-2',
  });
  await api.call('POST', `${o}/roles`, {
    name: 'maps-deployer',
    grants: [
      { project: 'maps', type: 'production', level: 'deploy' },
      { project: 'maps', type: 'staging', level: 'manage' },
    ],
  });
  await api.call('POST', `${o}/tokens`, { name: 'ci-maps', role: 'devops', projects: ['maps'] });
  const job = await api.call<{ id: string }>('POST', `${o}/jobs`, {
    project: 'maps',
    env: 'prod',
    service: 'sync',
  });
  for (let i = 0; i < 100; i++) {
    const j = await api.call<{ status: string }>('GET', `${o}/jobs/${job.id}`);
    if (!['queued', 'running'].includes(j.status)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function shot(page: Page, name: string) {
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
  console.log(`docs/screenshots/${name}.png`);
}

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hush-screens-'));
  const server = await startServer(dataDir);
  const browser = await chromium.launch({
    executablePath: process.env.HUSH_CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    await seed(server.url, server.token);
    fs.mkdirSync(OUT, { recursive: true });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const go = (p: string) => page.goto(`${server.url}${p}`);
    await go('/signin');
    await shot(page, 'sign-in');
    await page.getByLabel('E-mail').fill(OWNER.email);
    await page.getByLabel('Password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/orgs\//);

    await go('/orgs/acme/secrets');
    await shot(page, 'org-secrets');
    await go('/orgs/acme/projects/maps/secrets');
    await page.getByLabel('Level').selectOption('env:prod');
    await shot(page, 'project-secrets');
    await page.getByRole('button', { name: 'Add a new secret' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a new secret' });
    await dialog.getByRole('button', { name: /^pg_service/ }).click();
    await dialog.getByLabel('Service name').fill('warehouse');
    await dialog.getByLabel('Database name').fill('dwh');
    await dialog.getByLabel('User').fill('reporter');
    await dialog.getByLabel('Password').fill('not-a-real-password');
    await dialog.getByLabel('Host').fill('dwh.internal');
    await dialog.getByLabel('SSL mode').selectOption('verify-full');
    await dialog.getByRole('button', { name: 'Add extra pgservice field' }).click();
    await dialog.getByLabel('Extra field 1 name').fill('application_name');
    await dialog.getByLabel('Extra field 1 value').fill('nightly-report');
    await page.setViewportSize({ width: 1280, height: 1000 });
    await shot(page, 'add-pgservice');
    await page.setViewportSize({ width: 1280, height: 800 });
    await dialog.getByRole('button', { name: 'Close' }).click();

    await go('/orgs/acme/projects/maps/resolve');
    await page.getByLabel('Environment').selectOption('prod');
    await page.getByLabel('Service').selectOption('sync');
    await page.getByLabel('As member').selectOption('lin@example.com');
    await shot(page, 'resolve');
    await go('/orgs/acme/projects/maps/jobs');
    await page
      .getByRole('button', { name: /^Show log of job/ })
      .first()
      .click();
    await page
      .getByTestId('job-status')
      .filter({ hasText: /succeeded|failed/ })
      .waitFor();
    await shot(page, 'job-log');
    await go('/orgs/acme/audit');
    await shot(page, 'audit');
    await page
      .getByRole('button', { name: /^Open event/ })
      .first()
      .click();
    await page.getByLabel('Event JSON').waitFor();
    await shot(page, 'audit-event');
    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
    for (const tab of ['members', 'roles', 'tokens', 'health']) {
      await go(`/orgs/acme/${tab}`);
      await shot(page, tab);
    }
    await page.setViewportSize({ width: 390, height: 844 });
    await go('/orgs/acme/projects/maps/secrets');
    await shot(page, 'mobile-project-secrets');
  } finally {
    await browser.close();
    server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
