import { HushError } from '../../errors.js';

// PostgreSQL 15 "Parameter Key Words" that libpq 15 reads in a service file (checked against
// real psql 15 by the tests). `requiressl` and `tty` are gone from libpq; `service` itself is
// refused inside a service ("nested service specifications not supported").
const PG15_KEYWORDS = (
  'host hostaddr port dbname user password passfile channel_binding connect_timeout ' +
  'client_encoding options application_name fallback_application_name keepalives ' +
  'keepalives_idle keepalives_interval keepalives_count tcp_user_timeout replication ' +
  'gssencmode sslmode sslcompression sslcert sslkey sslpassword sslrootcert sslcrl sslcrldir ' +
  'sslsni requirepeer ssl_min_protocol_version ssl_max_protocol_version krbsrvname gsslib ' +
  'target_session_attrs'
).split(' ');

/** Keywords newer than PostgreSQL 15, with the major version that added them; an older libpq refuses only the service that uses one. */
export const LIBPQ_KEYWORD_SINCE: Readonly<Record<string, number>> = Object.freeze({
  require_auth: 16,
  sslcertmode: 16,
  load_balance_hosts: 16,
  gssdelegation: 16,
  sslnegotiation: 17,
});

/** Every libpq connection keyword a pg_service.conf section may set (PostgreSQL 15–17), `service` excluded. */
export const LIBPQ_KEYWORDS: ReadonlySet<string> = new Set([
  ...PG15_KEYWORDS,
  ...Object.keys(LIBPQ_KEYWORD_SINCE),
]);

/** The values libpq accepts for `sslmode`. */
export const SSL_MODES = [
  'disable',
  'allow',
  'prefer',
  'require',
  'verify-ca',
  'verify-full',
] as const;

/** The longest `key=value` line libpq reads, in UTF-8 bytes: its buffer is 1024 bytes, newline and NUL included. */
export const MAX_LINE_BYTES = 1021;

/** The most settings one service may have. */
export const MAX_SETTINGS = 64;

const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const FIRST_KEYS = ['host', 'hostaddr', 'port', 'dbname', 'user', 'password'];
// Only a keyword-shaped key is echoed in a message: anything else may be a pasted value.
const KEY_SHAPE = /^[a-z][a-z0-9_]{0,39}$/;
// libpq trims with C isspace(), so only ASCII whitespace counts (a trailing NBSP is kept).
const ASCII_SPACE = '[ \\t\\n\\v\\f\\r]';
const LEADING_SPACE = new RegExp(`^${ASCII_SPACE}+`);
const TRAILING_SPACE = new RegExp(`${ASCII_SPACE}+$`);
const EDGE_SPACE = new RegExp(`^${ASCII_SPACE}|${ASCII_SPACE}$`);
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const ENUMS: Readonly<Record<string, readonly string[]>> = {
  sslmode: SSL_MODES,
  gssencmode: ['disable', 'prefer', 'require'],
  channel_binding: ['disable', 'prefer', 'require'],
  target_session_attrs: ['any', 'read-write', 'read-only', 'primary', 'standby', 'prefer-standby'],
  load_balance_hosts: ['disable', 'random'],
  sslcertmode: ['disable', 'allow', 'require'],
  sslnegotiation: ['postgres', 'direct'],
};
const INTEGERS = new Set([
  'connect_timeout',
  'keepalives',
  'keepalives_idle',
  'keepalives_interval',
  'keepalives_count',
  'tcp_user_timeout',
]);

/** The settings of one service: libpq keyword → value. */
export type PgServiceSettings = Record<string, string>;

/** One `[name]` section of a pg_service.conf. */
export interface PgServiceEntry {
  name: string;
  settings: PgServiceSettings;
}

interface FieldProblem {
  field: string;
  message: string;
  line?: number;
}

function failure(list: readonly FieldProblem[]): HushError {
  const message = list.map((p) => (p.field === 'text' ? p.message : `${p.field}: ${p.message}`));
  return new HushError('VALIDATION_FAILED', message.join('; '), { fields: list });
}

function keyLabel(key: string): string {
  return KEY_SHAPE.test(key) ? `"${key}"` : 'a key';
}

function isPort(p: string): boolean {
  return /^\d{1,5}$/.test(p) && Number(p) >= 1 && Number(p) <= 65535;
}

