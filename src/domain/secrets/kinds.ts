import { HushError } from '../../errors.js';

export const SECRET_KINDS = ['env', 'pgservice', 'file'] as const;
export type SecretKind = (typeof SECRET_KINDS)[number];

const ENV_NAME = /^[A-Z][A-Z0-9_]*$/;
const RESERVED_EXACT = new Set(['PATH', 'HOME', 'PGSERVICEFILE']);
const RESERVED_PREFIXES = ['HUSH_', 'LD_'];
export const MAX_ENV_VALUE_BYTES = 64 * 1024;
export const MAX_FILE_BYTES = 1024 * 1024;

function fail(field: string, message: string): never {
  throw new HushError('VALIDATION_FAILED', `${field}: ${message}`, {
    fields: [{ field, message }],
  });
}

/** Checks an env/file variable name (SPEC §3). Throws VALIDATION_FAILED naming the field. */
export function validateEnvName(name: string, field = 'name'): void {
  if (name.length === 0 || name.length > 255) fail(field, 'must have 1 to 255 characters');
  if (!ENV_NAME.test(name)) {
    fail(field, 'capitals only: start with A-Z, then A-Z, 0-9 or _');
  }
  if (RESERVED_EXACT.has(name) || RESERVED_PREFIXES.some((p) => name.startsWith(p))) {
    fail(
      field,
      `${name} is reserved (HUSH_*, LD_*, PATH, HOME and PGSERVICEFILE are set by Hush or the system)`,
    );
  }
}

/** Checks an env value: UTF-8 up to 64 KiB, no NUL byte. */
export function validateEnvValue(value: string, field = 'value'): void {
  if (Buffer.byteLength(value, 'utf8') > MAX_ENV_VALUE_BYTES) fail(field, 'must be at most 64 KiB');
  if (value.includes('\0')) fail(field, 'must not contain a NUL byte');
}

/** Checks a file secret: env-style name, a safe relative file name, content up to 1 MiB. */
export function validateFileSecret(input: {
  name: string;
  fileName: string;
  content: Buffer;
}): void {
  validateEnvName(input.name);
  const f = input.fileName;
  if (f.length === 0 || f.length > 255) fail('fileName', 'must have 1 to 255 characters');
  if (f.startsWith('/')) fail('fileName', 'must be a relative path');
  if (f.includes('\0') || f.includes('\\')) fail('fileName', 'must not contain NUL or backslash');
  if (f.split('/').some((part) => part === '..' || part === '' || part === '.')) {
    fail('fileName', 'must not contain empty, "." or ".." segments');
  }
  if (input.content.length > MAX_FILE_BYTES) fail('content', 'must be at most 1 MiB');
}

/** The masked preview: first and last 3 characters for values of 16 characters or more, else null. */
export function previewOf(value: string): string | null {
  const chars = [...value];
  if (chars.length < 16) return null;
  return `${chars.slice(0, 3).join('')}…${chars.slice(-3).join('')}`;
}
