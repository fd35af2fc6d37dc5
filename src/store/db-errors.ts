import { type ErrorCode, HushError } from '../errors.js';

interface DriverError {
  code?: unknown;
  constraint?: unknown;
  message?: unknown;
}

/** True when a driver error is a unique-constraint violation (SQLite or PostgreSQL). */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as DriverError | null;
  return (
    e !== null &&
    typeof e === 'object' &&
    (e.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
      e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
      e.code === '23505')
  );
}

/** True when a driver error is a foreign-key violation. */
export function isForeignKeyViolation(error: unknown): boolean {
  const e = error as DriverError | null;
  return (
    e !== null &&
    typeof e === 'object' &&
    (e.code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || e.code === '23503')
  );
}

const UNREACHABLE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * True when the database could not be reached or did not answer: PostgreSQL down, restarting
 * (57P01-57P03), refusing connections (class 08, 53300, a database closed to connections), a
 * dropped connection or a pool timeout,
 * or SQLite still locked by another writer after its busy timeout.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const e = error as DriverError | null;
  if (e === null || typeof e !== 'object') return false;
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : '';
  return (
    UNREACHABLE_ERRNOS.has(code) ||
    code.startsWith('08') ||
    ['57P01', '57P02', '57P03', '53300'].includes(code) ||
    code.startsWith('SQLITE_BUSY') ||
    code.startsWith('SQLITE_LOCKED') ||
    /^Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|is not currently accepting connections/.test(
      message,
    )
  );
}

/** True when the database's disk is full (SQLite SQLITE_FULL, PostgreSQL 53100). */
export function isStorageFull(error: unknown): boolean {
  const e = error as DriverError | null;
  return e !== null && typeof e === 'object' && (e.code === 'SQLITE_FULL' || e.code === '53100');
}

/**
 * True for a conflict between concurrent transactions that running the same one again resolves:
 * SQLite's snapshot too old for a write (SQLITE_BUSY_SNAPSHOT), PostgreSQL's serialization
 * failure (40001) or deadlock (40P01).
 */
export function isRetryableConflict(error: unknown): boolean {
  const e = error as DriverError | null;
  return (
    e !== null &&
    typeof e === 'object' &&
    (e.code === 'SQLITE_BUSY_SNAPSHOT' || e.code === '40001' || e.code === '40P01')
  );
}

/**
 * Runs a write and translates the database's own refusals into registered errors:
 * a unique violation becomes `code` (default NAME_TAKEN) with `message`, keeping the driver error as cause.
 */
export async function translateDbErrors<T>(
  write: () => Promise<T>,
  onUnique: { message: string; code?: ErrorCode; details?: Record<string, unknown> },
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new HushError(onUnique.code ?? 'NAME_TAKEN', onUnique.message, onUnique.details, {
        cause: error,
      });
    }
    throw error;
  }
}
