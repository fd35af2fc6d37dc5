import type { Kysely } from 'kysely';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { invisibleCharacters } from '../../src/domain/validation.js';
import { openDatabase } from '../../src/store/db.js';
import type { Schema } from '../../src/store/schema.js';
import { launchChromium } from '../helpers/browser.js';
import { bootstrappedServerEnv, CLI_OWNER, spawnServer } from '../helpers/cli.js';
import { DIALECTS } from '../helpers/databases.js';
import { track } from '../helpers/resources.js';

// Look-alike names in the console, end to end: a real `hush serve` (built dist/ and
// dist/console), real Chromium, and rows made before the server refused invisible characters
// (written straight into the database, as an older Hush stored them).

const ZERO_WIDTH = 'owner\u200B@example.com';
const OVERRIDE = 'owner@\u202Emoc.elpmaxe';
const ARGV = ['/bin/sh', '-c', 'echo \u202Etxt.exe'];
const SPOOF_PASSWORD = 'spoof password 1';

/** The browser's side of an element, as far as these checks read it (no DOM types here). */
interface Shown {
  innerText: string;
  ownerDocument: { defaultView: { getComputedStyle(el: unknown): { unicodeBidi: string } } };
}
/** What a person reads in an element (rendered text, not the DOM's characters). */
const shown = (l: Locator) => l.evaluate((el) => (el as unknown as Shown).innerText);
const bidiOf = (l: Locator) =>
  l.evaluate((el) => {
    const e = el as unknown as Shown;
    return e.ownerDocument.defaultView.getComputedStyle(e).unicodeBidi;
  });

// Named apart so that the server's tsconfig (no JSX, no DOM) does not compile the console.
const CONSOLE_UI = '../../console/src/ui.js';

describe('the console and the server refuse and show the same characters', () => {
  it('flags exactly the code points the server refuses in names, emoji sequences aside', async () => {
    // The console's modules expect a browser: the router listens to `popstate` when loaded.
    vi.stubGlobal('window', { addEventListener: () => undefined });
    const { visibleParts } = (await import(/* @vite-ignore */ CONSOLE_UI)) as {
      visibleParts: (text: string) => { text: string; invisible: boolean }[];
    };
    const flagged = (text: string) => visibleParts(text).some((p) => p.invisible);
    const disagree: string[] = [];
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const ch = String.fromCodePoint(cp);
      if (flagged(ch) !== invisibleCharacters(ch).length > 0) disagree.push(cp.toString(16));
    }
    expect(disagree).toEqual([]);
    for (const text of [
      '\u2601\uFE0F',
      '\u{1F469}\u{1F3FD}\u200D\u{1F4BB}',
      'a\u200Db',
      'x\uFE0F',
    ]) {
      expect(flagged(text), JSON.stringify(text)).toBe(invisibleCharacters(text).length > 0);
    }
    vi.unstubAllGlobals();
  });
});

