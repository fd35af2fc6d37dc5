import type { Command } from 'commander';

import { type ApiClient, CliError } from '../api-client.js';
import { clientFor, collect, globals, orgPath, resolveOrg } from '../context.js';
import { output, readStdin, shown } from '../output.js';
import { type PgOpts, pgSettings, readFileArg } from './secret-input.js';
import {
  LEVEL_FLAGS,
  levelFields,
  levelLabel,
  type LevelOpts,
  ORG_LEVEL_HELP,
  requireLevel,
  secretNoun,
  type SecretRow,
  withLevel,
} from './secret-level.js';

const ADD_HELP = `
The level is always given: --org SLUG alone adds at the organization level (HUSH_ORG only
chooses the organization), --project P at the project, with --env E or --service S below it;
--assignee EMAIL makes it that member's at the level.
  echo -n "$KEY" | hush secret add env API_KEY --value-stdin --project maps --env prod
  hush secret add env LOG_LEVEL --value debug --plain --org acme
`;

const REFERENCE_HELP = `
References: \${NAME} is NAME in the job's context (its member's view), \${org.NAME} the
organization level's NAME, \${project.env.NAME} another environment's; $\${ is a literal \${.
A reference that cannot be built fails the job before it starts.
  hush secret add env DB_URL --value 'postgresql://app:\${DB_PASS}@\${DB_HOST}/gis' --project maps
`;

/** Posts new secrets at the level of `opts` and says, for each, what and where it is. */
async function post(client: ApiClient, cmd: Command, opts: LevelOpts, secret: unknown) {
  const org = await resolveOrg(client, opts.org);
  const created = await client.post<SecretRow[]>(`${orgPath(org)}/secrets`, {
    ...levelFields(opts),
    assignee: opts.assignee,
    secret,
  });
  output(!!globals(cmd).json, created.length === 1 ? created[0] : created, () => {
    for (const s of created) {
      const where = levelLabel(org, opts, s.assignee ?? undefined);
      const shownOnce =
        s.sensitivity === 'plain' || s.kind === 'alias' ? '' : ' Its value cannot be shown again.';
      process.stdout.write(
        shown`Added ${secretNoun(s)} ${s.name} at ${where} (id ${s.id}).` + `${shownOnce}\n`,
      );
    }
  });
  // Not an error (the name may come later, or live in another context), but said at once.
  for (const s of created)
    for (const w of s.warnings ?? []) process.stderr.write(shown`warning: ${s.name}: ${w}` + '\n');
}

