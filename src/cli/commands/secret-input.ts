import fs from 'node:fs';

import { CliError } from '../api-client.js';
import { readStdin } from '../output.js';
import type { LevelOpts } from './secret-level.js';

/** The pgservice flags of `secret add pgservice` and `secret rotate`. */
export interface PgOpts {
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

/** The pgservice settings the flags give; a key given twice is refused. */
export async function pgSettings(opts: PgOpts): Promise<Record<string, string>> {
  // A Map, so that a repeated key is caught and "__proto__" stays a key the server refuses.
  const settings = new Map<string, string>();
  const put = (key: string, value: string, flag: string) => {
    if (settings.has(key)) throw new CliError(`${flag}: ${key} is given twice`);
    settings.set(key, value);
  };
  if (opts.host) put('host', opts.host, '--host');
  if (opts.port) put('port', opts.port, '--port');
  if (opts.dbname) put('dbname', opts.dbname, '--dbname');
  if (opts.dbUser) put('user', opts.dbUser, '--db-user');
  if (opts.sslmode) put('sslmode', opts.sslmode, '--sslmode');
  for (const pair of opts.set) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError('--set: use key=value');
    put(pair.slice(0, eq), pair.slice(eq + 1), '--set');
  }
  if (opts.passwordStdin) put('password', await readStdin(), '--password-stdin');
  return Object.fromEntries(settings);
}

/** The flags of `secret rotate`. */
export type RotateOpts = PgOpts &
  LevelOpts & {
    value?: string;
    valueStdin?: boolean;
    unset: string[];
    replace?: boolean;
    expand?: boolean;
    literal?: boolean;
    target?: string;
  };

const PG_ONLY: [keyof RotateOpts, string][] = [
  ['host', '--host'],
  ['port', '--port'],
  ['dbname', '--dbname'],
  ['dbUser', '--db-user'],
  ['passwordStdin', '--password-stdin'],
  ['sslmode', '--sslmode'],
  ['replace', '--replace'],
];

function refusePgOptions(opts: RotateOpts, kind: string): void {
  const given = PG_ONLY.filter(([key]) => opts[key] !== undefined).map(([, flag]) => flag);
  if (opts.set.length > 0) given.push('--set');
  if (opts.unset.length > 0) given.push('--unset');
  if (given.length > 0)
    throw new CliError(`${given.join(', ')}: only for a pgservice secret; this one is ${kind}`);
}

/** The rotate body for a pgservice: a change of the given settings, or (--replace) all of them. */
async function pgRotateBody(opts: RotateOpts): Promise<unknown> {
  if (opts.value !== undefined || opts.valueStdin || opts.fromFile)
    throw new CliError(
      '--value, --value-stdin and --from-file are for env and file secrets; a pgservice takes --password-stdin, --set k=v, --unset k (or --replace with every setting)',
    );
  const settings = await pgSettings(opts);
  if (opts.replace) {
    if (opts.unset.length > 0)
      throw new CliError('--unset: not with --replace (leave the setting out instead)');
    return { kind: 'pgservice', replace: true, settings };
  }
  if (Object.keys(settings).length === 0 && opts.unset.length === 0)
    throw new CliError(
      'nothing to change: give --password-stdin, --set k=v or --unset k (or --replace with every setting)',
    );
  return { kind: 'pgservice', set: settings, unset: opts.unset };
}

/** The REST rotate body for a secret of `kind`, from the flags (and standard input). */
export async function rotateBody(kind: string, opts: RotateOpts): Promise<unknown> {
  if (kind === 'pgservice') return pgRotateBody(opts);
  refusePgOptions(opts, kind);
  if (opts.expand && opts.literal) throw new CliError('give --expand or --literal, not both');
  const mode = opts.expand ? { expand: true } : opts.literal ? { expand: false } : {};
  if (kind === 'alias') {
    if (!opts.target) throw new CliError('an alias takes its new target: --target NAME');
    return { kind: 'alias', target: opts.target };
  }
  if (kind === 'env') {
    if ((opts.value === undefined) === !opts.valueStdin)
      throw new CliError('give exactly one of --value or --value-stdin');
    return { kind: 'env', value: opts.value ?? (await readStdin()), ...mode };
  }
  if (!opts.fromFile === !opts.valueStdin)
    throw new CliError('give exactly one of --from-file or --value-stdin');
  const content = opts.fromFile ? readFileArg(opts.fromFile) : Buffer.from(await readStdin());
  return { kind: 'file', contentBase64: content.toString('base64'), ...mode };
}

export const ROTATE_HELP = `
Name the secret by its id, or by its name and level (the one secret of that name exactly there):
  hush secret rotate API_KEY --project maps --env prod --value-stdin
  hush secret rotate pgservice:ninja --org acme --password-stdin   # when a variable is also ninja
A pgservice rotation changes only the settings you give and keeps the others:
  echo -n "$NEW" | hush secret rotate ninja --project maps --password-stdin   # only the password
  hush secret rotate ID --set port=6432 --unset sslmode       # one changed, one removed
host, hostaddr, port, dbname and user can be changed but not unset; --replace gives the whole
connection anew (settings you leave out are dropped):
  hush secret rotate ID --replace --host db2 --port 5432 --dbname gis --db-user ninja --password-stdin
`;

/** A file the command line names, or a CliError naming it. */
export function readFileArg(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch {
    throw new CliError(`cannot read ${file}`);
  }
}
