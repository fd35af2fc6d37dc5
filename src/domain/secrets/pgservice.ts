import { HushError } from '../../errors.js';

/**
 * libpq's connection keywords (PostgreSQL 17 "Parameter Key Words"), minus `service` itself,
 * which a service file may not nest. Keywords added after PostgreSQL 15 are marked: an older
 * libpq refuses a service file that uses them.
 */
export const LIBPQ_KEYWORDS: ReadonlySet<string> = new Set([
  'host',
  'hostaddr',
  'port',
  'dbname',
  'user',
  'password',
  'passfile',
  'channel_binding',
  'connect_timeout',
  'client_encoding',
  'options',
  'application_name',
  'fallback_application_name',
  'keepalives',
  'keepalives_idle',
  'keepalives_interval',
  'keepalives_count',
  'tcp_user_timeout',
  'replication',
  'gssencmode',
  'sslmode',
  'requiressl',
  'sslcompression',
  'sslcert',
  'sslkey',
  'sslpassword',
  'sslrootcert',
  'sslcrl',
  'sslcrldir',
  'sslsni',
  'requirepeer',
  'ssl_min_protocol_version',
  'ssl_max_protocol_version',
  'krbsrvname',
  'gsslib',
  'target_session_attrs',
  // PostgreSQL 16+
  'require_auth',
  'sslcertmode',
  'load_balance_hosts',
  'gssdelegation',
  // PostgreSQL 17+
  'sslnegotiation',
]);

export const SSL_MODES = [
  'disable',
  'allow',
  'prefer',
  'require',
  'verify-ca',
  'verify-full',
] as const;
const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const MAX_VALUE = 4096;
const MAX_KEYS = 64;
const FIRST_KEYS = ['host', 'hostaddr', 'port', 'dbname', 'user', 'password'];

/** keyword → value of one service. */
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

function problems(list: FieldProblem[]): HushError {
  return new HushError(
    'VALIDATION_FAILED',
    list.map((p) => `${p.field}: ${p.message}`).join('; '),
    { fields: list },
  );
}

/**
 * Checks one service: its name, known keywords, port and sslmode values, no newline/NUL, sizes.
 * Throws one VALIDATION_FAILED listing every bad field; messages name keys, never values.
 */
export function validatePgService(entry: PgServiceEntry, fieldPrefix = ''): void {
  const list: FieldProblem[] = [];
  const f = (name: string) => `${fieldPrefix}${name}`;
  if (!SERVICE_NAME.test(entry.name)) {
    list.push({
      field: f('name'),
      message:
        'service name must be 1-63 of A-Z, a-z, 0-9, "_", "." and "-", starting with a letter or digit',
    });
  }
  const keys = Object.keys(entry.settings);
  if (keys.length === 0) list.push({ field: f('settings'), message: 'give at least one setting' });
  if (keys.length > MAX_KEYS)
    list.push({ field: f('settings'), message: `at most ${MAX_KEYS} settings` });
  for (const key of keys) {
    const value = entry.settings[key] ?? '';
    if (!LIBPQ_KEYWORDS.has(key)) {
      list.push({ field: f(key), message: `"${key}" is not a libpq connection keyword` });
      continue;
    }
    if (/[\n\r\0]/.test(value))
      list.push({ field: f(key), message: 'must not contain a newline or NUL' });
    if (value.length > MAX_VALUE)
      list.push({ field: f(key), message: `must be at most ${MAX_VALUE} characters` });
    if (
      key === 'port' &&
      !value.split(',').every((p) => /^\d{1,5}$/.test(p.trim()) && +p >= 1 && +p <= 65535)
    ) {
      list.push({
        field: f(key),
        message: 'must be a port from 1 to 65535 (or a comma-separated list)',
      });
    }
    if (key === 'sslmode' && !(SSL_MODES as readonly string[]).includes(value)) {
      list.push({ field: f(key), message: `must be one of ${SSL_MODES.join(', ')}` });
    }
  }
  if (list.length > 0) throw problems(list);
}

/**
 * Parses the text of a pg_service.conf as libpq reads it: blank lines and `#` comments skipped,
 * surrounding whitespace ignored, `[name]` sections of `key=value` lines. A syntax error names
 * its line; every section is validated before anything is returned (all or none).
 */
export function parsePgServiceConf(text: string): PgServiceEntry[] {
  const entries: PgServiceEntry[] = [];
  const seen = new Map<string, number>();
  const list: FieldProblem[] = [];
  let current: PgServiceEntry | undefined;
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    const n = index + 1;
    if (line === '' || line.startsWith('#')) return;
    if (line.startsWith('[')) {
      const m = /^\[([^\]]*)\]$/.exec(line);
      if (!m) {
        list.push({
          field: 'text',
          line: n,
          message: `line ${n}: a section header must look like [name]`,
        });
        return;
      }
      const name = (m[1] ?? '').trim();
      const first = seen.get(name);
      if (first !== undefined) {
        list.push({
          field: 'text',
          line: n,
          message: `line ${n}: service [${name}] is already defined on line ${first}`,
        });
      }
      seen.set(name, n);
      current = { name, settings: {} };
      entries.push(current);
      return;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) {
      list.push({ field: 'text', line: n, message: `line ${n}: expected key=value or [service]` });
      return;
    }
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (!current) {
      list.push({
        field: 'text',
        line: n,
        message: `line ${n}: "${key}" comes before any [service] section`,
      });
      return;
    }
    if (!LIBPQ_KEYWORDS.has(key)) {
      list.push({
        field: 'text',
        line: n,
        message: `line ${n}: "${key}" is not a libpq connection keyword`,
      });
      return;
    }
    current.settings[key] = value;
  });
  if (entries.length === 0 && list.length === 0)
    list.push({ field: 'text', message: 'no [service] section found' });
  if (list.length > 0) throw problems(list);
  for (const entry of entries) validatePgService(entry, `[${entry.name}].`);
  return entries;
}

/** Writes entries as a pg_service.conf that libpq reads; keys in a fixed, readable order. */
export function formatPgServiceConf(entries: readonly PgServiceEntry[]): string {
  return entries
    .map((entry) => {
      const keys = Object.keys(entry.settings).sort((a, b) => {
        const ia = FIRST_KEYS.indexOf(a);
        const ib = FIRST_KEYS.indexOf(b);
        if (ia !== -1 || ib !== -1) return (ia === -1 ? 99 : ia) - (ib === -1 ? 99 : ib);
        return a < b ? -1 : 1;
      });
      return `[${entry.name}]\n${keys.map((k) => `${k}=${entry.settings[k]}`).join('\n')}\n`;
    })
    .join('\n');
}

/** Parses CLI `--set key=value` pairs; errors name the pair's position, never its value. */
export function parseSetPairs(pairs: readonly string[]): PgServiceSettings {
  const out: PgServiceSettings = {};
  pairs.forEach((pair, i) => {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw problems([{ field: `set[${i}]`, message: 'use key=value' }]);
    out[pair.slice(0, eq).trim()] = pair.slice(eq + 1);
  });
  return out;
}
