import rateLimit, { type FastifyRateLimitStore } from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';

import type { SignInBrake } from '../domain/accounts/sign-in-brake.js';
import { hushError } from '../errors.js';

/** The window of the per-address sign-in limit. */
export const SIGN_IN_WINDOW_MS = 60_000;

declare module 'fastify' {
  interface FastifyInstance {
    /** What addRoute puts on a route that takes a password or setup token. */
    signInRateLimit: { max: number; timeWindow: number } | false;
  }
}

/**
 * @fastify/rate-limit's store, in the database so that every node counts the same requests:
 * one atomic upsert per request, through the sign-in brake.
 */
function databaseStore(brake: SignInBrake) {
  return class DatabaseStore implements FastifyRateLimitStore {
    incr(
      key: string,
      callback: (error: Error | null, result?: { current: number; ttl: number }) => void,
      timeWindow: number,
    ): void {
      brake.countAddressRequest(key, timeWindow).then(
        (result) => callback(null, result),
        (error: Error) => callback(error),
      );
    }

    child(): FastifyRateLimitStore {
      return this;
    }
  };
}

/**
 * The per-address limit on the routes that check a password or setup token (login, setup,
 * accepting an invitation): `perMinute` requests per client address across all of them and
 * every node, then 429 RATE_LIMITED with Retry-After until the window ends. The per-account
 * brake (sign-in-brake.ts) is the other half: this one stops one address trying many accounts.
 */
export async function installSignInLimit(
  app: FastifyInstance,
  brake: SignInBrake,
  perMinute: number,
): Promise<void> {
  app.decorate(
    'signInRateLimit',
    perMinute > 0 ? { max: perMinute, timeWindow: SIGN_IN_WINDOW_MS } : false,
  );
  await app.register(rateLimit, {
    global: false,
    store: databaseStore(brake),
    // One budget for all sign-in routes: the key is the address alone, not address and route.
    keyGenerator: (request) => `sign-in:${request.ip}`,
    addHeadersOnExceeding: {
      'x-ratelimit-limit': false,
      'x-ratelimit-remaining': false,
      'x-ratelimit-reset': false,
    },
    addHeaders: {
      'x-ratelimit-limit': false,
      'x-ratelimit-remaining': false,
      'x-ratelimit-reset': false,
      'retry-after': true,
    },
    errorResponseBuilder: (_request, context) =>
      hushError(
        'RATE_LIMITED',
        `too many sign-in requests from this address; retry in ${context.after}`,
        { retryAfterSeconds: Math.max(1, Math.ceil(context.ttl / 1000)) },
      ),
  });
}
