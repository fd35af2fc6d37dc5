import type { Command } from 'commander';

import type { ApiClient } from '../api-client.js';
import { clientFor, globals, orgPath, projectPath, resolveOrg } from '../context.js';
import {
  createLogPrinter,
  output,
  printJson,
  printJsonLine,
  printTable,
  shown,
} from '../output.js';

interface Job {
  id: string;
  status: string;
  exitCode: number | null;
  error: string | null;
}

interface LogLine {
  seq: number;
  stream: string;
  text: string;
  at?: string;
}

interface LogPage {
  job: Job;
  finished: boolean;
  lines: LogLine[];
}

/** Where a followed log goes: the terminal (escaped, or raw) or NDJSON on stdout. */
interface LogSink {
  line(line: LogLine): void;
  end(job: Job | undefined): void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const RAW_HELP =
  "print the job's output exactly as it wrote it, escape sequences and all (colours; the job can then move the cursor, rewrite lines and set the title of your terminal); without it control characters are shown as \\x1b, \\r, …";

const NDJSON_HELP = `
With --json, standard output is NDJSON and nothing else: one JSON object a line. First one per
entry of the job's log, with the fields the logs API gives it (an entry is a chunk of output as
the job wrote it: its text may hold several lines or part of one, newlines included), then the
finished job:
  {"type":"log","seq":1,"stream":"stdout","text":"hello [REDACTED]\\n","at":"2025-…"}
  {"type":"log","seq":2,"stream":"stderr","text":"oops\\n","at":"2025-…"}
  {"type":"result","id":"…","status":"failed","exitCode":7,"error":"exited with code 7",…}
The texts are exact, so --raw changes nothing; jq -j 'select(.type == "log") | .text' gives the
output back as the job wrote it. Messages of hush itself ("job … queued", why a job failed) go
to stderr, and the exit code is still the job's.
`;

/** Prints log lines on stdout and stderr, as their stream says: escaped, or as they are (raw). */
function terminalSink(raw: boolean): LogSink {
  const printer = createLogPrinter(raw);
  return {
    line: (l) => printer.write(l.stream === 'stderr' ? 'stderr' : 'stdout', l.text),
    end: () => printer.end(),
  };
}

/** NDJSON on stdout: `{"type":"log",…}` per log entry, then `{"type":"result",…job}`. */
function ndjsonSink(): LogSink {
  return {
    line: (l) => printJsonLine({ type: 'log', ...l }),
    end: (job) => {
      if (job) printJsonLine({ type: 'result', ...job });
    },
  };
}

/** Sends a job's log to `sink` as it grows until the job finishes; returns the finished job. */
async function follow(client: ApiClient, org: string, id: string, sink: LogSink): Promise<Job> {
  let after = 0;
  let done: Job | undefined;
  try {
    for (;;) {
      const logs = `${orgPath(org)}/jobs/${encodeURIComponent(id)}/logs`;
      const page = await client.get<LogPage>(logs, { after });
      for (const line of page.lines) {
        sink.line(line);
        after = line.seq;
      }
      if (page.finished && page.lines.length === 0) {
        done = page.job;
        return done;
      }
      if (page.lines.length === 0) await sleep(100);
    }
  } finally {
    sink.end(done);
  }
}

function exitCodeOf(job: Job): number {
  if (job.status === 'succeeded') return 0;
  return job.exitCode && job.exitCode > 0 ? job.exitCode : 1;
}

/** `hush job …`. */
export function registerJobCommands(program: Command): void {
  const job = program
    .command('job')
    .description('Jobs: runs of a service or an ad-hoc command, with their secrets');
  job
    .command('run')
    .description(
      'Run a job, stream its (redacted) log and exit with its exit code (--json: NDJSON, see below)',
    )
    .requiredOption('--project <slug>', 'project')
    .option('--env <slug>', 'environment')
    .option('--service <name>', "run this service's command")
    .option('--timeout <duration>', 'override the timeout: seconds or 30s, 10m, 1h')
    .option('--raw', RAW_HELP)
    .option('--org <slug>', 'organization')
    .argument('[command...]', 'ad-hoc command after --')
    .addHelpText('after', NDJSON_HELP)
    .action(
      async (
        command: string[],
        opts: {
          project: string;
          env?: string;
          service?: string;
          timeout?: string;
          raw?: boolean;
          org?: string;
        },
        cmd: Command,
      ) => {
        const client = clientFor(cmd);
        const org = await resolveOrg(client, opts.org);
        const created = await client.post<Job>(`${orgPath(org)}/jobs`, {
          project: opts.project,
          env: opts.env,
          service: opts.service,
          command: command.length > 0 ? command : undefined,
          timeout: opts.timeout,
        });
        process.stderr.write(shown`job ${created.id} queued\n`);
        // Ctrl-C cancels the job; the log follows it to its end, and the exit is 130 (128 +
        // SIGINT), as for any command a shell interrupts.
        let interrupted = false;
        const onInterrupt = () => {
          interrupted = true;
          void client.post(`${orgPath(org)}/jobs/${created.id}/cancel`).catch(() => undefined);
        };
        process.once('SIGINT', onInterrupt);
        const json = !!globals(cmd).json;
        const sink = json ? ndjsonSink() : terminalSink(!!opts.raw);
        const done = await follow(client, org, created.id, sink);
        process.off('SIGINT', onInterrupt);
        if (done.status !== 'succeeded')
          process.stderr.write(
            shown`hush: job ${done.id} ${done.status}` +
              (done.error ? shown`: ${done.error}` : '') +
              '\n',
          );
        process.exitCode = interrupted ? 130 : exitCodeOf(done);
      },
    );
  job
    .command('list')
    .description('Jobs of a project, newest first')
    .requiredOption('--project <slug>', 'project')
    .option('--limit <n>', 'how many', '50')
    .option('--org <slug>', 'organization')
    .action(async (opts: { project: string; limit: string; org?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      const rows = await client.get<Record<string, unknown>[]>(
        `${projectPath(await resolveOrg(client, opts.org), opts.project)}/jobs`,
        { limit: opts.limit },
      );
      output(!!globals(cmd).json, rows, () =>
        printTable(rows, [
          'id',
          'kind',
          'status',
          'exitCode',
          'triggeredBy',
          'createdAt',
          'finishedAt',
        ]),
      );
    });
  job
    .command('show <id>')
    .description('A job: status, exit code, timings')
    .option('--org <slug>', 'organization')
    .action(async (id: string, opts: { org?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      const row = await client.get<Record<string, unknown>>(
        `${orgPath(await resolveOrg(client, opts.org))}/jobs/${encodeURIComponent(id)}`,
      );
      output(!!globals(cmd).json, row, () =>
        printTable([row], ['id', 'status', 'exitCode', 'error', 'startedAt', 'finishedAt']),
      );
    });
  job
    .command('logs <id>')
    .description(
      "A job's log (redacted); --follow waits for the end. --json: the entries as an array; with --follow, NDJSON as job run --json prints it",
    )
    .option('--follow', 'keep printing until the job finishes')
    .option('--raw', RAW_HELP)
    .option('--org <slug>', 'organization')
    .action(
      async (id: string, opts: { follow?: boolean; raw?: boolean; org?: string }, cmd: Command) => {
        const client = clientFor(cmd);
        const org = await resolveOrg(client, opts.org);
        const json = !!globals(cmd).json;
        if (opts.follow) {
          await follow(client, org, id, json ? ndjsonSink() : terminalSink(!!opts.raw));
          return;
        }
        const page = await client.get<LogPage>(
          `${orgPath(org)}/jobs/${encodeURIComponent(id)}/logs`,
        );
        if (json) printJson(page.lines);
        else {
          const sink = terminalSink(!!opts.raw);
          for (const line of page.lines) sink.line(line);
          sink.end(undefined);
        }
      },
    );
  job
    .command('cancel <id>')
    .description('Cancel a queued or running job; its process tree is killed')
    .option('--org <slug>', 'organization')
    .action(async (id: string, opts: { org?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      const row = await client.post<Job>(
        `${orgPath(await resolveOrg(client, opts.org))}/jobs/${encodeURIComponent(id)}/cancel`,
      );
      output(!!globals(cmd).json, row, () => process.stdout.write(shown`Cancelling job ${id}\n`));
    });
}
