import type { Command } from 'commander';

import { type ApiClient, CliError } from '../api-client.js';
import { clientFor, collect, globals, orgPath, resolveOrg } from '../context.js';
import { output, printJson, printTable, shown } from '../output.js';
import { registerSecretAdd } from './secret-add-command.js';
import { registerSecretValueCommands } from './secret-bulk-commands.js';
import { ROTATE_HELP, rotateBody, type RotateOpts } from './secret-input.js';
import {
  levelFields,
  type LevelOpts,
  locateSecret,
  secretNoun,
  type SecretRow,
  withLevel,
} from './secret-level.js';

type Row = Record<string, unknown>;

/** What a resolved name is built from, as the resolve table's last column shows it. */
function builtFromText(row: Row): string {
  if (typeof row.error === 'string') return 'ERROR (below)';
  const from = (row.builtFrom ?? []) as {
    name: string;
    level: string;
    version: number;
    context?: string;
    depth: number;
  }[];
  return from
    .filter((f) => f.depth === 1)
    .map((f) => `${f.context ? `${f.context}:` : ''}${f.name} (${f.level} v${f.version})`)
    .join(', ');
}
interface Shadow {
  id?: string;
  level: string;
  assignee: string | null;
  version: number;
}

const ADDRESS_HELP = `
SECRET is an id, or a name with its level: the one secret of that name exactly at that level
(--org SLUG alone: the organization level; --assignee EMAIL: the one assigned to that member).
When a variable and a pg service share the name, write pgservice:NAME (or env:NAME, file:NAME).
`;

const PREVIEW_WIDTH = 60;

/** A plain value for the preview column, on one line and cut to a table's width. */
function plainPreview(value: string): string {
  return value.length > PREVIEW_WIDTH ? `${value.slice(0, PREVIEW_WIDTH - 1)}…` : value;
}

/** Adds the level flags and --assignee to a command that addresses one secret. */
function addressed(cmd: Command): Command {
  return withLevel(cmd)
    .option('--assignee <email>', 'with a name: the secret assigned to this member')
    .addHelpText('after', ADDRESS_HELP);
}

/** The organization and the secret a SECRET argument with level flags names. */
async function locate(client: ApiClient, cmd: Command, arg: string, opts: LevelOpts) {
  const org = await resolveOrg(client, opts.org);
  const found = await locateSecret(client, cmd, org, arg, opts);
  return { org, ...found, path: `${orgPath(org)}/secrets/${encodeURIComponent(found.row.id)}` };
}

