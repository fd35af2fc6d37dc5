import type { Command } from 'commander';

import { CliError } from '../api-client.js';
import { clientFor, globals, orgPath, resolveOrg } from '../context.js';
import { output, printJson, printTable } from '../output.js';

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

/** `hush audit …`. */
export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('The audit log');
  audit
    .command('list')
    .description('Events, newest first (e.g. --target ninja --since 7d)')
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
    .option('--limit <n>', 'events per page', '50')
    .option('--cursor <cursor>', 'page cursor printed by a previous call')
    .option('--org <slug>', 'organization')
    .action(async (opts: Record<string, string | undefined>, cmd: Command) => {
      const client = clientFor(cmd);
      const page = await client.get<Page>(`${orgPath(await resolveOrg(client, opts.org))}/audit`, {
        since: opts.since && parseTime(opts.since),
        until: opts.until && parseTime(opts.until),
        targetType: opts.targetType,
        target: opts.target,
        eventType: opts.eventType,
        actor: opts.actor,
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
        if (page.nextCursor) process.stderr.write(`older: --cursor ${page.nextCursor}\n`);
        if (page.prevCursor) process.stderr.write(`newer: --cursor ${page.prevCursor}\n`);
      });
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
    .description('Recompute the hash chain; exits 1 and names the first broken link if any')
    .option('--org <slug>', 'organization')
    .action(async (opts: { org?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      const verdict = await client.get<{
        ok: boolean;
        checked: number;
        brokenAt?: { id: string; seq: number; reason: string };
      }>(`${orgPath(await resolveOrg(client, opts.org))}/audit/verify`);
      output(!!globals(cmd).json, verdict, () =>
        process.stdout.write(
          verdict.ok
            ? `Chain intact: ${verdict.checked} events verified\n`
            : `Chain BROKEN at event ${verdict.brokenAt?.id} (seq ${verdict.brokenAt?.seq}): ${verdict.brokenAt?.reason}\n`,
        ),
      );
      if (!verdict.ok) process.exitCode = 1;
    });
}