function valueProblem(key: string, value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (/[\n\r\0]/.test(value)) return 'must not contain a newline, carriage return or NUL';
  if (LONE_SURROGATE.test(value)) return 'must be valid Unicode text';
  if (EDGE_SPACE.test(value)) {
    return 'must not start or end with whitespace (libpq would not read it back as given)';
  }
  if (Buffer.byteLength(`${key}=${value}`, 'utf8') > MAX_LINE_BYTES) {
    return `is too long: "key=value" must fit in ${MAX_LINE_BYTES} bytes, the line libpq reads`;
  }
  if (key === 'port' && !value.split(',').every(isPort)) {
    return 'must be a port from 1 to 65535 (or a comma-separated list of ports)';
  }
  const allowed = ENUMS[key];
  if (allowed && !allowed.includes(value)) return `must be one of ${allowed.join(', ')}`;
  if (INTEGERS.has(key) && !/^\d{1,9}$/.test(value)) return 'must be a whole number';
  return undefined;
}

type AddProblem = (field: string, message: string, line?: number) => void;

function problemList(prefix: string): { list: FieldProblem[]; add: AddProblem } {
  const list: FieldProblem[] = [];
  const add: AddProblem = (field, message, line) =>
    list.push(
      line === undefined
        ? { field: `${prefix}${field}`, message }
        : { field: `${prefix}${field}`, line, message: `line ${line}: ${message}` },
    );
  return { list, add };
}

/** Checks every key and value of `settings`; a key that is not keyword-shaped is named `other`. */
function settingProblems(
  settings: PgServiceSettings,
  add: AddProblem,
  other: string,
  lines?: ReadonlyMap<string, number>,
): void {
  for (const key of Object.keys(settings)) {
    const line = lines?.get(key);
    const field = KEY_SHAPE.test(key) ? key : other;
    if (key === 'service') {
      add(field, 'a service cannot name another service (libpq refuses nesting)', line);
    } else if (!LIBPQ_KEYWORDS.has(key)) {
      add(field, `${keyLabel(key)} is not a libpq connection keyword`, line);
    } else {
      const problem = valueProblem(key, settings[key]);
      if (problem !== undefined) add(field, problem, line);
    }
  }
}

function entryProblems(
  entry: PgServiceEntry,
  prefix: string,
  lines?: ReadonlyMap<string, number>,
  allowEmpty = false,
): FieldProblem[] {
  const { list, add } = problemList(prefix);
  const header = lines?.get('[');
  if (typeof entry.name !== 'string' || !SERVICE_NAME.test(entry.name)) {
    add('name', 'must be 1-63 of A-Z a-z 0-9 _ . -, starting with a letter or digit', header);
  }
  const keys = Object.keys(entry.settings);
  if (keys.length === 0 && !allowEmpty) add('settings', 'give at least one setting', header);
  if (keys.length > MAX_SETTINGS) add('settings', `at most ${MAX_SETTINGS} settings`, header);
  settingProblems(entry.settings, add, 'settings', lines);
  return list;
}

/**
 * Checks one service: its name, known keywords, port and sslmode values, no newline or NUL,
 * lines libpq can read; throws one VALIDATION_FAILED listing every bad field, never a value.
 */
export function validatePgService(entry: PgServiceEntry, fieldPrefix = ''): void {
  const list = entryProblems(entry, fieldPrefix);
  if (list.length > 0) throw failure(list);
}

interface Section {
  entry: PgServiceEntry;
  settings: Map<string, string>;
  lines: Map<string, number>;
  // A bad or repeated header: its own error says enough, so its lines are skipped.
  ignored: boolean;
  // A line had a syntax error: "no settings" would only repeat it.
  faulty: boolean;
}

function section(name: string, line: number, ignored: boolean): Section {
  const entry = { name, settings: {} };
  return { entry, settings: new Map(), lines: new Map([['[', line]]), ignored, faulty: false };
}

function textProblem(line: number, message: string): FieldProblem {
  return { field: 'text', line, message: `line ${line}: ${message}` };
}

function readHeader(line: string, n: number, sections: Section[]): FieldProblem | undefined {
  const m = /^\[([^\]]*)\]$/.exec(line);
  const name = (m?.[1] ?? '').trim();
  const first = sections.find((s) => !s.ignored && s.entry.name === name);
  sections.push(section(name, n, !m || first !== undefined));
  if (!m) return textProblem(n, 'a section header must look like [name]');
  if (first) {
    return textProblem(n, `service [${name}] is already defined on line ${first.lines.get('[')}`);
  }
  return undefined;
}