function registerChanges(secret: Command): void {
  addressed(
    secret.command('rm <secret>').description('Remove a secret with all its versions'),
  ).action(async (arg: string, opts: LevelOpts, cmd: Command) => {
    const client = clientFor(cmd);
    const { row, where, path } = await locate(client, cmd, arg, opts);
    await client.delete(path);
    output(!!globals(cmd).json, { removed: row.id }, () =>
      process.stdout.write(
        shown`Removed ${secretNoun(row)} ${row.name} at ${where} (id ${row.id})\n`,
      ),
    );
  });

  addressed(
    secret
      .command('rotate <secret>')
      .description(
        'Store a new version (env: --value-stdin; file: --from-file or --value-stdin; pgservice: change some settings, or --replace them all)',
      ),
  )
    .option('--value <value>', 'new env value')
    .option('--value-stdin', 'read the new value (or file content) from standard input')
    .option('--from-file <path>', 'file secret: read the new content from this file')
    .option('--password-stdin', 'pgservice: read the new password from standard input')
    .option(
      '--set <key=value>',
      'pgservice: add or change a libpq setting (repeatable)',
      collect,
      [],
    )
    .option(
      '--unset <key>',
      'pgservice: remove a setting (repeatable; not host, hostaddr, port, dbname or user)',
      collect,
      [],
    )
    .option('--host <host>', 'pgservice: new host (same as --set host=…)')
    .option('--port <port>', 'pgservice: new port')
    .option('--dbname <name>', 'pgservice: new database')
    .option('--db-user <user>', 'pgservice: new user')
    .option('--sslmode <mode>', 'pgservice: new SSL mode')
    .option(
      '--replace',
      'pgservice: the settings given are the whole new connection; the others are dropped',
    )
    .option('--expand', 'env or file: ${…} in the new value are references')
    .option('--literal', 'env or file: ${…} in the new value stay text')
    .option('--target <name>', 'alias: the new name it stands for')
    .addHelpText('after', ROTATE_HELP)
    .action(async (arg: string, opts: RotateOpts, cmd: Command) => {
      const client = clientFor(cmd);
      const { row, where, path } = await locate(client, cmd, arg, opts);
      const body = await rotateBody(row.kind, opts);
      const rotated = await client.post<SecretRow & { changed?: string[] }>(`${path}/rotate`, body);
      const changed = rotated.changed;
      const what =
        changed === undefined
          ? ''
          : changed.length > 0
            ? `: changed ${changed.join(', ')}`
            : ': no setting changed';
      output(!!globals(cmd).json, rotated, () =>
        process.stdout.write(
          shown`Rotated ${secretNoun(row)} ${row.name} at ${where} to version ${rotated.version}${what}\n`,
        ),
      );
      for (const w of rotated.warnings ?? [])
        process.stderr.write(shown`warning: ${row.name}: ${w}` + '\n');
    });

  addressed(
    secret
      .command('export-env <secret> <state>')
      .description(
        "on: jobs also get a pg service's HUSH_PG_<SERVICE>_HOST, _PORT, _DBNAME, _USER, _PASSWORD, _SSLMODE and _URL; off: they do not",
      ),
  ).action(async (arg: string, state: string, opts: LevelOpts, cmd: Command) => {
    if (state !== 'on' && state !== 'off') throw new CliError('say on or off');
    const client = clientFor(cmd);
    const { row, where, path } = await locate(client, cmd, arg, opts);
    const updated = await client.patch<SecretRow>(path, { exportEnv: state === 'on' });
    output(!!globals(cmd).json, updated, () =>
      process.stdout.write(
        shown`Jobs ${state === 'on' ? 'now get' : 'no longer get'} the HUSH_PG_* variables of pg service ${row.name} at ${where}\n`,
      ),
    );
  });

  addressed(
    secret.command('history <secret>').description('Versions of a secret: who, when, which tool'),
  ).action(async (arg: string, opts: LevelOpts, cmd: Command) => {
    const client = clientFor(cmd);
    const { path } = await locate(client, cmd, arg, opts);
    const rows = await client.get<Row[]>(`${path}/history`);
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

  addressed(
    secret
      .command('rollback <secret>')
      .description('Make version N current again (as a new version)')
      .requiredOption('--version <n>', 'the version to restore'),
  ).action(async (arg: string, opts: LevelOpts & { version: string }, cmd: Command) => {
    const version = Number(opts.version);
    if (!Number.isInteger(version) || version < 1)
      throw new CliError('--version: a positive whole number');
    const client = clientFor(cmd);
    const { row, where, path } = await locate(client, cmd, arg, opts);
    const restored = await client.post<SecretRow>(`${path}/rollback`, { version });
    output(!!globals(cmd).json, restored, () => {
      process.stdout.write(
        shown`Rolled back ${secretNoun(row)} ${row.name} at ${where} to version ${version} (now version ${restored.version})\n`,
      );
      for (const w of restored.warnings ?? []) process.stderr.write(shown`warning: ${w}` + '\n');
    });
  });
}

/** `hush secret …`. */
export function registerSecretCommands(program: Command): void {
  const secret = program
    .command('secret')
    .description('Secrets: env variables, files and pg_service connections');
  registerSecretAdd(secret);
  registerSecretValueCommands(secret);

  withLevel(
    secret
      .command('list')
      .description(
        'Secrets at one level (no level flag: the organization): name, kind, assignee, preview (a plain value itself), version',
      ),
  ).action(async (opts: LevelOpts, cmd: Command) => {
    const client = clientFor(cmd);
    const rows = await client.get<SecretRow[]>(
      `${orgPath(await resolveOrg(client, opts.org))}/secrets`,
      levelFields(opts),
    );
    output(!!globals(cmd).json, rows, () =>
      printTable(
        rows.map((r) => ({
          ...r,
          preview: typeof r.value === 'string' ? plainPreview(r.value) : r.preview,
        })),
        ['id', 'name', 'kind', 'level', 'assignee', 'preview', 'version', 'updatedAt'],
      ),
    );
  });

  registerChanges(secret);

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
          from: builtFromText(r),
        })),
        ['name', 'kind', 'level', 'assignee', 'version', 'preview', 'shadows', 'from'],
      );
      const failing = rows.filter((r) => typeof r.error === 'string');
      for (const r of failing) process.stderr.write(shown`cannot build ${r.error}` + '\n');
    });
}
