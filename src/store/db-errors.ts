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