/** Reads one line into `sections`, returning the syntax problem it has, if any. */
function readLine(raw: string, n: number, sections: Section[]): FieldProblem | undefined {
  const line = raw.replace(LEADING_SPACE, '').replace(TRAILING_SPACE, '');
  if (line === '' || line.startsWith('#')) return undefined;
  if (line.startsWith('[')) return readHeader(line, n, sections);
  const current = sections.at(-1);
  if (current?.ignored) return undefined;
  const eq = line.indexOf('=');
  if (eq <= 0) return textProblem(n, 'expected key=value or [service]');
  // libpq itself allows no space around "="; people write it, and the formatter drops it.
  const key = line.slice(0, eq).replace(TRAILING_SPACE, '');
  if (!current) return textProblem(n, `${keyLabel(key)} comes before any [service] section`);
  if (key === 'service') return textProblem(n, 'a service cannot name another service');
  if (!LIBPQ_KEYWORDS.has(key)) {
    return textProblem(n, `${keyLabel(key)} is not a libpq connection keyword`);
  }
  const earlier = current.lines.get(key);
  if (earlier !== undefined) {
    return textProblem(n, `"${key}" is already set on line ${earlier} (libpq keeps the first)`);
  }
  current.settings.set(key, line.slice(eq + 1).replace(LEADING_SPACE, ''));
  current.lines.set(key, n);
  return undefined;
}

/**
 * Parses pg_service.conf text into its sections, all or none: throws one VALIDATION_FAILED whose
 * fields name every bad line (`line 7: …`) or setting, never a value.
 *
 * @example parsePgServiceConf('[ninja]\nhost=db\nport=5432\n') // [{ name: 'ninja', settings: { host: 'db', port: '5432' } }]
 */
export function parsePgServiceConf(text: string): PgServiceEntry[] {
  const sections: Section[] = [];
  const list: FieldProblem[] = [];
  // libpq splits on "\n" only; a "\r" before it is trailing whitespace.
  text
    .replace(/^\uFEFF/, '')
    .split('\n')
    .forEach((raw, i) => {
      const problem = readLine(raw, i + 1, sections);
      if (!problem) return;
      list.push(problem);
      const current = sections.at(-1);
      if (current) current.faulty = true;
    });
  if (sections.length === 0 && list.length === 0) {
    list.push({ field: 'text', message: 'no [service] section found' });
  }
  const kept = sections.filter((s) => !s.ignored);
  for (const s of kept) {
    s.entry.settings = Object.fromEntries(s.settings);
    list.push(...entryProblems(s.entry, `[${s.entry.name}].`, s.lines, s.faulty));
  }
  if (list.length > 0) throw failure(list);
  return kept.map((s) => s.entry);
}