/** `hush secret add env|file|pgservice`: always at a level the flags name. */
export function registerSecretAdd(secret: Command): void {
  const add = secret
    .command('add')
    .description(
      'Add a secret at a level: --org SLUG (organization), --project P, --project P --env E, --project P --service S',
    );

  withLevel(add.command('env <name>').description('An environment variable (capitals only)'))
    .option(
      '--value <value>',
      'the value (prefer --value-stdin: command lines leak into shell history)',
    )
    .option('--value-stdin', 'read the value from standard input')
    .option('--plain', 'a plain (readable) variable instead of a write-only secret')
    .option('--literal', 'keep ${…} in the value as text (default: references)')
    .option('--assignee <email>', 'assign to one member')
    .addHelpText('after', ADD_HELP + REFERENCE_HELP)
    .action(
      async (
        name: string,
        opts: LevelOpts & {
          value?: string;
          valueStdin?: boolean;
          plain?: boolean;
          literal?: boolean;
        },
        cmd: Command,
      ) => {
        requireLevel(cmd, opts, 'secret add env');
        if ((opts.value === undefined) === !opts.valueStdin)
          throw new CliError('give exactly one of --value or --value-stdin');
        const value = opts.value ?? (await readStdin());
        await post(clientFor(cmd), cmd, opts, {
          kind: 'env',
          name,
          value,
          sensitivity: opts.plain ? 'plain' : 'secret',
          ...(opts.literal ? { expand: false } : {}),
        });
      },
    );

  withLevel(
    add
      .command('alias <name> <target>')
      .description(
        'A variable that stands for another name of the context (an env secret or HUSH_PG_<SERVICE>_<FIELD>)',
      ),
  )
    .option('--assignee <email>', 'assign to one member')
    .addHelpText(
      'after',
      `${ADD_HELP}  hush secret add alias DATABASE_URL HUSH_PG_MAIN_URL --project maps\n`,
    )
    .action(async (name: string, target: string, opts: LevelOpts, cmd: Command) => {
      requireLevel(cmd, opts, 'secret add alias');
      await post(clientFor(cmd), cmd, opts, { kind: 'alias', name, target });
    });

  withLevel(
    add.command('file <name>').description('A file; in a job the variable NAME holds its path'),
  )
    .requiredOption('--file-name <name>', 'relative file name inside the job directory')
    .option('--from-file <path>', 'read the content from this file')
    .option('--value-stdin', 'read the content from standard input')
    .option('--plain', 'plain instead of secret')
    .option('--expand', 'read ${…} in the content as references (default: kept as text)')
    .option('--assignee <email>', 'assign to one member')
    .addHelpText('after', ADD_HELP)
    .action(
      async (
        name: string,
        opts: LevelOpts & {
          fileName: string;
          fromFile?: string;
          valueStdin?: boolean;
          plain?: boolean;
          expand?: boolean;
        },
        cmd: Command,
      ) => {
        requireLevel(cmd, opts, 'secret add file');
        if (!opts.fromFile === !opts.valueStdin)
          throw new CliError('give exactly one of --from-file or --value-stdin');
        const content = opts.fromFile ? readFileArg(opts.fromFile) : Buffer.from(await readStdin());
        await post(clientFor(cmd), cmd, opts, {
          kind: 'file',
          name,
          fileName: opts.fileName,
          contentBase64: content.toString('base64'),
          sensitivity: opts.plain ? 'plain' : 'secret',
          ...(opts.expand ? { expand: true } : {}),
        });
      },
    );

  add
    .command('pgservice')
    .description(
      'A PostgreSQL service: field by field, or every [section] of a pg_service.conf (--from-file)',
    )
    .option('--org <slug>', ORG_LEVEL_HELP)
    .option('--project <slug>', 'project level')
    .option('--env <slug>', 'with --project: environment level')
    .option('--at-service <name>', 'with --project: service level (--service names the pg service)')
    .option('--service <name>', 'pg service name (simple editor)')
    .option('--host <host>', 'database host')
    .option('--port <port>', 'database port')
    .option('--dbname <name>', 'database name')
    .option('--db-user <user>', 'database user')
    .option('--password-stdin', 'read the database password from standard input')
    .option('--sslmode <mode>', 'disable, allow, prefer, require, verify-ca or verify-full')
    .option('--set <key=value>', 'any other libpq keyword (repeatable)', collect, [])
    .option(
      '--from-file <path>',
      'a pg_service.conf: one secret per [section], all or none (advanced editor)',
    )
    .option(
      '--export-env',
      'jobs also get HUSH_PG_<SERVICE>_HOST, _PORT, _DBNAME, _USER, _PASSWORD, _SSLMODE and _URL',
    )
    .option('--assignee <email>', 'assign to one member')
    .addHelpText('after', ADD_HELP.replace(/--service S/g, '--at-service S'))
    .action(
      async (
        opts: PgOpts & LevelOpts & { atService?: string; exportEnv?: boolean },
        cmd: Command,
      ) => {
        const level: LevelOpts = {
          org: opts.org,
          project: opts.project,
          env: opts.env,
          service: opts.atService,
          assignee: opts.assignee,
        };
        requireLevel(
          cmd,
          level,
          'secret add pgservice',
          LEVEL_FLAGS.replace('--service S', '--at-service S'),
        );
        const exportEnv = opts.exportEnv ? { exportEnv: true } : {};
        if (opts.fromFile) {
          await post(clientFor(cmd), cmd, level, {
            kind: 'pgservice-conf',
            text: readFileArg(opts.fromFile).toString('utf8'),
            ...exportEnv,
          });
          return;
        }
        if (!opts.service) throw new CliError('give --service NAME (or --from-file FILE)');
        await post(clientFor(cmd), cmd, level, {
          kind: 'pgservice',
          name: opts.service,
          settings: await pgSettings(opts),
          ...exportEnv,
        });
      },
    );
}
