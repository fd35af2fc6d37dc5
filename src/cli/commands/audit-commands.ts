import fs from 'node:fs';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import type { Command } from 'commander';

import { CliError } from '../api-client.js';
import { clientFor, globals, orgPath, resolveOrg } from '../context.js';
import { output, printJson, printTable, shown } from '../output.js';

interface Page {
  events: Record<string, unknown>[];
  nextCursor: string | null;
  prevCursor: string | null;
}

/** Turns `7d`, `12h`, `30m` or an ISO time into an ISO time. */
export function parseTime(value: string): string {
  const rel = /^(\d+)(m|h|d)$/.exec(value);
  if (rel?.[1] && rel[2]) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 'm' | 'h' | 'd'];
    return new Date(Date.now() - Number(rel[1]) * unit).toISOString();
  }
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new CliError(`not a time: ${value} (use ISO-8601 or 30m, 12h, 7d)`);
  return new Date(t).toISOString();
}

/** The list/export filters (SPEC §8), shared by `audit list` and `audit export`. */
function withFilters(command: Command): Command {
  return command
    .option('--since <time>', 'from this time (ISO-8601, or 30m, 12h, 7d ago)')
    .option('--until <time>', 'before this time')
    .option(
      '--target-type <type>',
      'organization, member, role, project, environment, service, secret, job, token, invitation, settings',
    )
    .option('--target <name>', 'target name')
    .option(
      '--event-type <type>',
      'CREATE, UPDATE, DELETE, ROTATE, ROLLBACK, TRIGGER_JOB, CANCEL_JOB, ACCESS, LOGIN, LOGIN_FAILED, DENIED, EXPORT',
    )
    .option('--actor <actor>', 'e-mail or token:NAME')
    .option('--org <slug>', 'organization');
}

function filterQuery(opts: Record<string, string | undefined>) {
  return {
    since: opts.since && parseTime(opts.since),
    until: opts.until && parseTime(opts.until),
    targetType: opts.targetType,
    target: opts.target,
    eventType: opts.eventType,
    actor: opts.actor,
  };
}

