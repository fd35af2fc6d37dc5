import { type Kysely, sql } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  // The data key new values are encrypted with, named by the organization row that every write
  // already reads in its transaction: sealing needs no query of its own and no process keeps a
  // copy that another server could make stale. No foreign key: data_keys already references
  // organizations, and the two would only make each other's inserts order-dependent.
  await db.schema.alterTable('organizations').addColumn('active_data_key_id', 'text').execute();
  await sql`update organizations set active_data_key_id = (
    select id from data_keys where data_keys.org_id = organizations.id
    order by created_at desc limit 1)`.execute(db);
}
