import type { PgServiceSettings } from './pgservice.js';

// The variables derived from a pgservice secret (Qovery's QOVERY_DATABASE_*): for tools that do
// not read pg_service.conf. `HUSH_PG_<SERVICE>_<FIELD>`, with the service name upper-cased and
// every other character mapped to `_`.

/** The derived fields, as the variable names end, and the libpq setting each one carries. */
export const PG_FIELDS = {
  HOST: 'host',
  PORT: 'port',
  DBNAME: 'dbname',
  USER: 'user',
  PASSWORD: 'password',
  SSLMODE: 'sslmode',
  URL: null,
} as const;

/** One of the derived fields. */
export type PgField = keyof typeof PG_FIELDS;

/** Fields whose value is redacted from job logs: the password and the URL that holds it. */
export const SECRET_PG_FIELDS: ReadonlySet<PgField> = new Set<PgField>(['PASSWORD', 'URL']);

/** The part of the variable names that stands for a service: `main-db` → `MAIN_DB`. */
export function pgEnvStem(service: string): string {
  return service.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/** The name of a derived variable: `HUSH_PG_MAIN_DB_URL`. */
export function pgEnvName(service: string, field: PgField): string {
  return `HUSH_PG_${pgEnvStem(service)}_${field}`;
}

const DERIVED = /^HUSH_PG_([A-Z0-9_]+)_(HOST|PORT|DBNAME|USER|PASSWORD|SSLMODE|URL)$/;

/** The stem and field a derived variable's name stands for, or undefined for any other name. */
export function parsePgEnvName(name: string): { stem: string; field: PgField } | undefined {
  const m = DERIVED.exec(name);
  return m ? { stem: m[1]!, field: m[2] as PgField } : undefined;
}

/**
 * A `postgresql://` URI that connects as the settings do, every part percent-encoded: user,
 * password, host (an IPv6 address in brackets; a socket directory or several hosts go in the
 * `host` parameter instead), port, dbname (`.` and `..` in the `dbname` parameter) and sslmode.
 *
 * @example pgUrl({ host: 'db', port: '5432', dbname: 'gis', user: 'me', password: 'p@ss' })
 * // 'postgresql://me:p%40ss@db:5432/gis'
 */
export function pgUrl(s: PgServiceSettings): string {
  const enc = encodeURIComponent;
  const host = s.host ?? s.hostaddr;
  const params: string[] = [];
  let authority = '';
  if (s.user !== undefined) {
    authority += enc(s.user);
    if (s.password !== undefined) authority += `:${enc(s.password)}`;
    authority += '@';
  }
  if (host !== undefined) {
    if (host.startsWith('/') || host.includes(',')) params.push(`host=${enc(host)}`);
    else authority += host.includes(':') ? `[${host}]` : enc(host);
  }
  if (s.port !== undefined) {
    if (params.some((p) => p.startsWith('host='))) params.push(`port=${enc(s.port)}`);
    else authority += `:${enc(s.port)}`;
  }
  if (s.sslmode !== undefined) params.push(`sslmode=${enc(s.sslmode)}`);
  // A URL parser takes a path of `.` or `..` (escaped or not) for a dot segment and drops it:
  // such a database name goes in the dbname parameter, which libpq reads the same.
  const dotted = s.dbname === '.' || s.dbname === '..';
  if (s.dbname !== undefined && dotted) params.push(`dbname=${enc(s.dbname)}`);
  const path = s.dbname !== undefined && !dotted ? `/${enc(s.dbname)}` : '';
  return `postgresql://${authority}${path}${params.length > 0 ? `?${params.join('&')}` : ''}`;
}

/** The value of one derived field, or undefined when the settings lack it. */
export function pgFieldValue(s: PgServiceSettings, field: PgField): string | undefined {
  const key = PG_FIELDS[field];
  if (key === null) return pgUrl(s);
  return field === 'HOST' ? (s.host ?? s.hostaddr) : s[key];
}

/** Every derived variable of a service that its settings give a value, in field order. */
export function pgDerivedVariables(
  service: string,
  s: PgServiceSettings,
): { name: string; field: PgField; value: string }[] {
  const out: { name: string; field: PgField; value: string }[] = [];
  for (const field of Object.keys(PG_FIELDS) as PgField[]) {
    const value = pgFieldValue(s, field);
    if (value !== undefined) out.push({ name: pgEnvName(service, field), field, value });
  }
  return out;
}
