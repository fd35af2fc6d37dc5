import fs from 'node:fs';

import type { Command } from 'commander';

import { type ApiClient, CliError } from '../api-client.js';
import { clientFor, collect, globals, orgPath, resolveOrg } from '../context.js';
import { output, printJson, printTable, readStdin, shown } from '../output.js';

type Row = Record<string, unknown>;
interface Shadow {
  id?: string;
  level: string;
  assignee: string | null;
  version: number;
}

interface LevelOpts {
  org?: string;
  project?: string;
  env?: string;
  service?: string;
  assignee?: string;
}

interface PgOpts {
  service?: string;
  host?: string;
  port?: string;
  dbname?: string;
  dbUser?: string;
  passwordStdin?: boolean;
  sslmode?: string;
  set: string[];
  fromFile?: string;
}

function withLevel(cmd: Command): Command {
  return cmd
    .option('--org <slug>', 'organization (default: your only one); alone: organization level')
    .option('--project <slug>', 'project level')
    .option('--env <slug>', 'with --project: environment level')
    .option('--service <name>', 'with --project: service level');
}

function levelOf(opts: LevelOpts) {
  return { project: opts.project, env: opts.env, service: opts.service };
}

function levelQuery(opts: LevelOpts): Record<string, string | undefined> {
  return levelOf(opts);
}

