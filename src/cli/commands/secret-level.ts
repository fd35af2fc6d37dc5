import type { Command } from 'commander';

import { hasIdShape, isWholeId } from '../../id-shape.js';
import { type ApiClient, CliError } from '../api-client.js';
import { orgPath, usageError } from '../context.js';

/** The level flags of a secret command, as commander parses them. */
export interface LevelOpts {
  org?: string;
  project?: string;
  env?: string;
  service?: string;
  assignee?: string;
}

/** A secret as the REST API answers it (the fields the CLI reads). */
export interface SecretRow {
  id: string;
  name: string;
  kind: string;
  level: string;
  sensitivity?: string;
  assignee: string | null;
  version: number;
  preview: string | null;
  value?: string;
  warnings?: string[];
  [field: string]: unknown;
}

/** The level flags, as usage messages list them. */
export const LEVEL_FLAGS =
  '--org SLUG (the organization), --project P, --project P --env E or --project P --service S';

export const ORG_LEVEL_HELP =
  'organization (default: HUSH_ORG or your only one); given here without --project: the organization level';

/** Adds --org, --project, --env and --service (the level) to a secret command. */
export function withLevel(cmd: Command): Command {
  return cmd
    .option('--org <slug>', ORG_LEVEL_HELP)
    .option('--project <slug>', 'project level')
    .option('--env <slug>', 'with --project: environment level')
    .option('--service <name>', 'with --project: service level');
}

/**
 * Whether the flags name a level: --project (with --env or --service for those levels; from the
 * command line, HUSH_PROJECT/HUSH_ENV/HUSH_SERVICE or the directory's .hush.json), or --org on
 * the command line, which alone means the organization level. HUSH_ORG and the file's org only
 * choose the organization: the organization level is never implied.
 */
export function namesLevel(cmd: Command, opts: LevelOpts): boolean {
  return opts.project !== undefined || cmd.getOptionValueSource('org') === 'cli';
}

/** Stops with a usage error (exit 2) unless the flags name a level. */
export function requireLevel(
  cmd: Command,
  opts: LevelOpts,
  what: string,
  flags = LEVEL_FLAGS,
): void {
  if (!namesLevel(cmd, opts))
    usageError(cmd, `${what} needs a level: ${flags} (and --assignee EMAIL for a member's own)`);
}

/** The REST list/add fields of a level: no project is the organization level. */
export function levelFields(opts: LevelOpts) {
  return { project: opts.project, env: opts.env, service: opts.service };
}

/** A level as answers name it: `organization acme`, `project maps, environment prod`, … */
export function levelLabel(org: string, opts: LevelOpts, assignee = opts.assignee): string {
  let label = opts.project ? `project ${opts.project}` : `organization ${org}`;
  if (opts.project && opts.env) label += `, environment ${opts.env}`;
  if (opts.project && opts.service) label += `, service ${opts.service}`;
  if (assignee) label += `, assigned to ${assignee}`;
  return label;
}

/** What a secret is, in a sentence: `env secret`, `plain env variable`, `pgservice secret`. */
export function secretNoun(row: { kind: string; sensitivity?: string }): string {
  if (row.kind === 'alias') return 'alias';
  return row.sensitivity === 'plain' ? `plain ${row.kind} variable` : `${row.kind} secret`;
}

/** A secret a command acts on, and where it lives as far as the CLI knows. */
export interface Located {
  row: SecretRow;
  /** `project maps, environment prod`; by id only the level's kind (`the project level`). */
  where: string;
}

// Ids are UUIDs (src/domain/ids.ts) and the server also takes a prefix of one, as the console
// shows them (lower case). A whole UUID is an id whatever the flags say; without level flags, an
// argument of an id's shape goes to the server as an id and anything else is a name missing its
// level. Env names are capitals, so they never take that shape.
const KIND_PREFIX = /^(env|file|pgservice):(.+)$/;

/**
 * The secret an argument names: an id (a whole one, or without level flags an id or id prefix,
 * which the server resolves), or NAME with its level flags — `pgservice:NAME`, `env:NAME`,
 * `file:NAME` choose the kind — the one secret of that name exactly at that level, found through
 * the REST list of the level. Throws a usage error for a name without a level, and a CliError
 * naming name and level when none or several match.
 */
export async function locateSecret(
  client: ApiClient,
  cmd: Command,
  org: string,
  arg: string,
  opts: LevelOpts,
): Promise<Located> {
  if (isWholeId(arg)) return byId(client, org, arg);
  if (!namesLevel(cmd, opts)) {
    if (hasIdShape(arg)) return byId(client, org, arg);
    usageError(cmd, `${arg} is not an id: to name a secret, give its level: ${LEVEL_FLAGS}`);
  }
  const prefixed = KIND_PREFIX.exec(arg);
  const kind = prefixed?.[1];
  const name = prefixed?.[2] ?? arg;
  const rows = await client.get<SecretRow[]>(`${orgPath(org)}/secrets`, levelFields(opts));
  const assignee = opts.assignee?.trim().toLowerCase();
  const named = rows.filter((r) => r.name === name && (!kind || r.kind === kind));
  const found = named.filter((r) => (r.assignee ?? undefined) === assignee);
  const where = levelLabel(org, opts, assignee);
  if (found.length === 1 && found[0]) return { row: found[0], where };
  if (found.length > 1)
    throw new CliError(
      `${found.length} secrets named ${name} at ${where}: ${found.map((r) => `${r.kind} (id ${r.id})`).join(', ')}; choose one with ${found.map((r) => `${r.kind}:${name}`).join(' or ')}, or give its id`,
    );
  const what = kind ? `${kind} secret ${name}` : `secret ${name}`;
  const notFound = new CliError(`no ${what} at ${where}${notFoundHint(rows, named, name)}`);
  // No secret of that name there: an id (prefix) given with level flags may still be an id.
  if (named.length === 0 && hasIdShape(arg))
    return byId(client, org, arg).catch((error: unknown) => {
      throw error instanceof CliError && NAME_HINTED.has(error.code ?? '') ? notFound : error;
    });
  throw notFound;
}

/** Why a name was not found, when the list says: held by another assignee, or in another case. */
function notFoundHint(rows: SecretRow[], named: SecretRow[], name: string): string {
  if (named.length > 0)
    return `; found instead: ${named
      .map((r) =>
        r.assignee
          ? `${r.kind} assigned to ${r.assignee} (--assignee ${r.assignee})`
          : `${r.kind}, unassigned (without --assignee)`,
      )
      .join(', ')}`;
  const alike = new Set(
    rows.filter((r) => r.name.toLowerCase() === name.toLowerCase()).map((r) => r.name),
  );
  return alike.size > 0 ? `; did you mean ${[...alike].join(' or ')}?` : '';
}

async function byId(client: ApiClient, org: string, id: string): Promise<Located> {
  try {
    const row = await client.get<SecretRow>(`${orgPath(org)}/secrets/${encodeURIComponent(id)}`);
    const where = row.level === 'organization' ? `organization ${org}` : `the ${row.level} level`;
    return { row, where };
  } catch (error) {
    // A short hex word may be a pg service's name rather than the id prefix it looks like.
    if (error instanceof CliError && !isWholeId(id) && NAME_HINTED.has(error.code ?? ''))
      throw new CliError(
        `${error.message} (to name a secret instead, give its level: ${LEVEL_FLAGS})`,
        error.exitCode,
        error.code,
      );
    throw error;
  }
}

const NAME_HINTED = new Set(['SECRET_NOT_FOUND', 'VALIDATION_FAILED']);
