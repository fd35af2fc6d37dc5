import { type Kysely, sql } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  // The cluster's view of its master keys, so that every node wraps with the same one: `active`
  // (at most one row: new data keys are wrapped with it), `previous` (was active, still wraps
  // data keys until a retire re-wraps them) or `retired` (no node wraps with it again). Key
  // material never lives here: each node holds its keys in its key file or HUSH_MASTER_KEY*.
  await db.schema
    .createTable('master_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('changed_at', 'text', (c) => c.notNull())
    .execute();
  // At most one active key, even when two nodes of a new database adopt theirs at once.
  await sql`create unique index master_keys_one_active on master_keys (state) where state = 'active'`.execute(
    db,
  );
  // Data-key rotation looks for the versions still sealed with an organization's older keys.
  await db.schema
    .createIndex('secret_versions_key')
    .on('secret_versions')
    .column('key_id')
    .execute();
}
