/**
 * What `hush serve`, `hush worker` and `hush admin …` do. Loaded only when one of them runs:
 * these pull in the whole server (Fastify, Kysely, the drivers, pino, the zod schemas), which a
 * REST command must not pay for at start.
 */
import fs from 'node:fs';
import path from 'node:path';

import SqliteDatabase from 'better-sqlite3';
import type { Command } from 'commander';
import type { FastifyInstance } from 'fastify';

import { type App, createApp } from '../../app.js';
import { CONFIG_SOURCES, type ConfigInput, type HushConfig, loadConfig } from '../../config.js';
import type { RequestContext } from '../../domain/context.js';
import { emailSchema, passwordSchema, slugSchema } from '../../domain/validation.js';
import { buildServer } from '../../http/server.js';
import { createRotationScheduler } from '../../jobs/rotation-scheduler.js';
import { createWorkerPool } from '../../jobs/worker.js';
import { createLogger } from '../../logger.js';
import { openDatabase } from '../../store/db.js';
import { CliError } from '../api-client.js';
import { globals } from '../context.js';
import { output, promptHidden, readStdin } from '../output.js';

/** The actor of `hush admin …`: the system, by the CLI. */
export const CLI_CONTEXT: RequestContext = { actor: { kind: 'system' }, tool: 'cli', ip: null };

/** A server command's options: configuration flags and the command's own. */
export type ServerFlags = Partial<Record<keyof ConfigInput, string>>;

/** The configuration flags among a command's options (--json, --url and the like are not). */
export function configFlags(opts: object): ServerFlags {
  return Object.fromEntries(Object.entries(opts).filter(([key]) => key in CONFIG_SOURCES));
}

function warnCreatedKey(app: App): void {
  if (app.createdKeyFile) {
    process.stderr.write(
      `WARNING: generated a new master key in ${app.createdKeyFile} (mode 0600). Back it up: without it no secret can be read.\n`,
    );
  }
}

/** Opens the app of the node's configuration for one admin command, and closes it. */
export async function withApp<T>(flags: ServerFlags, work: (app: App) => Promise<T>): Promise<T> {
  const app = await createApp(loadConfig(configFlags(flags)));
  try {
    warnCreatedKey(app);
    return await work(app);
  } finally {
    await app.close();
  }
}

/** Listens on the configured address; a port in use says how to pick another. */
async function listen(server: FastifyInstance, config: HushConfig): Promise<string> {
  try {
    return await server.listen({ host: config.host, port: config.port });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new CliError(
        `port ${config.port} on ${config.host} is already in use (another hush serve?); pick another with --port N or HUSH_PORT=N (0 picks a free one)`,
      );
    }
    if (code === 'EADDRNOTAVAIL' || code === 'EACCES') {
      throw new CliError(
        `cannot listen on ${config.host}:${config.port} (${code}); set --host/HUSH_HOST and --port/HUSH_PORT`,
      );
    }
    throw error;
  }
}

/** Past the grace period, cancelled jobs and open requests (a long poll) get this long to end. */
const FORCE_EXIT_AFTER_GRACE_MS = 10_000;

/** Exits even if something still holds the process (a long poll, a stuck connection). */
function forceExitAfter(ms: number, logger: { warn(msg: string): void }): void {
  setTimeout(() => {
    logger.warn('shutdown took too long: exiting');
    process.exit(1);
  }, ms).unref();
}

