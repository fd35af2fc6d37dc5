import type { Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  // A rotation keeps a pgservice secret's password changing: the secret it rotates, the admin
  // pg service (a name, resolved at the secret's level on every run) that may ALTER ROLE, the
  // strategy and its schedule. Removing the secret removes its rotation.
  await db.schema
    .createTable('rotations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) =>
      c.notNull().references('organizations.id').onDelete('cascade'),
    )
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('secret_id', 'text', (c) => c.notNull().references('secrets.id').onDelete('cascade'))
    .addColumn('admin_service', 'text', (c) => c.notNull())
    // 'single' or 'dual'; `roles` is the JSON array of the two login roles of `dual`.
    .addColumn('strategy', 'text', (c) => c.notNull())
    .addColumn('roles', 'text')
    // The new passwords: this many characters of this alphabet.
    .addColumn('password_length', 'integer', (c) => c.notNull())
    .addColumn('alphabet', 'text', (c) => c.notNull())
    // Seconds between scheduled runs (null: run by hand only) and a UTC time of day (HH:MM).
    .addColumn('every_seconds', 'integer')
    .addColumn('at_time', 'text')
    .addColumn('paused', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_run_at', 'text')
    // Failures in a row (backoff grows with it) and the last one's reason.
    .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('last_run_at', 'text')
    // The node running it now and until when its claim holds (a node that died lets go).
    .addColumn('claimed_by', 'text')
    .addColumn('claimed_until', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('rotations_org_name', ['org_id', 'name'])
    .addUniqueConstraint('rotations_secret', ['secret_id'])
    .execute();
  await db.schema.createIndex('rotations_due').on('rotations').columns(['next_run_at']).execute();
  // Every run of a rotation, for `rotation show` and the hygiene report.
  await db.schema
    .createTable('rotation_runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('rotation_id', 'text', (c) =>
      c.notNull().references('rotations.id').onDelete('cascade'),
    )
    // 'schedule' or 'manual'; a manual run names who asked for it.
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('requested_by', 'text')
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    // The login role the secret names after the run, and the version it wrote.
    .addColumn('role', 'text')
    .addColumn('version', 'integer')
    .execute();
  await db.schema
    .createIndex('rotation_runs_rotation')
    .on('rotation_runs')
    .columns(['rotation_id', 'started_at'])
    .execute();
  // When a token last authenticated a request: written at most once a minute per token and
  // node, off the request path (see domain/tokens/token-usage.ts).
  await db.schema.alterTable('api_tokens').addColumn('last_used_at', 'text').execute();
}