function compareKeys(a: string, b: string): number {
  const ia = FIRST_KEYS.indexOf(a);
  const ib = FIRST_KEYS.indexOf(b);
  if (ia !== -1 || ib !== -1) {
    return (ia === -1 ? FIRST_KEYS.length : ia) - (ib === -1 ? FIRST_KEYS.length : ib);
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Writes services as a pg_service.conf that libpq reads, keys in a fixed order (host, hostaddr,
 * port, dbname, user, password, then alphabetical); throws VALIDATION_FAILED for an invalid
 * or repeated service rather than write a file libpq would misread.
 */
export function formatPgServiceConf(entries: readonly PgServiceEntry[]): string {
  const list: FieldProblem[] = [];
  const seen = new Set<string>();
  entries.forEach((entry, i) => {
    if (seen.has(entry.name)) {
      list.push({ field: `entries[${i}].name`, message: `service [${entry.name}] appears twice` });
    }
    seen.add(entry.name);
    list.push(...entryProblems(entry, `entries[${i}].`));
  });
  if (list.length > 0) throw failure(list);
  return entries
    .map((entry) => {
      const keys = Object.keys(entry.settings).sort(compareKeys);
      return `[${entry.name}]\n${keys.map((k) => `${k}=${entry.settings[k]}\n`).join('')}`;
    })
    .join('\n');
}

/**
 * Turns CLI `--set key=value` pairs into settings (validate them with {@link validatePgService});
 * throws VALIDATION_FAILED naming each bad pair by position (`set[1]`), never its value.
 */
export function parseSetPairs(pairs: readonly string[]): PgServiceSettings {
  const settings = new Map<string, string>();
  const where = new Map<string, number>();
  const list: FieldProblem[] = [];
  pairs.forEach((pair, i) => {
    const eq = pair.indexOf('=');
    const key =
      eq > 0 ? pair.slice(0, eq).replace(LEADING_SPACE, '').replace(TRAILING_SPACE, '') : '';
    if (key === '') {
      list.push({ field: `set[${i}]`, message: 'use key=value' });
      return;
    }
    const earlier = where.get(key);
    if (earlier !== undefined) {
      list.push({ field: `set[${i}]`, message: `repeats the key of set[${earlier}]` });
      return;
    }
    where.set(key, i);
    settings.set(key, pair.slice(eq + 1));
  });
  if (list.length > 0) throw failure(list);
  // fromEntries defines own properties, so a "__proto__" key stays a key (and is then refused).
  return Object.fromEntries(settings);
}

/**
 * Keywords whose values are secrets, as libpq marks them (`dispchar` "*" in PQconndefaults):
 * no read returns them to a person.
 */
export const WRITE_ONLY_KEYWORDS: ReadonlySet<string> = new Set(['password', 'sslpassword']);

/**
 * Keywords that say where and as whom a job connects. A patch may change them but not remove
 * them: without one, libpq falls back to a default (the local socket, port 5432, the OS user's
 * name) and the job may reach another database as another user, and succeed.
 */
export const PINNED_KEYWORDS: readonly string[] = ['host', 'hostaddr', 'port', 'dbname', 'user'];

/** A change of some settings of a service: keys to add or replace, keys to remove. */
export interface PgServicePatch {
  set: PgServiceSettings;
  unset: readonly string[];
}

function unsetProblem(
  key: string,
  i: number,
  current: PgServiceSettings,
  patch: PgServicePatch,
): string | undefined {
  const earlier = patch.unset.indexOf(key);
  if (earlier < i) return `repeats unset.${earlier}`;
  if (!LIBPQ_KEYWORDS.has(key)) return `${keyLabel(key)} is not a libpq connection keyword`;
  if (Object.hasOwn(patch.set, key)) return `"${key}" is also in set: set it or unset it`;
  if (!Object.hasOwn(current, key)) return `"${key}" is not set, so it cannot be unset`;
  if (PINNED_KEYWORDS.includes(key)) {
    return `"${key}" says where or as whom the job connects: a partial rotation may set it but not remove it (rotate with replace to give the whole connection)`;
  }
  return undefined;
}

/**
 * The settings of `current` with `patch` applied: keys in `set` added or replaced, keys in
 * `unset` removed, every other setting kept. Throws one VALIDATION_FAILED naming each bad field
 * (`set.port`, `unset.0`), never a value: an empty patch, an unknown keyword, a key both set and
 * unset, unsetting a key that is not set or one of {@link PINNED_KEYWORDS}, or a result that
 * {@link validatePgService} refuses.
 *
 * @example patchPgService('ninja', { host: 'db', password: 'old' }, { set: { password: 'new' }, unset: [] }) // { host: 'db', password: 'new' }
 */
export function patchPgService(
  name: string,
  current: PgServiceSettings,
  patch: PgServicePatch,
): PgServiceSettings {
  const { list, add } = problemList('');
  if (Object.keys(patch.set).length === 0 && patch.unset.length === 0) {
    add('set', 'give at least one setting to set or unset');
  }
  settingProblems(patch.set, (field, msg) => add(field ? `set.${field}` : 'set', msg), '');
  patch.unset.forEach((key, i) => {
    const problem = unsetProblem(key, i, current, patch);
    if (problem !== undefined) add(`unset.${i}`, problem);
  });
  if (list.length > 0) throw failure(list);
  // A Map, so that no key can reach an object's prototype on the way.
  const merged = new Map(Object.entries(current));
  for (const [key, value] of Object.entries(patch.set)) merged.set(key, value);
  for (const key of patch.unset) merged.delete(key);
  const settings: PgServiceSettings = Object.fromEntries(merged);
  validatePgService({ name, settings });
  return settings;
}

/** The keys whose value differs between two versions (added, changed or removed), in file order. */
export function changedSettings(before: PgServiceSettings, after: PgServiceSettings): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys]
    .filter(
      (k) =>
        Object.hasOwn(before, k) !== Object.hasOwn(after, k) ||
        (Object.hasOwn(before, k) && before[k] !== after[k]),
    )
    .sort(compareKeys);
}

/**
 * What a person may see of a service: every setting but the {@link WRITE_ONLY_KEYWORDS}, and
 * the names of those that are set.
 */
export function visibleSettings(settings: PgServiceSettings): {
  settings: PgServiceSettings;
  withheld: string[];
} {
  const entries = Object.entries(settings).sort(([a], [b]) => compareKeys(a, b));
  return {
    settings: Object.fromEntries(entries.filter(([k]) => !WRITE_ONLY_KEYWORDS.has(k))),
    withheld: entries.filter(([k]) => WRITE_ONLY_KEYWORDS.has(k)).map(([k]) => k),
  };
}
