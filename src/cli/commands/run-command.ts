import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { type Command, Option } from 'commander';

import { JOB_PATH, materialize, type MaterialSecret } from '../../jobs/materialize.js';
import type { ApiClient } from '../api-client.js';
import { clientFor, orgPath, resolveOrg, usageError } from '../context.js';
import { serveOnPipe } from '../mount-pipe.js';
import { shown } from '../output.js';

interface RunOpts {
  project: string;
  env?: string;
  service?: string;
  preserveEnv?: string;
  cleanEnv?: boolean;
  org?: string;
  watch?: boolean;
  grace: string;
  mount?: string;
  format: 'dotenv' | 'json';
  pipe?: boolean;
  maxReads: string;
}

const RUN_HELP = `
Values reach CMD in its environment; file secrets and pg_service.conf in a private temporary
directory, removed when CMD exits.
--watch keeps one request open to the server (a long poll on the runtime read, answered when
the resolved set changes) and restarts CMD with the new values: SIGTERM, then SIGKILL after
--grace seconds. hush exits when CMD exits on its own, with its exit code; a failed poll
leaves CMD running and is retried.
--mount PATH writes the env values to PATH (mode 0600; dotenv, or --format json) instead of
CMD's environment, sets HUSH_MOUNT=PATH, and removes the file when CMD exits or is killed
(not when hush itself is killed with SIGKILL). PATH must not exist.
--pipe makes PATH a named pipe instead (mode 0600): each open for reading gets the values
from hush's memory, so they never rest on a disk; --max-reads N stops after N readers.
  hush run --project maps --env prod -- ./server
  hush run --watch --mount secrets.env -- ./server --config secrets.env
`;

/**
 * How long one long poll waits for a change before asking again (the server caps it at 120):
 * under the idle timeouts proxies and load balancers commonly keep (30–60 s).
 */
const WAIT_SECONDS = 25;

/** The longest pause between retries of a failed long poll, in milliseconds. */
const MAX_RETRY_MS = 30_000;

/** One runtime read: the set and its ETag, or (304) nothing changed since `etag`. */
async function readSet(
  client: ApiClient,
  org: string,
  opts: RunOpts,
  etag?: string,
): Promise<{ etag: string; secrets: MaterialSecret[] } | undefined> {
  const answer = await client.getConditional<MaterialSecret[]>(
    `${orgPath(org)}/runtime/secrets`,
    { project: opts.project, env: opts.env, service: opts.service },
    etag ? { 'if-none-match': etag, prefer: `wait=${WAIT_SECONDS}` } : {},
  );
  if (answer.status === 304 || !answer.body) return undefined;
  return { etag: answer.etag ?? '', secrets: answer.body };
}

/** The env values as the mount file holds them. */
async function mountText(secrets: MaterialSecret[], format: 'dotenv' | 'json'): Promise<string> {
  const values = secrets.flatMap((s) =>
    s.kind === 'env' ? [{ name: s.name, value: s.value ?? '' }] : [],
  );
  const { formatExport } = await import('../export-format.js');
  return formatExport(values, format);
}

/** Writes the mount file: 0600 from its first byte, replaced atomically. */
function writeMount(file: string, text: string) {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
  fs.renameSync(tmp, file);
}

/** The environment CMD starts with: yours (or a clean one) plus the resolved values. */
function environmentOf(opts: RunOpts, dir: string, secrets: MaterialSecret[]) {
  const mounted = opts.mount !== undefined;
  // With --mount, env values go to the file only; files and pg_service.conf stay in `dir`.
  const { env: resolved } = materialize(
    dir,
    mounted ? secrets.filter((s) => s.kind !== 'env') : secrets,
    {},
  );
  const preserved = new Set((opts.preserveEnv ?? '').split(',').filter(Boolean));
  const base: Record<string, string | undefined> = opts.cleanEnv
    ? { PATH: JOB_PATH, LANG: 'C.UTF-8', HOME: dir }
    : { ...process.env };
  for (const [k, v] of Object.entries(resolved))
    if (!(preserved.has(k) && base[k] !== undefined)) base[k] = v;
  if (mounted) base.HUSH_MOUNT = path.resolve(opts.mount!);
  return base;
}

/** The exit code of a finished child, shells' way: 128 + the signal's number when killed. */
function exitCode(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('error', (e: NodeJS.ErrnoException) => {
      process.stderr.write(shown`hush: cannot run ${child.spawnfile}: ${e.code ?? e.message}\n`);
      resolve(127);
    });
    child.once('exit', (c, signal) =>
      resolve(c ?? 128 + (signal ? os.constants.signals[signal] : 0)),
    );
  });
}

