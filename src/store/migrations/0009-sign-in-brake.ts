import type { Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  // The sign-in brake's state, in the database so that every node on it brakes alike: failed
  // attempts per account (login and invitation acceptance) and when the next one may come.
  // Times are epoch milliseconds: they are compared, never shown.
  await db.schema
    .createTable('sign_in_failures')
    .addColumn('email', 'text', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('last_failure_ms', 'bigint', (c) => c.notNull())
    .addColumn('blocked_until_ms', 'bigint', (c) => c.notNull())
    .execute();
  // Request counters of the per-address limit on the sign-in routes (@fastify/rate-limit's
  // store): one fixed window per key.
  await db.schema
    .createTable('rate_limits')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('hits', 'integer', (c) => c.notNull())
    .addColumn('window_ends_ms', 'bigint', (c) => c.notNull())
    .execute();
}
