import { HushError, invalid } from '../../errors.js';
import { invisibleProblem } from '../validation.js';

/** The kinds of secret (SPEC §3): an environment variable, a PostgreSQL service, a file. */
export const SECRET_KINDS = ['env', 'pgservice', 'file'] as const;

/** One of {@link SECRET_KINDS}. */
export type SecretKind = (typeof SECRET_KINDS)[number];

/** The longest env or file secret name, in characters. */
export const MAX_ENV_NAME_LENGTH = 255;

/** The largest env value, in UTF-8 bytes (64 KiB). */
export const MAX_ENV_VALUE_BYTES = 64 * 1024;

/** The largest file secret content, in bytes (1 MiB). */
export const MAX_FILE_BYTES = 1024 * 1024;

/** The longest file name of a file secret, in characters. */
export const MAX_FILE_NAME_LENGTH = 255;

const ENV_NAME = /^[A-Z][A-Z0-9_]*$/;
const RESERVED_EXACT = new Set(['PATH', 'HOME', 'PGSERVICEFILE']);
const RESERVED_PREFIXES = ['HUSH_', 'LD_'];
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Whether a string names a {@link SecretKind}. */
export function isSecretKind(kind: string): kind is SecretKind {
  return (SECRET_KINDS as readonly string[]).includes(kind);
}

/** What is wrong with an env or file secret name (see {@link validateEnvName}), or undefined when it is valid. */
export function envNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name.length > MAX_ENV_NAME_LENGTH) {
    return `must have at most ${MAX_ENV_NAME_LENGTH} characters`;
  }
  if (!ENV_NAME.test(name)) return 'capitals only: start with A-Z, then A-Z, 0-9 or _';
  if (RESERVED_EXACT.has(name) || RESERVED_PREFIXES.some((p) => name.startsWith(p))) {
    return `${name} is reserved: Hush or the system sets HUSH_*, LD_*, PATH, HOME and PGSERVICEFILE`;
  }
  return undefined;
}

/** Checks an env or file secret name (capitals only, not reserved); throws VALIDATION_FAILED naming `field`. */
export function validateEnvName(name: string, field = 'name'): void {
  const problem = envNameProblem(name);
  if (problem !== undefined) throw invalid(field, problem);
}

/** Checks an env value (UTF-8 text up to 64 KiB, no NUL); throws VALIDATION_FAILED naming `field`, never the value. */
export function validateEnvValue(value: string, field = 'value'): void {
  if (value.includes('\0')) throw invalid(field, 'must not contain a NUL byte');
  if (LONE_SURROGATE.test(value)) throw invalid(field, 'must be valid UTF-8 text');
  if (Buffer.byteLength(value, 'utf8') > MAX_ENV_VALUE_BYTES) {
    throw invalid(field, 'must be at most 64 KiB (65,536 bytes of UTF-8)');
  }
}

function fileNameProblem(fileName: string): string | undefined {
  if (fileName.length === 0) return 'must not be empty';
  if (fileName.length > MAX_FILE_NAME_LENGTH) {
    return `must have at most ${MAX_FILE_NAME_LENGTH} characters`;
  }
  if (fileName.startsWith('/')) return 'must be a relative path, not an absolute one';
  if (CONTROL.test(fileName)) return 'must not contain NUL or other control characters';
  if (fileName.includes('\\')) return 'must not contain a backslash (use / between directories)';
  if (LONE_SURROGATE.test(fileName)) return 'must be valid UTF-8 text';
  // A person reads the name in the console and the job's listing: `invoice\u202efdp.exe` would
  // read as `invoiceexe.pdf`.
  const invisible = invisibleProblem(fileName);
  if (invisible !== undefined) return invisible;
  // "." and empty segments are refused too: two spellings of one path would be two secrets.
  if (fileName.split('/').some((s) => s === '..' || s === '.' || s === '')) {
    return 'must not contain "..", "." or empty path segments';
  }
  return undefined;
}

/**
 * Checks a file secret: an env-style name, a relative file name that stays inside the job's
 * directory, content up to 1 MiB; throws one VALIDATION_FAILED listing every bad field.
 */
export function validateFileSecret(input: {
  name: string;
  fileName: string;
  content: Buffer;
}): void {
  const fields: { field: string; message: string }[] = [];
  const name = envNameProblem(input.name);
  if (name !== undefined) fields.push({ field: 'name', message: name });
  const fileName = fileNameProblem(input.fileName);
  if (fileName !== undefined) fields.push({ field: 'fileName', message: fileName });
  if (input.content.length > MAX_FILE_BYTES) {
    fields.push({ field: 'content', message: 'must be at most 1 MiB (1,048,576 bytes)' });
  }
  if (fields.length === 0) return;
  const message = fields.map((f) => `${f.field}: ${f.message}`).join('; ');
  throw new HushError('VALIDATION_FAILED', message, { fields });
}

/**
 * The masked preview of a secret value: its first and last 3 characters (code points) when it
 * has at least 16, else null.
 *
 * @example previewOf('postgres-password-1') // 'pos…d-1'
 */
export function previewOf(value: string): string | null {
  const chars = [...value];
  if (chars.length < 16) return null;
  return `${chars.slice(0, 3).join('')}…${chars.slice(-3).join('')}`;
}