/** `hush serve`: the REST API, the console and the in-process workers until SIGINT/SIGTERM. */
export async function serve(flags: ServerFlags): Promise<void> {
  const config = loadConfig(configFlags(flags));
  const logger = createLogger(config.logLevel, undefined, config.logFormat);
  const app = await createApp(config);
  warnCreatedKey(app);
  const server = await buildServer(config, { services: app.services, logger });
  const address = await listen(server, config).catch(async (error: unknown) => {
    await server.close();
    await app.close();
    throw error;
  });
  const url = address.replace('[::1]', 'localhost');
  const pool =
    config.workers > 0
      ? createWorkerPool({
          database: app.database,
          audit: app.services.audit,
          resolve: app.services.resolve,
          sandbox: app.services.sandbox,
          dataDir: config.dataDir,
          concurrency: config.workers,
          logger,
        })
      : null;
  // Rotations are scheduled where jobs run: the nodes that run tenants' work do this work too.
  const rotations = pool
    ? createRotationScheduler({ rotations: app.services.rotations, logger })
    : null;
  if (pool) {
    await pool.start();
    app.onJobQueued(pool.wake);
    app.services.health.runJobs();
    rotations?.start();
    const sandbox = app.services.sandbox.status();
    if (sandbox && !sandbox.available) process.stderr.write(`${sandbox.reason}\n`);
  }
  const retention = app.services.auditRetention.start(logger);
  process.stdout.write(
    `Hush is serving ${url} (${app.database.dialect}: ${app.database.location})\n`,
  );
  const setupToken = await app.services.auth.issueSetupToken();
  if (setupToken) {
    process.stdout.write(
      `First-run setup: no account exists yet. Open ${url}/setup?token=${setupToken}\n` +
        `or run: hush admin bootstrap --email YOU --org SLUG (with the server's data directory)\n`,
    );
  }
  const stop = (signal: string) => {
    const graceMs = config.shutdownGraceSeconds * 1000;
    logger.info({ signal, graceSeconds: config.shutdownGraceSeconds }, 'shutting down');
    // Not ready at once; in-flight requests finish while running jobs get their grace period.
    app.services.health.drain();
    forceExitAfter(graceMs + FORCE_EXIT_AFTER_GRACE_MS, logger);
    void Promise.all([server.close(), pool?.stop(graceMs), rotations?.stop()])
      .then(() => retention.stop())
      .then(() => app.close())
      .then(() => process.exit(0));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

/** `hush worker`: runs queued jobs from PostgreSQL until SIGINT/SIGTERM. */
export async function worker(flags: ServerFlags): Promise<void> {
  const config = loadConfig(configFlags(flags));
  if (!config.databaseUrl) {
    throw new CliError(
      'hush worker needs PostgreSQL (HUSH_DATABASE_URL); with SQLite, hush serve runs the workers',
    );
  }
  const logger = createLogger(config.logLevel, undefined, config.logFormat);
  const app = await createApp(config);
  const concurrency = Math.max(1, config.workers);
  const pool = createWorkerPool({
    database: app.database,
    audit: app.services.audit,
    resolve: app.services.resolve,
    sandbox: app.services.sandbox,
    dataDir: config.dataDir,
    concurrency,
    logger,
  });
  await pool.start();
  app.services.health.runJobs();
  const sandbox = app.services.sandbox.status();
  if (sandbox && !sandbox.available) {
    await app.close();
    throw new CliError(sandbox.reason ?? 'jobs cannot run here');
  }
  const rotations = createRotationScheduler({ rotations: app.services.rotations, logger });
  rotations.start();
  process.stdout.write(`Hush worker ${pool.workerId} runs up to ${concurrency} jobs at once\n`);
  const stop = () => {
    const graceMs = config.shutdownGraceSeconds * 1000;
    app.services.health.drain();
    forceExitAfter(graceMs + FORCE_EXIT_AFTER_GRACE_MS, logger);
    void Promise.all([pool.stop(graceMs), rotations.stop()])
      .then(() => app.close())
      .then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** `hush admin bootstrap`: the first Owner and organization, straight into the database. */
export async function bootstrap(
  opts: ServerFlags & { email: string; org: string; passwordStdin?: boolean },
  cmd: Command,
): Promise<void> {
  const email = emailSchema.safeParse(opts.email);
  if (!email.success) throw new CliError('--email: must be an e-mail address');
  const org = slugSchema.safeParse(opts.org);
  if (!org.success) throw new CliError(`--org: ${org.error.issues[0]?.message ?? 'invalid slug'}`);
  const password = opts.passwordStdin
    ? await readStdin()
    : await promptHidden('Password for the Owner: ');
  const pw = passwordSchema.safeParse(password);
  if (!pw.success) throw new CliError(`password: ${pw.error.issues[0]?.message ?? 'invalid'}`);
  const { passwordStdin: _p, email: _e, org: _o, ...flags } = opts;
  const result = await withApp(flags, (app) =>
    app.services.setup.bootstrap(CLI_CONTEXT, {
      email: email.data,
      password: pw.data,
      org: org.data,
    }),
  );
  output(!!globals(cmd).json, result, () =>
    process.stdout.write(
      `Created Owner ${result.user.email} of organization ${result.organization.slug}\n`,
    ),
  );
}

/** `hush admin migrate`: applies pending migrations (opening the app does it). */
export async function migrate(flags: ServerFlags, cmd: Command): Promise<void> {
  await withApp(flags, (app) => {
    output(!!globals(cmd).json, { migrated: true, database: app.database.location }, () =>
      process.stdout.write(`Database is up to date (${app.database.location})\n`),
    );
    return Promise.resolve();
  });
}

const MASTER_KEY_REMINDER =
  'The master key is not in it: back up the key file (or HUSH_MASTER_KEY) separately, and never next to the database';

/** `hush admin backup OUT`: a consistent copy of the SQLite database, safe while serving. */
export async function backup(out: string, flags: ServerFlags, cmd: Command): Promise<void> {
  const config = loadConfig(configFlags(flags));
  if (config.databaseUrl) {
    throw new CliError(
      `Hush on PostgreSQL is backed up with PostgreSQL's own tools: pg_dump --format=custom --file=${out} "$HUSH_DATABASE_URL" (restore with pg_restore into an empty database), or your provider's snapshots. ${MASTER_KEY_REMINDER}.`,
    );
  }
  const target = path.resolve(out);
  if (fs.existsSync(target)) throw new CliError(`${target} exists: give a new file`);
  const source = path.join(config.dataDir, 'hush.db');
  if (!fs.existsSync(source)) throw new CliError(`no database at ${source} (see --data-dir)`);
  const database = openDatabase({ dataDir: config.dataDir, databaseUrl: undefined });
  try {
    await database.backup!(target);
  } finally {
    await database.close();
  }
  const bytes = fs.statSync(target).size;
  output(!!globals(cmd).json, { backup: target, bytes, source: database.location }, () =>
    process.stdout.write(
      `Backed up ${database.location} to ${target} (${bytes} bytes, mode 0600).\n${MASTER_KEY_REMINDER}.\n`,
    ),
  );
}

/**
 * `hush admin restore FILE`: a backup becomes the data directory's database. Refuses a file that
 * is not a sound Hush database, and a data directory that has one already (stop every server
 * and move it away first: restoring under a running server would corrupt both).
 */
export async function restore(file: string, flags: ServerFlags, cmd: Command): Promise<void> {
  const config = loadConfig(configFlags(flags));
  if (config.databaseUrl)
    throw new CliError('on PostgreSQL, restore a pg_dump with pg_restore into an empty database');
  const source = path.resolve(file);
  if (!fs.existsSync(source)) throw new CliError(`${source} does not exist`);
  const target = path.join(config.dataDir, 'hush.db');
  for (const suffix of ['', '-wal', '-shm']) {
    if (fs.existsSync(target + suffix) && fs.statSync(target + suffix).size > 0)
      throw new CliError(
        `${target}${suffix} exists: stop every hush serve and hush worker on it and move ${target}* away, then restore`,
      );
  }
  const problem = checkBackup(source);
  if (problem) throw new CliError(`${source} is not a sound Hush backup: ${problem}`);
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  fs.copyFileSync(source, target);
  fs.chmodSync(target, 0o600);
  // Opening it runs any migration a newer Hush has, as a start would.
  await withApp(flags, () => Promise.resolve());
  output(!!globals(cmd).json, { restored: target, from: source }, () =>
    process.stdout.write(
      `Restored ${source} to ${target}. Start Hush with the master key of the backed-up server.\n`,
    ),
  );
}

/** Why a file is not a usable backup (not SQLite, damaged, not Hush's), or null. */
function checkBackup(file: string): string | null {
  let sqlite: InstanceType<typeof SqliteDatabase> | undefined;
  try {
    sqlite = new SqliteDatabase(file, { readonly: true, fileMustExist: true });
    const check = sqlite.pragma('integrity_check', { simple: true });
    if (check !== 'ok') return `integrity check: ${String(check)}`;
    const table = sqlite
      .prepare("select name from sqlite_master where type = 'table' and name = 'hush_migrations'")
      .get();
    return table ? null : 'it holds no Hush tables';
  } catch (error) {
    return (error as Error).message;
  } finally {
    sqlite?.close();
  }
}