describe.each(DIALECTS)('look-alike names in the web console on %s', (dialect) => {
  let server: Awaited<ReturnType<typeof spawnServer>>;
  let chromium: Awaited<ReturnType<typeof launchChromium>>;
  let browser: Browser;
  let page: Page;
  let db: Kysely<Schema>;
  let closeDatabase: (() => Promise<void>) | undefined;

  const call = async (method: string, path: string, token?: string, body?: unknown) => {
    const res = await fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  const signIn = async (email: string, password: string) =>
    (await call('POST', '/auth/login', undefined, { email, password })).token as string;

  /** A member who joined before the rule, under an e-mail the server now refuses. */
  const legacyMember = async (owner: string, placeholder: string, email: string) => {
    const inv = await call('POST', '/orgs/acme/invitations', owner, {
      email: placeholder,
      role: 'admin',
    });
    await call('POST', '/invitations/accept', undefined, {
      token: inv.token,
      password: SPOOF_PASSWORD,
    });
    await db.updateTable('users').set({ email }).where('email', '=', placeholder).execute();
  };

  beforeAll(async () => {
    const { db: where, serverEnv } = await bootstrappedServerEnv(dialect);
    server = await spawnServer(serverEnv);
    const opened = openDatabase(where);
    const handle = track(`database (${dialect})`, () => opened.close());
    closeDatabase = () => handle.close();
    db = opened.db;

    const owner = await signIn(CLI_OWNER.email, CLI_OWNER.password);
    await call('POST', '/orgs/acme/projects', owner, { slug: 'maps' });
    await legacyMember(owner, 'spoof1@example.com', ZERO_WIDTH);
    await legacyMember(owner, 'spoof2@example.com', OVERRIDE);
    // The impostor still signs in (rows are not migrated) and acts: the audit log names them.
    const impostor = await signIn(OVERRIDE, SPOOF_PASSWORD);
    await call('POST', '/orgs/acme/projects', impostor, { slug: 'evil' });

    await call('POST', '/orgs/acme/secrets', owner, {
      project: 'maps',
      secret: { kind: 'file', name: 'INVOICE', fileName: 'invoicefdp.exe', contentBase64: 'eA==' },
    });
    await db
      .updateTable('secrets')
      .set({ fileName: 'invoice\u202Efdp.exe' })
      .where('name', '=', 'INVOICE')
      .execute();
    // An argv is code, not a name: accepted as it is, and isolated where it is shown.
    const job = await call('POST', '/orgs/acme/jobs', owner, { project: 'maps', command: ARGV });
    for (let i = 0; i < 200; i++) {
      const now = await call('GET', `/orgs/acme/jobs/${job.id}`, owner);
      if (['succeeded', 'failed', 'cancelled', 'timed_out'].includes(now.status)) break;
      await new Promise((r) => setTimeout(r, 50));
    }

    chromium = await launchChromium();
    browser = chromium.browser;
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(`${server.url}/signin`);
    await page.getByLabel('E-mail').fill(CLI_OWNER.email);
    await page.getByLabel('Password').fill(CLI_OWNER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/orgs\/acme$/);
  }, 90_000);

  afterAll(async () => {
    await chromium?.close();
    await server?.stop();
    await closeDatabase?.();
  });

  it('shows three members apart: invisible characters written out, each e-mail in an isolating <bdi>', async () => {
    await page.goto(`${server.url}/orgs/acme/members`);
    const cells = page.getByRole('region', { name: 'Members' }).locator('tbody td:first-child');
    await expect.poll(() => cells.count()).toBe(3);
    const read: string[] = [];
    for (const cell of await cells.all()) {
      read.push(await shown(cell));
      expect(await bidiOf(cell)).toBe('isolate');
      expect(await bidiOf(cell.locator('bdi'))).toBe('isolate');
    }
    expect(read.sort()).toEqual(
      ['owner@example.com', 'owner\\u200b@example.com', 'owner@\\u202emoc.elpmaxe'].sort(),
    );
    // The characters themselves never reach the page's text: nothing is hidden or reordered.
    expect(read.join('')).not.toMatch(/[\u200B\u202E]/);
    expect(await page.locator('.invisible-char').count()).toBe(2);
  });

  it('keeps a job row in order when its argv holds U+202E', async () => {
    await page.goto(`${server.url}/orgs/acme/projects/maps/jobs`);
    const row = page.getByRole('region', { name: 'Job history' }).locator('tbody tr').first();
    await expect.poll(() => row.count()).toBe(1);
    const command = row.locator('td').nth(3);
    const holder = command.locator('bdi');
    expect(await bidiOf(holder)).toBe('isolate');
    expect(await bidiOf(command.locator('code'))).toBe('isolate');
    expect(await shown(command)).toBe(`/bin/sh -c 'echo \\u202etxt.exe'`);
    // The cells after the command stay where they are, reading left to right.
    const by = row.locator('td').nth(4);
    expect(await shown(by)).toBe(CLI_OWNER.email);
    const x = async (l: Locator) => (await l.boundingBox())!.x;
    const xs = [await x(command), await x(by), await x(row.locator('td').nth(5))];
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
    expect(await shown(row)).not.toContain('\u202E');
  });

  it('shows a file name with U+202E as what it is, not as "invoiceexe.pdf"', async () => {
    await page.goto(`${server.url}/orgs/acme/projects/maps/secrets`);
    const row = page.locator('tr[data-secret="INVOICE"]');
    await expect.poll(() => row.count()).toBe(1);
    const name = row.locator('td').first();
    expect(await shown(name)).toBe('INVOICE → invoice\\u202efdp.exe');
    expect(await bidiOf(name.locator('bdi'))).toBe('isolate');
  });

  it("names the impostor, not the Owner, as the actor of the impostor's actions", async () => {
    await page.goto(`${server.url}/orgs/acme/audit`);
    const row = page
      .getByRole('region', { name: 'Audit events' })
      .locator('tbody tr', { hasText: 'evil' })
      .first();
    await expect.poll(() => row.count()).toBe(1);
    const actor = row.locator('td').nth(3);
    expect(await shown(actor)).toBe('owner@\\u202emoc.elpmaxe');
    expect(await bidiOf(actor.locator('bdi'))).toBe('isolate');
  });
});
