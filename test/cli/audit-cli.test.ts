import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openDatabase } from '../../src/store/db.js';
import { bootstrappedServerEnv, runHush, signedInCli, spawnServer } from '../helpers/cli.js';
import { DIALECTS, tempDir } from '../helpers/databases.js';

/** Runs `hush` under a pseudo-terminal (util-linux `script`), returning what the terminal showed. */
function runOnTerminal(args: string[], env: Record<string, string>): Promise<string> {
  const command = [process.execPath, path.resolve('bin/hush.js'), ...args]
    .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
    .join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(out))));
  });
}

describe.each(DIALECTS)('hush audit commands on %s', (dialect) => {
  let cliEnv: Record<string, string>;
  let server: Awaited<ReturnType<typeof spawnServer>>;
  let database: { dataDir: string; databaseUrl?: string };
  const hush = (args: string[]) => runHush(args, { env: cliEnv });

  beforeAll(async () => {
    const { db, serverEnv } = await bootstrappedServerEnv(dialect);
    database = db;
    server = await spawnServer(serverEnv);
    cliEnv = await signedInCli(server.url);
    await hush(['project', 'create', 'maps']);
    const add = await runHush(
      [
        ...['secret', 'add', 'pgservice', '--service', 'ninja', '--project', 'maps'],
        ...['--host', 'db', '--dbname', 'gis', '--db-user', 'ninja', '--password-stdin'],
      ],
      { env: cliEnv, stdin: 'pw-1\n' },
    );
    expect(add.code, add.stderr).toBe(0);
  }, 60_000);
  afterAll(() => server.stop());

  it('answers "who changed the ninja secret last week, and from which tool?" in one command', async () => {
    const r = await hush(['audit', 'list', '--target', 'ninja', '--since', '7d']);
    expect(r.code, r.stderr).toBe(0);
    const row = r.stdout.split('\n').find((l) => l.includes('CREATE'));
    expect(row).toMatch(/CREATE\s+secret\s+ninja\s+owner@example\.com\s+cli\s/);
  });

  it('exports JSON Lines to a 0600 file and CSV to standard output, with the same events', async () => {
    const file = path.join(tempDir('hush-export-'), 'audit.jsonl');
    const jsonl = await hush(['audit', 'export', '--format', 'jsonl', '-o', file]);
    expect(jsonl.code, jsonl.stderr).toBe(0);
    const events = fs
      .readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; eventType: string });
    expect(jsonl.stderr).toContain(`Exported ${events.length} events to ${file}`);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(events[0]?.seq).toBe(1);

    const csv = await hush(['audit', 'export', '--format', 'csv', '--event-type', 'CREATE']);
    expect(csv.code, csv.stderr).toBe(0);
    const rows = csv.stdout.trim().split('\r\n');
    expect(rows[0]).toMatch(/^id,timestamp,organization,seq,event_type,/);
    expect(rows.length - 1).toBe(events.filter((e) => e.eventType === 'CREATE').length);
    // Both exports were audited, from the CLI.
    const audited = await hush(['audit', 'list', '--event-type', 'EXPORT', '--json']);
    const exports = (JSON.parse(audited.stdout) as { events: { tool: string; details: unknown }[] })
      .events;
    expect(exports.map((e) => e.tool)).toEqual(['cli', 'cli']);
    expect(exports[0]?.details).toMatchObject({ format: 'csv', filters: { eventType: 'CREATE' } });
  });

  it('sets the audit retention in days, or forever, and refuses nonsense', async () => {
    const set = await hush(['org', 'retention', '90']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('older than 90 days will be purged');
    const shown = JSON.parse((await hush(['org', 'show', '--json'])).stdout) as {
      auditRetentionDays: number | null;
    };
    expect(shown.auditRetentionDays).toBe(90);
    const bad = await hush(['org', 'retention', '0']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('whole days from 1 to 36500');
    expect((await hush(['org', 'retention', 'forever'])).stdout).toContain('kept forever');
    const updates = await hush(['audit', 'list', '--target-type', 'settings', '--json']);
    const events = (JSON.parse(updates.stdout) as { events: { eventType: string; tool: string }[] })
      .events;
    expect(events.filter((e) => e.eventType === 'UPDATE').map((e) => e.tool)).toEqual([
      'cli',
      'cli',
    ]);
  });

  it('prints a signed checkpoint and proves the log still holds it with verify --checkpoint', async () => {
    const dir = tempDir('hush-checkpoint-');
    const file = path.join(dir, 'checkpoint.json');
    const saved = await hush(['audit', 'checkpoint', '-o', file]);
    expect(saved.code, saved.stderr).toBe(0);
    const checkpoint = JSON.parse(fs.readFileSync(file, 'utf8')) as { seq: number; hash: string };
    expect(saved.stderr).toContain(`Checkpoint of seq ${checkpoint.seq} written to ${file}`);
    const printed = await hush(['audit', 'checkpoint']);
    expect(printed.code, printed.stderr).toBe(0);
    expect(JSON.parse(printed.stdout)).toMatchObject({
      format: 'hush-audit-checkpoint/1',
      organization: 'acme',
      signature: expect.stringMatching(/^[0-9a-f]{64}$/),
    });

    await hush(['project', 'create', 'later']);
    const verified = await hush(['audit', 'verify', '--checkpoint', file]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(
      new RegExp(
        `^Chain intact: \\d+ events verified; checkpoint seq ${checkpoint.seq} is in the log`,
      ),
    );
    const json = await hush(['audit', 'verify', '--checkpoint', file, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: true,
      checkpoint: { seq: checkpoint.seq, status: 'present' },
    });

    const forged = path.join(dir, 'forged.json');
    fs.writeFileSync(forged, JSON.stringify({ ...checkpoint, hash: 'a'.repeat(64) }));
    const refused = await hush(['audit', 'verify', '--checkpoint', forged]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('AUDIT_CHECKPOINT_INVALID');
    expect(refused.stderr).toContain('signature does not match');

    fs.writeFileSync(forged, 'not json');
    const unreadable = await hush(['audit', 'verify', '--checkpoint', forged]);
    expect(unreadable.code).not.toBe(0);
    expect(unreadable.stderr).toContain('is not JSON');
  });

  it('draws a progress bar on a terminal and refuses an unknown format', async () => {
    const file = path.join(tempDir('hush-export-'), 'audit.csv');
    const shown = await runOnTerminal(['audit', 'export', '--format', 'csv', '-o', file], cliEnv);
    expect(shown).toMatch(/\[#{30}\] \d+ \/ \d+ events 100%/);
    const bad = await hush(['audit', 'export', '--format', 'xml']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--format must be jsonl or csv');
  });

  // Last: it breaks the chain.
  it('exits 1 naming the first missing seq when the newest events were deleted', async () => {
    const opened = openDatabase(database);
    const db = opened.db;
    let last: number;
    try {
      const head = await db
        .selectFrom('auditHeads')
        .innerJoin('organizations', 'organizations.id', 'auditHeads.orgId')
        .select(['auditHeads.orgId', 'auditHeads.seq'])
        .where('organizations.slug', '=', 'acme')
        .executeTakeFirstOrThrow();
      last = Number(head.seq);
      await db
        .deleteFrom('auditEvents')
        .where('orgId', '=', head.orgId)
        .where('seq', '>=', last - 1)
        .execute();
    } finally {
      await opened.close();
    }
    const r = await hush(['audit', 'verify']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`Chain BROKEN at seq ${last - 1}: tail-truncated\n`);
    const refused = await hush(['audit', 'checkpoint']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('AUDIT_CHAIN_BROKEN');
  });
});
