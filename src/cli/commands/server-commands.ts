import type { Command } from 'commander';

import { type App, createApp, keyFilePath } from '../../app.js';
import { CONFIG_SOURCES, type ConfigInput, loadConfig } from '../../config.js';
import { addKeyToFile, retireKeysInFile } from '../../crypto/key-file.js';
import type { RequestContext } from '../../domain/context.js';
import { emailSchema, passwordSchema, slugSchema } from '../../domain/validation.js';
import { buildServer } from '../../http/server.js';
import { createWorkerPool } from '../../jobs/worker.js';
import { createLogger } from '../../logger.js';
import { CliError } from '../api-client.js';
import { globals } from '../context.js';
import { output, promptHidden, readStdin } from '../output.js';

const CLI_CONTEXT: RequestContext = { actor: { kind: 'system' }, tool: 'cli', ip: null };

type ServerFlags = Partial<Record<keyof ConfigInput, string>>;

/** The configuration flags among a command's options (--json, --url and the like are not). */
function configFlags(opts: object): ServerFlags {
  return Object.fromEntries(Object.entries(opts).filter(([key]) => key in CONFIG_SOURCES));
}

function withServerOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'data directory (SQLite database, master key file)')
    .option('--database-url <url>', 'PostgreSQL URL instead of SQLite (HUSH_DATABASE_URL)')
    .option('--master-key-file <path>', 'master key file (default: DATA_DIR/master.key)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent');
}

function warnCreatedKey(app: App): void {
  if (app.createdKeyFile) {
    process.stderr.write(
      `WARNING: generated a new master key in ${app.createdKeyFile} (mode 0600). Back it up: without it no secret can be read.\n`,
    );
  }
}

async function withApp<T>(flags: ServerFlags, work: (app: App) => Promise<T>): Promise<T> {
  const app = await createApp(loadConfig(configFlags(flags)));
  try {
    warnCreatedKey(app);
    return await work(app);
  } finally {
    await app.close();
  }
}

/** `hush serve` and `hush admin …`: the commands that run Hush itself on this machine. */
export function registerServerCommands(program: Command): void {
  withServerOptions(
    program
      .command('serve')
      .description(
        'Serve the REST API on HOST:PORT (SQLite in --data-dir unless HUSH_DATABASE_URL is set)',
      )
      .option('--host <host>', 'listen address (default 127.0.0.1)')
      .option('--port <port>', 'listen port (default 8080)')
      .option('--session-ttl-hours <hours>', 'lifetime of a session (default 168)')
      .option('--body-limit-bytes <bytes>', 'largest request body (default 2 MiB)')
      .option('--trust-proxy <bool>', 'trust X-Forwarded-For: true or false')
      .option('--workers <n>', 'jobs run at once by in-process workers (default 2; 0: none)'),
  ).action(async (flags: ServerFlags) => {
    const config = loadConfig(configFlags(flags));
    const logger = createLogger(config.logLevel);
    const app = await createApp(config);
    warnCreatedKey(app);
    const server = await buildServer(config, { services: app.services, logger });
    const address = await server.listen({ host: config.host, port: config.port });
    const url = address.replace('[::1]', 'localhost');
    const pool =
      config.workers > 0
        ? createWorkerPool({
            database: app.database,
            audit: app.services.audit,
            resolve: app.services.resolve,
            dataDir: config.dataDir,
            concurrency: config.workers,
            logger,
          })
        : null;
    if (pool) {
      await pool.start();
      app.onJobQueued(pool.wake);
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
      logger.info({ signal }, 'shutting down');
      void server
        .close()
        .then(() => pool?.stop())
        .then(() => retention.stop())
        .then(() => app.close())
        .then(() => process.exit(0));
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });

  withServerOptions(
    program
      .command('worker')
      .description('Run jobs only, no API (PostgreSQL: any number of workers share the queue)')
      .option('--workers <n>', 'jobs run at once (default 2)'),
  ).action(async (flags: ServerFlags) => {
    const config = loadConfig(configFlags(flags));
    if (!config.databaseUrl) {
      throw new CliError(
        'hush worker needs PostgreSQL (HUSH_DATABASE_URL); with SQLite, hush serve runs the workers',
      );
    }
    const logger = createLogger(config.logLevel);
    const app = await createApp(config);
    const concurrency = Math.max(1, config.workers);
    const pool = createWorkerPool({
      database: app.database,
      audit: app.services.audit,
      resolve: app.services.resolve,
      dataDir: config.dataDir,
      concurrency,
      logger,
    });
    await pool.start();
    process.stdout.write(`Hush worker ${pool.workerId} runs up to ${concurrency} jobs at once\n`);
    const stop = () =>
      void pool
        .stop()
        .then(() => app.close())
        .then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

  const admin = program
    .command('admin')
    .description('Administration on the server machine (talks to the database directly)');
  withServerOptions(
    admin
      .command('bootstrap')
      .description('Create the first Owner and organization, offline')
      .requiredOption('--email <email>', 'e-mail of the first Owner')
      .requiredOption('--org <slug>', 'slug of the first organization')
      .option('--password-stdin', 'read the password from standard input'),
  ).action(
    async (
      opts: ServerFlags & { email: string; org: string; passwordStdin?: boolean },
      cmd: Command,
    ) => {
      const email = emailSchema.safeParse(opts.email);
      if (!email.success) throw new CliError('--email: must be an e-mail address');
      const org = slugSchema.safeParse(opts.org);
      if (!org.success)
        throw new CliError(`--org: ${org.error.issues[0]?.message ?? 'invalid slug'}`);
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
    },
  );

  withServerOptions(
    admin
      .command('migrate')
      .description('Apply pending database migrations (also done at every start)'),
  ).action(async (flags: ServerFlags, cmd: Command) => {
    await withApp(flags, (app) => {
      output(!!globals(cmd).json, { migrated: true, database: app.database.location }, () =>
        process.stdout.write(`Database is up to date (${app.database.location})\n`),
      );
      return Promise.resolve();
    });
  });

  withServerOptions(
    admin
      .command('rotate-master-key')
      .description(
        'Generate a new master key in the key file and re-wrap every data key with it (safe while serving)',
      )
      .option(
        '--retire-old',
        'remove the previous master keys from the file once every data key is re-wrapped',
      ),
  ).action(async (opts: ServerFlags & { retireOld?: boolean }, cmd: Command) => {
    const { retireOld, ...flags } = opts;
    const config = loadConfig(configFlags(flags));
    if (config.masterKey)
      throw new CliError(
        'HUSH_MASTER_KEY is set: rotate it in your key manager; this command rotates the key file',
      );
    const file = keyFilePath(config);
    const { newKeyId } = addKeyToFile(file);
    const count = await withApp(flags, async (app) => {
      let n = await app.services.keys.rewrapAll(app.database.db);
      // Data keys created by a running server just before it saw the new key: catch them too.
      if (retireOld) n = await app.services.keys.rewrapAll(app.database.db);
      return n;
    });
    if (retireOld) retireKeysInFile(file, [newKeyId]);
    output(
      !!globals(cmd).json,
      { masterKeyId: newKeyId, rewrapped: count, retired: !!retireOld },
      () =>
        process.stdout.write(
          `Master key ${newKeyId} is active; re-wrapped ${count} data keys${retireOld ? '; old keys removed' : ''}\n`,
        ),
    );
  });
}
