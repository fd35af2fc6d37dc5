import type { Command } from 'commander';

import type { ServerFlags } from './server-actions.js';

// The actions import the server only when they run, so `hush run` and the other REST commands
// start without loading Fastify, Kysely, the drivers and the schemas (hundreds of milliseconds).
const actions = () => import('./server-actions.js');
const keyActions = () => import('./key-actions.js');

function withServerOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'data directory (SQLite database, master key file)')
    .option('--database-url <url>', 'PostgreSQL URL instead of SQLite (HUSH_DATABASE_URL)')
    .option(
      '--sqlite-sync <mode>',
      'SQLite: normal (commits survive a crash of Hush) or full (also power loss; slower writes)',
    )
    .option('--master-key-file <path>', 'master key file (default: DATA_DIR/master.key)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent')
    .option(
      '--log-format <format>',
      'pretty (for people), json (for log collectors) or auto (default: pretty on a terminal)',
    );
}

/** The options of the commands that run jobs: how their sandbox isolates them. */
function withJobOptions(cmd: Command): Command {
  return cmd
    .option('--job-sandbox <mode>', 'bwrap (default: every job in a bubblewrap sandbox) or none')
    .option('--job-uid <uid>', 'uid a job runs as in its sandbox (default 65534)')
    .option('--job-gid <gid>', 'gid a job runs as in its sandbox (default 65534)')
    .option('--job-network <mode>', "a job's network: shared (default) or none")
    .option('--job-mounts <dirs>', 'comma-separated host directories a job sees read-only');
}

/** `hush serve` and `hush admin …`: the commands that run Hush itself on this machine. */
export function registerServerCommands(program: Command): void {
  withServerOptions(
    withJobOptions(program.command('serve'))
      .description(
        'Serve the REST API on HOST:PORT (SQLite in --data-dir unless HUSH_DATABASE_URL is set)',
      )
      .option('--host <host>', 'listen address (default 127.0.0.1)')
      .option('--port <port>', 'listen port (default 8080)')
      .option('--session-ttl-hours <hours>', 'lifetime of a session (default 168)')
      .option('--body-limit-bytes <bytes>', 'largest request body (default 2 MiB)')
      .option('--trust-proxy <bool>', 'trust X-Forwarded-For and -Proto: true or false')
      .option(
        '--cookie-secure <mode>',
        'Secure session cookie: auto (default: when the request is HTTPS), true or false',
      )
      .option(
        '--sign-in-ip-limit <n>',
        'sign-in requests per minute from one client address (default 30; 0: no limit)',
      )
      .option(
        '--org-creation <who>',
        'who may create organizations: admins-only (default) or anyone',
      )
      .option('--metrics <on|off>', 'serve Prometheus metrics at GET /metrics (default off)')
      .option(
        '--shutdown-grace-seconds <s>',
        'on SIGTERM, how long running jobs may go on before they are cancelled (default 30)',
      )
      .option('--workers <n>', 'jobs run at once by in-process workers (default 2; 0: none)'),
  ).action(async (flags: ServerFlags) => (await actions()).serve(flags));

  withServerOptions(
    withJobOptions(program.command('worker'))
      .description('Run jobs only, no API (PostgreSQL: any number of workers share the queue)')
      .option('--workers <n>', 'jobs run at once (default 2)')
      .option(
        '--shutdown-grace-seconds <s>',
        'on SIGTERM, how long running jobs may go on before they are cancelled (default 30)',
      ),
  ).action(async (flags: ServerFlags) => (await actions()).worker(flags));

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
    ) => (await actions()).bootstrap(opts, cmd),
  );

  withServerOptions(
    admin
      .command('migrate')
      .description('Apply pending database migrations (also done at every start)'),
  ).action(async (flags: ServerFlags, cmd: Command) => (await actions()).migrate(flags, cmd));

  withServerOptions(
    admin
      .command('rotate-master-key')
      .description(
        'One node: a new master key in the key file, activated, every data key re-wrapped with it (safe while serving; several nodes: hush admin master-key)',
      )
      .option(
        '--retire-old',
        'remove the previous master keys from the file once every data key is re-wrapped',
      ),
  ).action(async (opts: ServerFlags & { retireOld?: boolean }, cmd: Command) =>
    (await keyActions()).rotateMasterKey(opts, cmd),
  );

  const masterKey = admin
    .command('master-key')
    .description(
      'Rotate the master key across nodes in phases: generate or add (stage on every node), activate, retire',
    );
  masterKey
    .command('generate')
    .description(
      'Print a new master key as id:base64 (for HUSH_MASTER_KEY*, or add --stdin); nothing is stored',
    )
    .action(async (_opts: unknown, cmd: Command) => (await keyActions()).generateKey(cmd));
  withServerOptions(
    masterKey
      .command('add')
      .description(
        "Stage a master key in this node's key file: a new one, or id:base64 from standard input (--stdin)",
      )
      .option('--stdin', 'read the key to add as id:base64 from standard input'),
  ).action(async (opts: ServerFlags & { stdin?: boolean }, cmd: Command) =>
    (await keyActions()).addKey(opts, cmd),
  );
  withServerOptions(
    masterKey
      .command('list')
      .description(
        'The master keys of the database: state, what each wraps, and which this node holds',
      ),
  ).action(async (flags: ServerFlags, cmd: Command) => (await keyActions()).listKeys(flags, cmd));
  withServerOptions(
    masterKey
      .command('activate <id>')
      .description(
        'Make ID the key every node wraps with (each must hold it first) and re-wrap every data key with it',
      ),
  ).action(async (id: string, flags: ServerFlags, cmd: Command) =>
    (await keyActions()).activateKey(id, flags, cmd),
  );
  withServerOptions(
    masterKey
      .command('retire <id>')
      .description(
        "Retire ID: no node wraps with it again, what it still wraps is re-wrapped, and it leaves this node's key file",
      ),
  ).action(async (id: string, flags: ServerFlags, cmd: Command) =>
    (await keyActions()).retireKey(id, flags, cmd),
  );

  withServerOptions(
    admin
      .command('rotate-data-keys')
      .description(
        'A new data key for each organization and every value re-encrypted with it, online and resumable (safe while serving)',
      )
      .option('--org <slug>', 'only this organization')
      .option('--batch-size <n>', 'values re-encrypted per transaction (default 500)'),
  ).action(async (opts: ServerFlags & { org?: string; batchSize?: string }, cmd: Command) =>
    (await keyActions()).rotateDataKeys(opts, cmd),
  );

  withServerOptions(
    admin
      .command('backup <out>')
      .description(
        'SQLite: copy the database to a new file OUT, consistently, while servers keep running (PostgreSQL: says how with pg_dump); the master key is not in it',
      ),
  ).action(async (out: string, flags: ServerFlags, cmd: Command) =>
    (await actions()).backup(out, flags, cmd),
  );

  withServerOptions(
    admin
      .command('restore <file>')
      .description(
        'SQLite: make a backup the database of --data-dir (which must have none: stop the servers and move it away first)',
      ),
  ).action(async (file: string, flags: ServerFlags, cmd: Command) =>
    (await actions()).restore(file, flags, cmd),
  );
}