async function pgSettings(opts: PgOpts): Promise<Record<string, string>> {
  const settings: Record<string, string> = {};
  if (opts.host) settings.host = opts.host;
  if (opts.port) settings.port = opts.port;
  if (opts.dbname) settings.dbname = opts.dbname;
  if (opts.dbUser) settings.user = opts.dbUser;
  if (opts.sslmode) settings.sslmode = opts.sslmode;
  for (const pair of opts.set) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError('--set: use key=value');
    settings[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  if (opts.passwordStdin) settings.password = await readStdin();
  return settings;
}

function readFileArg(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch {
    throw new CliError(`cannot read ${file}`);
  }
}

async function post(client: ApiClient, cmd: Command, opts: LevelOpts, secret: unknown) {
  const org = await resolveOrg(client, opts.org);
  const created = await client.post<Row[]>(`${orgPath(org)}/secrets`, {
    ...levelOf(opts),
    assignee: opts.assignee,
    secret,
  });
  output(!!globals(cmd).json, created.length === 1 ? created[0] : created, () => {
    for (const s of created)
      process.stdout.write(
        shown`Added ${String(s.kind)} secret ${String(s.name)} (id ${String(s.id)}). Its value cannot be shown again.\n`,
      );
  });
}

/** `hush secret …`. */
export function registerSecretCommands(program: Command): void {
  const secret = program
    .command('secret')
    .description('Secrets: env variables, files and pg_service connections');
  const add = secret
    .command('add')
    .description(
      'Add a secret at a level (--org, --project, --project --env, --project --service)',
    );

  withLevel(add.command('env <name>').description('An environment variable (capitals only)'))
    .option(
      '--value <value>',
      'the value (prefer --value-stdin: command lines leak into shell history)',
    )
    .option('--value-stdin', 'read the value from standard input')
    .option('--plain', 'a plain (readable) variable instead of a write-only secret')
    .option('--assignee <email>', 'assign to one member')
    .action(
      async (
        name: string,
        opts: LevelOpts & { value?: string; valueStdin?: boolean; plain?: boolean },
        cmd: Command,
      ) => {
        if ((opts.value === undefined) === !opts.valueStdin)
          throw new CliError('give exactly one of --value or --value-stdin');
        const value = opts.value ?? (await readStdin());
        await post(clientFor(cmd), cmd, opts, {
          kind: 'env',
          name,
          value,
          sensitivity: opts.plain ? 'plain' : 'secret',
        });
      },
    );

  withLevel(
    add.command('file <name>').description('A file; in a job the variable NAME holds its path'),
  )
    .requiredOption('--file-name <name>', 'relative file name inside the job directory')
    .option('--from-file <path>', 'read the content from this file')
    .option('--value-stdin', 'read the content from standard input')
    .option('--plain', 'plain instead of secret')
    .option('--assignee <email>', 'assign to one member')
    .action(
      async (
        name: string,
        opts: LevelOpts & {
          fileName: string;
          fromFile?: string;
          valueStdin?: boolean;
          plain?: boolean;
        },
        cmd: Command,
      ) => {
        if (!opts.fromFile === !opts.valueStdin)
          throw new CliError('give exactly one of --from-file or --value-stdin');
        const content = opts.fromFile ? readFileArg(opts.fromFile) : Buffer.from(await readStdin());
        await post(clientFor(cmd), cmd, opts, {
          kind: 'file',
          name,
          fileName: opts.fileName,
          contentBase64: content.toString('base64'),
          sensitivity: opts.plain ? 'plain' : 'secret',
        });
      },
    );

  add
    .command('pgservice')
    .description(
      'A PostgreSQL service: field by field, or every [section] of a pg_service.conf (--from-file)',
    )
    .option('--org <slug>', 'organization; alone: organization level')
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
    .option('--assignee <email>', 'assign to one member')
    .action(async (opts: PgOpts & LevelOpts & { atService?: string }, cmd: Command) => {
      const level: LevelOpts = {
        org: opts.org,
        project: opts.project,
        env: opts.env,
        service: opts.atService,
        assignee: opts.assignee,
      };
      if (opts.fromFile) {
        await post(clientFor(cmd), cmd, level, {
          kind: 'pgservice-conf',
          text: readFileArg(opts.fromFile).toString('utf8'),
        });
        return;
      }
      if (!opts.service) throw new CliError('give --service NAME (or --from-file FILE)');
      await post(clientFor(cmd), cmd, level, {
        kind: 'pgservice',
        name: opts.service,
        settings: await pgSettings(opts),
      });
    });

  withLevel(
    secret
      .command('list')
      .description('Secrets at one level: name, kind, assignee, preview, version'),
  ).action(async (opts: LevelOpts, cmd: Command) => {
    const client = clientFor(cmd);
    const rows = await client.get<Row[]>(
      `${orgPath(await resolveOrg(client, opts.org))}/secrets`,
      levelQuery(opts),
    );
    output(!!globals(cmd).json, rows, () =>
      printTable(rows, [
        'id',
        'name',
        'kind',
        'level',
        'assignee',
        'preview',
        'version',
        'updatedAt',
      ]),
    );
  });

  secret
    .command('rm <id>')
    .description('Remove a secret with all its versions')
    .option('--org <slug>', 'organization')
    .action(async (id: string, opts: LevelOpts, cmd: Command) => {
      const client = clientFor(cmd);
      await client.delete(
        `${orgPath(await resolveOrg(client, opts.org))}/secrets/${encodeURIComponent(id)}`,
      );
      output(!!globals(cmd).json, { removed: id }, () =>
        process.stdout.write(shown`Removed secret ${id}\n`),
      );
    });

  secret
    .command('rotate <id>')
    .description(
      'Store a new version (env: --value-stdin; file: --from-file or --value-stdin; pgservice: fields or --from-file)',
    )
    .option('--org <slug>', 'organization')
    .option('--value <value>', 'new env value')
    .option('--value-stdin', 'read the new value (or file content) from standard input')
    .option('--from-file <path>', 'file content, or a pg_service.conf with one section')
    .option('--host <host>', 'pgservice: host')
    .option('--port <port>', 'pgservice: port')
    .option('--dbname <name>', 'pgservice: database')
    .option('--db-user <user>', 'pgservice: user')
    .option('--password-stdin', 'pgservice: read the password from standard input')
    .option('--sslmode <mode>', 'pgservice: SSL mode')
    .option('--set <key=value>', 'pgservice: any other keyword (repeatable)', collect, [])
    .action(
      async (
        id: string,
        opts: PgOpts & LevelOpts & { value?: string; valueStdin?: boolean },
        cmd: Command,
      ) => {
        const client = clientFor(cmd);
        const base = `${orgPath(await resolveOrg(client, opts.org))}/secrets/${encodeURIComponent(id)}`;
        const current = await client.get<{ kind: string }>(base);
        let body: unknown;
        if (current.kind === 'env') {
          if ((opts.value === undefined) === !opts.valueStdin)
            throw new CliError('give exactly one of --value or --value-stdin');
          body = { kind: 'env', value: opts.value ?? (await readStdin()) };
        } else if (current.kind === 'file') {
          if (!opts.fromFile === !opts.valueStdin)
            throw new CliError('give exactly one of --from-file or --value-stdin');
          const content = opts.fromFile
            ? readFileArg(opts.fromFile)
            : Buffer.from(await readStdin());
          body = { kind: 'file', contentBase64: content.toString('base64') };
        } else {
          body = { kind: 'pgservice', settings: await pgSettings(opts) };
        }
        const rotated = await client.post<Row>(`${base}/rotate`, body);
        output(!!globals(cmd).json, rotated, () =>
          process.stdout.write(
            shown`Rotated ${String(rotated.name)} to version ${String(rotated.version)}\n`,
          ),
        );
      },
    );

  secret
    .command('history <id>')
    .description('Versions of a secret: who, when, which tool')
    .option('--org <slug>', 'organization')
    .action(async (id: string, opts: LevelOpts, cmd: Command) => {
      const client = clientFor(cmd);
      const rows = await client.get<Row[]>(
        `${orgPath(await resolveOrg(client, opts.org))}/secrets/${encodeURIComponent(id)}/history`,
      );
      output(!!globals(cmd).json, rows, () =>
        printTable(rows, [
          'version',
          'current',
          'source',
          'fromVersion',
          'preview',
          'createdAt',
          'createdBy',
          'tool',
        ]),
      );
    });

  secret
    .command('rollback <id>')
    .description('Make version N current again (as a new version)')
    .requiredOption('--version <n>', 'the version to restore')
    .option('--org <slug>', 'organization')
    .action(async (id: string, opts: LevelOpts & { version: string }, cmd: Command) => {
      const version = Number(opts.version);
      if (!Number.isInteger(version) || version < 1)
        throw new CliError('--version: a positive whole number');
      const client = clientFor(cmd);
      const row = await client.post<Row>(
        `${orgPath(await resolveOrg(client, opts.org))}/secrets/${encodeURIComponent(id)}/rollback`,
        { version },
      );
      output(!!globals(cmd).json, row, () =>
        process.stdout.write(
          shown`Restored version ${version} as version ${String(row.version)}\n`,
        ),
      );
    });

  secret
    .command('resolve')
    .description(
      'Explain which secret wins for each name in a context, and what it shadows (values masked)',
    )
    .requiredOption('--project <slug>', 'project')
    .option('--env <slug>', 'environment')
    .option('--service <name>', 'service (resolves through its environment)')
    .option('--member <email>', 'whose view (default: yours)')
    .option('--org <slug>', 'organization')
    .action(async (opts: LevelOpts & { member?: string; project: string }, cmd: Command) => {
      const client = clientFor(cmd);
      const rows = await client.get<(Row & { shadows: Shadow[] })[]>(
        `${orgPath(await resolveOrg(client, opts.org))}/secrets/resolve`,
        {
          project: opts.project,
          env: opts.env,
          service: opts.service,
          member: opts.member,
        },
      );
      if (globals(cmd).json) {
        printJson(
          rows.map(({ id: _id, ...rest }) => ({
            ...rest,
            shadows: rest.shadows.map(({ id: _s, ...sh }) => sh),
          })),
        );
        return;
      }
      printTable(
        rows.map((r) => ({
          ...r,
          shadows: r.shadows
            .map((s) => `${s.level}${s.assignee ? `+${s.assignee}` : ''} v${s.version}`)
            .join(', '),
        })),
        ['name', 'kind', 'level', 'assignee', 'version', 'preview', 'shadows'],
      );
    });
}