/** `hush audit …`. */
export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('The audit log');
  withFilters(
    audit.command('list').description('Events, newest first (e.g. --target ninja --since 7d)'),
  )
    .option('--limit <n>', 'events per page', '50')
    .option('--cursor <cursor>', 'page cursor printed by a previous call')
    .action(async (opts: Record<string, string | undefined>, cmd: Command) => {
      const client = clientFor(cmd);
      const page = await client.get<Page>(`${orgPath(await resolveOrg(client, opts.org))}/audit`, {
        ...filterQuery(opts),
        limit: opts.limit,
        cursor: opts.cursor,
      });
      output(!!globals(cmd).json, page, () => {
        printTable(page.events, [
          'timestamp',
          'eventType',
          'targetType',
          'targetName',
          'actor',
          'tool',
          'change',
        ]);
        if (page.nextCursor) process.stderr.write(shown`older: --cursor ${page.nextCursor}\n`);
        if (page.prevCursor) process.stderr.write(shown`newer: --cursor ${page.prevCursor}\n`);
      });
    });
  withFilters(
    audit
      .command('export')
      .description(
        'Stream the filtered events, oldest first, as JSON Lines or CSV (the export is audited)',
      ),
  )
    .requiredOption('--format <format>', 'jsonl or csv')
    .option('-o, --output <file>', 'write to this file (mode 0600) instead of standard output')
    .action(async (opts: Record<string, string | undefined>, cmd: Command) => {
      if (opts.format !== 'jsonl' && opts.format !== 'csv')
        throw new CliError(`--format must be jsonl or csv, not ${opts.format}`);
      const client = clientFor(cmd);
      const response = await client.stream(
        `${orgPath(await resolveOrg(client, opts.org))}/audit/export`,
        { ...filterQuery(opts), format: opts.format },
      );
      const expected = Number(response.headers['x-hush-event-count'] ?? NaN);
      const written = await exportTo(response.body, opts.output, expected, opts.format === 'csv');
      if (Number.isFinite(expected) && written < expected) {
        throw new CliError(
          `export interrupted: ${written} of ${expected} events received${opts.output ? ` (${opts.output} is incomplete)` : ''}`,
        );
      }
      if (opts.output) process.stderr.write(shown`Exported ${written} events to ${opts.output}\n`);
    });
  audit
    .command('show <id>')
    .description("An event's full JSON")
    .option('--org <slug>', 'organization')
    .action(async (id: string, opts: { org?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      printJson(
        await client.get(
          `${orgPath(await resolveOrg(client, opts.org))}/audit/${encodeURIComponent(id)}`,
        ),
      );
    });
  audit
    .command('verify')
    .description(
      'Recompute the keyed hash chain up to its head; exits 1 and names the first broken link if any',
    )
    .option('--org <slug>', 'organization')
    .option(
      '--checkpoint <file>',
      'also prove the log still holds the event of a checkpoint saved by "hush audit checkpoint"',
    )
    .action(async (opts: { org?: string; checkpoint?: string }, cmd: Command) => {
      const checkpoint =
        opts.checkpoint === undefined ? undefined : readCheckpoint(opts.checkpoint);
      const client = clientFor(cmd);
      const verdict = await client.get<Verdict>(
        `${orgPath(await resolveOrg(client, opts.org))}/audit/verify`,
        { checkpoint },
      );
      output(!!globals(cmd).json, verdict, () => process.stdout.write(describeVerdict(verdict)));
      if (!verdict.ok) process.exitCode = 1;
    });
  audit
    .command('checkpoint')
    .description(
      'Verify the chain and print its signed head as JSON, to keep outside Hush (later: verify --checkpoint FILE)',
    )
    .option('--org <slug>', 'organization')
    .option('-o, --output <file>', 'write to this file instead of standard output')
    .action(async (opts: { org?: string; output?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      const checkpoint = await client.get<{ seq: number }>(
        `${orgPath(await resolveOrg(client, opts.org))}/audit/checkpoint`,
      );
      if (!opts.output) return printJson(checkpoint);
      fs.writeFileSync(opts.output, `${JSON.stringify(checkpoint, null, 2)}\n`);
      process.stderr.write(shown`Checkpoint of seq ${checkpoint.seq} written to ${opts.output}\n`);
    });
}

interface Verdict {
  ok: boolean;
  checked: number;
  brokenAt?: { id: string | null; seq: number; reason: string };
  checkpoint?: { seq: number; status: 'present' | 'purged' };
}

/** A checkpoint file's JSON text, compacted (it travels in the query string). */
function readCheckpoint(file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read checkpoint ${file}: ${(error as NodeJS.ErrnoException).code}`);
  }
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    throw new CliError(
      `checkpoint ${file} is not JSON (save the output of "hush audit checkpoint")`,
    );
  }
}

function describeVerdict(v: Verdict): string {
  if (!v.ok) {
    const at = v.brokenAt;
    const where = at?.id ? shown`event ${at.id} (seq ${at.seq})` : shown`seq ${at?.seq}`;
    return `Chain BROKEN at ${where}: ${shown`${at?.reason}`}\n`;
  }
  const found = v.checkpoint
    ? v.checkpoint.status === 'present'
      ? shown`; checkpoint seq ${v.checkpoint.seq} is in the log`
      : shown`; checkpoint seq ${v.checkpoint.seq} was purged by retention (before the kept chain)`
    : '';
  return `Chain intact: ${v.checked} events verified${found}\n`;
}

/**
 * Writes the export to `file` (or standard output), counting records as they pass; on a terminal
 * stderr shows a progress bar against the count the server announced. Returns the records seen.
 */
async function exportTo(
  body: Readable,
  file: string | undefined,
  expected: number,
  csv: boolean,
): Promise<number> {
  const out = file
    ? fs.createWriteStream(file, { mode: 0o600 })
    : (process.stdout as NodeJS.WritableStream);
  const progress = process.stderr.isTTY ? createProgress(expected) : undefined;
  let lines = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines += 1;
      progress?.update(Math.max(0, csv ? lines - 1 : lines));
      done(null, chunk);
    },
  });
  await pipeline(body, counter, out);
  const records = Math.max(0, csv ? lines - 1 : lines);
  progress?.done(records);
  return records;
}

/** A one-line progress bar on stderr, redrawn at most every 100 ms. */
function createProgress(total: number) {
  let last = 0;
  const draw = (n: number) => {
    const width = 30;
    const known = Number.isFinite(total) && total > 0;
    const ratio = known ? Math.min(1, n / total) : 0;
    const bar = known ? `[${'#'.repeat(Math.round(ratio * width)).padEnd(width, ' ')}] ` : '';
    const of = known ? ` / ${total.toLocaleString('en-US')}` : '';
    const pct = known ? ` ${Math.floor(ratio * 100)}%` : '';
    process.stderr.write(`\r${bar}${n.toLocaleString('en-US')}${of} events${pct}`);
  };
  return {
    update(n: number) {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      draw(n);
    },
    done(n: number) {
      draw(n);
      process.stderr.write('\n');
    },
  };
}
