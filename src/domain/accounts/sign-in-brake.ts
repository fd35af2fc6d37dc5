import type { Kysely } from 'kysely';

import { type HushError, hushError } from '../../errors.js';
import {
  clearSignInFailures,
  countRequest,
  insertSignInFailures,
  purgeRateLimits,
  purgeSignInFailures,
  readSignInFailures,
  replaceSignInFailures,
  type SignInFailures,
} from '../../store/brake-store.js';
import type { Schema } from '../../store/schema.js';

/** Failed attempts an account gets before the brake spaces the next ones out. */
export const FREE_FAILURES = 5;
/** The longest an account ever waits between attempts: a brake, not a lockout. */
export const MAX_DELAY_MS = 60_000;
/** An hour without a failure and the account starts over. */
export const FORGET_AFTER_MS = 60 * 60_000;
const PURGE_EVERY_MS = 10 * 60_000;
const CONTENDED_TRIES = 5;

/**
 * How long the next attempt must wait after the `failures`-th: nothing for the first
 * {@link FREE_FAILURES}, then 1 s, 2 s, 4 s … up to {@link MAX_DELAY_MS}.
 *
 * @example
 * delayAfter(5); // 0
 * delayAfter(6); // 1000
 * delayAfter(20); // 60000
 */
export function delayAfter(failures: number): number {
  if (failures <= FREE_FAILURES) return 0;
  return Math.min(1000 * 2 ** (failures - FREE_FAILURES - 1), MAX_DELAY_MS);
}

function braked(waitMs: number): HushError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return hushError(
    'RATE_LIMITED',
    `too many failed sign-ins for this account; retry in ${seconds} s`,
    { retryAfterSeconds: seconds },
  );
}

/**
 * The brake on password guessing, shared by every node through the database and by every way
 * a password is checked (sign-in and accepting an invitation). Per account (the e-mail, known
 * or not, so that the answer does not tell which exist): each attempt is counted before the
 * password is checked (parallel guesses count too) and the right password clears the count;
 * after {@link FREE_FAILURES} failures the next attempt must wait a growing delay, capped at
 * {@link MAX_DELAY_MS}, during which even the right password gets RATE_LIMITED. The owner of
 * an account under attack waits at most a minute, never a lockout.
 */
export function createSignInBrake(db: Kysely<Schema>, clock: () => number = Date.now) {
  let lastPurge = 0;

  async function purgeNow(t: number): Promise<void> {
    if (t - lastPurge < PURGE_EVERY_MS) return;
    lastPurge = t;
    await purgeSignInFailures(db, t - FORGET_AFTER_MS);
  }

  /**
   * Admits one attempt for `email` and counts it as a failure until {@link succeeded} clears
   * it. Throws RATE_LIMITED (with `retryAfterSeconds`) while the account must wait.
   */
  async function admit(email: string): Promise<void> {
    for (let attempt = 0; attempt < CONTENDED_TRIES; attempt += 1) {
      const t = clock();
      await purgeNow(t);
      const row = await readSignInFailures(db, email);
      if (row && row.blockedUntilMs > t) throw braked(row.blockedUntilMs - t);
      const failures = !row || t - row.lastFailureMs > FORGET_AFTER_MS ? 1 : row.failures + 1;
      const next: SignInFailures = {
        failures,
        lastFailureMs: t,
        blockedUntilMs: t + delayAfter(failures),
      };
      const written = row
        ? await replaceSignInFailures(db, email, row, next)
        : await insertSignInFailures(db, email, next);
      if (written) return;
    }
    // Other attempts for this account keep winning the race: it is being hammered.
    throw braked(1000);
  }

  /** The right password was given: the account's count starts over. */
  async function succeeded(email: string): Promise<void> {
    await clearSignInFailures(db, email);
  }

  let lastRequestPurge = 0;

  /**
   * Counts one request of a client address for the per-address limit (the store behind
   * @fastify/rate-limit): the count in the current fixed window and the ms until it ends.
   */
  async function countAddressRequest(
    key: string,
    windowMs: number,
  ): Promise<{ current: number; ttl: number }> {
    const t = clock();
    if (t - lastRequestPurge >= PURGE_EVERY_MS) {
      lastRequestPurge = t;
      await purgeRateLimits(db, t - windowMs);
    }
    const { hits, windowEndsMs } = await countRequest(db, key, windowMs, t);
    return { current: hits, ttl: Math.max(0, windowEndsMs - t) };
  }

  return { admit, succeeded, countAddressRequest };
}

export type SignInBrake = ReturnType<typeof createSignInBrake>;
