import type { Kysely } from 'kysely';
import { sql } from 'kysely';

import type { Schema } from './schema.js';

/** An account's failed sign-ins as the brake reads them (times in epoch milliseconds). */
export interface SignInFailures {
  failures: number;
  lastFailureMs: number;
  blockedUntilMs: number;
}

/** The brake's row for an e-mail, or undefined when it has no recent failures. */
export async function readSignInFailures(
  db: Kysely<Schema>,
  email: string,
): Promise<SignInFailures | undefined> {
  const row = await db
    .selectFrom('signInFailures')
    .select(['failures', 'lastFailureMs', 'blockedUntilMs'])
    .where('email', '=', email)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    failures: Number(row.failures),
    lastFailureMs: Number(row.lastFailureMs),
    blockedUntilMs: Number(row.blockedUntilMs),
  };
}

/** Inserts the first row for an e-mail; false when another request inserted one first. */
export async function insertSignInFailures(
  db: Kysely<Schema>,
  email: string,
  next: SignInFailures,
): Promise<boolean> {
  const result = await db
    .insertInto('signInFailures')
    .values({ email, ...next })
    .onConflict((oc) => oc.column('email').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
}

/**
 * Replaces an e-mail's row if it is still `expected` (compare and set, the same on both
 * databases); false when a concurrent attempt changed it first.
 */
export async function replaceSignInFailures(
  db: Kysely<Schema>,
  email: string,
  expected: SignInFailures,
  next: SignInFailures,
): Promise<boolean> {
  const result = await db
    .updateTable('signInFailures')
    .set(next)
    .where('email', '=', email)
    .where('failures', '=', expected.failures)
    .where('lastFailureMs', '=', expected.lastFailureMs)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Forgets an e-mail's failures (after the right password). */
export async function clearSignInFailures(db: Kysely<Schema>, email: string): Promise<void> {
  await db.deleteFrom('signInFailures').where('email', '=', email).execute();
}

/** Deletes rows whose last failure is older than `beforeMs` and that no longer brake. */
export async function purgeSignInFailures(db: Kysely<Schema>, beforeMs: number): Promise<void> {
  await db
    .deleteFrom('signInFailures')
    .where('lastFailureMs', '<', beforeMs)
    .where('blockedUntilMs', '<', beforeMs)
    .execute();
}

/**
 * Counts one request against `key` in a fixed window of `windowMs`, atomically (one upsert):
 * a window that has ended starts over at 1. Returns the count and when the window ends.
 */
export async function countRequest(
  db: Kysely<Schema>,
  key: string,
  windowMs: number,
  nowMs: number,
): Promise<{ hits: number; windowEndsMs: number }> {
  const ended = sql<boolean>`rate_limits.window_ends_ms <= ${nowMs}`;
  const row = await db
    .insertInto('rateLimits')
    .values({ key, hits: 1, windowEndsMs: nowMs + windowMs })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        hits: sql<number>`case when ${ended} then 1 else rate_limits.hits + 1 end`,
        windowEndsMs: sql<number>`case when ${ended} then ${nowMs + windowMs} else rate_limits.window_ends_ms end`,
      }),
    )
    .returning(['hits', 'windowEndsMs'])
    .executeTakeFirstOrThrow();
  return { hits: Number(row.hits), windowEndsMs: Number(row.windowEndsMs) };
}

/** Deletes request counters whose window ended before `beforeMs`. */
export async function purgeRateLimits(db: Kysely<Schema>, beforeMs: number): Promise<void> {
  await db.deleteFrom('rateLimits').where('windowEndsMs', '<', beforeMs).execute();
}