/** Stops a child: SIGTERM, then SIGKILL once `graceMs` have passed. */
async function stop(child: ChildProcess, exited: Promise<number>, graceMs: number) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** `hush run`: CMD with the resolved values, optionally restarted as they change. */
export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description(
      'Run CMD here with the resolved secrets (needs a token that may read values: a service token)',
    )
    .requiredOption('--project <slug>', 'project (default: the directory, see hush setup)')
    .option('--env <slug>', 'environment')
    .option('--service <name>', 'service')
    .option(
      '--preserve-env <names>',
      'comma-separated variables of yours that secrets must not override',
    )
    .option('--clean-env', "start from a job's clean environment instead of yours")
    .option('--watch', 'restart CMD when the resolved values change')
    .option('--grace <seconds>', 'with --watch: time CMD has after SIGTERM before SIGKILL', '10')
    .option('--mount <path>', "write the env values to this file instead of CMD's environment")
    .addOption(
      new Option('--format <format>', 'with --mount: the file format')
        .choices(['dotenv', 'json'])
        .default('dotenv'),
    )
    .option('--pipe', 'with --mount: a named pipe instead of a file (nothing on disk)')
    .option('--max-reads <n>', 'with --pipe: serve this many readers, then no more (0: any)', '0')
    .option('--org <slug>', 'organization')
    .argument('<command...>', 'command and arguments, after --')
    .addHelpText('after', RUN_HELP)
    .action(async (command: string[], opts: RunOpts, cmd: Command) => {
      const graceMs = Number(opts.grace) * 1000;
      if (!Number.isFinite(graceMs) || graceMs < 0) usageError(cmd, '--grace: a number of seconds');
      if (opts.mount && fs.existsSync(opts.mount))
        usageError(cmd, `--mount: ${opts.mount} exists; hush writes and removes a file of its own`);
      const maxReads = Number(opts.maxReads);
      if (!Number.isInteger(maxReads) || maxReads < 0)
        usageError(cmd, '--max-reads: a whole number (0: no limit)');
      if ((opts.pipe || maxReads > 0) && !opts.mount)
        usageError(cmd, '--pipe and --max-reads go with --mount PATH');
      if (maxReads > 0 && !opts.pipe) usageError(cmd, '--max-reads goes with --pipe');
      const client = clientFor(cmd);
      const org = await resolveOrg(client, opts.org);
      let current = (await readSet(client, org, opts))!;
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hush-run-'));
      let mountedText = '';
      const pipe =
        opts.pipe && opts.mount ? serveOnPipe(opts.mount, () => mountedText, maxReads) : undefined;
      const cleanup = () => {
        fs.rmSync(dir, { recursive: true, force: true });
        if (opts.mount) fs.rmSync(opts.mount, { force: true });
      };
      process.once('exit', cleanup);
      const [file, ...args] = command;
      let child: ChildProcess;
      let exited: Promise<number>;
      const start = async () => {
        if (opts.mount) {
          mountedText = await mountText(current.secrets, opts.format);
          if (!pipe) writeMount(opts.mount, mountedText);
        }
        child = spawn(file ?? 'true', args, {
          stdio: 'inherit',
          env: environmentOf(opts, dir, current.secrets),
        });
        exited = exitCode(child);
      };
      try {
        await start();
      } catch (error) {
        // A writer blocked on the pipe's open would keep hush alive after the error.
        await pipe?.stop();
        throw error;
      }
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
        process.on(signal, () => child.kill(signal));
      let code: number;
      if (!opts.watch) {
        code = await exited!;
      } else {
        // One long poll at a time; a changed set restarts CMD, CMD's own exit ends hush. A failed
        // poll (the server restarting, a proxy's timeout, a revoked token) leaves CMD running
        // with the values it has and is retried, less often each time.
        let retryMs = 0;
        let pauseMs = 0;
        for (;;) {
          const ended = exited!.then((c) => ({ ended: c }));
          const asked = Date.now();
          const changed = (async () => {
            const wait = Math.max(retryMs, pauseMs);
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
            return readSet(client, org, opts, current.etag).then(
              (next) => ({ next, failed: undefined }),
              (error: unknown) => ({ next: undefined, failed: error as Error }),
            );
          })();
          const first = await Promise.race([ended, changed]);
          if ('ended' in first) {
            code = first.ended;
            break;
          }
          if (first.failed) {
            retryMs = Math.min(MAX_RETRY_MS, Math.max(1000, retryMs * 2));
            process.stderr.write(
              shown`hush: cannot watch the secrets (${first.failed.message}); CMD keeps running, trying again in ${retryMs / 1000} s\n`,
            );
            continue;
          }
          retryMs = 0;
          // A server (or proxy) that answers at once instead of waiting is asked once a second.
          pauseMs = !first.next && Date.now() - asked < 1000 ? 1000 : 0;
          if (!first.next || first.next.etag === current.etag) continue;
          current = first.next;
          process.stderr.write('hush: the secrets changed; restarting\n');
          await stop(child!, exited!, graceMs);
          try {
            await start();
          } catch (error) {
            await pipe?.stop();
            throw error;
          }
        }
      }
      await pipe?.stop();
      cleanup();
      // Exits here, CMD's code as its own: a long poll still open must not keep hush alive.
      process.exit(code);
    });
}
