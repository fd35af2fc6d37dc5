import { type Kysely, sql } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  // The audit MAC key, wrapped by the master key like a data key (and re-wrapped with them when
  // the master key rotates). One row, id 'instance'; the server creates it at its first start
  // after this migration, since only the server holds the master key.
  await db.schema
    .createTable('audit_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('wrapped_key', 'text', (c) => c.notNull())
    .addColumn('master_key_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  // Events from keyed_from_seq on are HMAC-SHA-256 under the audit key; older ones keep their
  // plain SHA-256. A chain made from now on is keyed from its first event (the default); a chain
  // that exists already is keyed from its next event.
  await db.schema
    .alterTable('audit_heads')
    .addColumn('keyed_from_seq', 'bigint', (c) => c.notNull().defaultTo(1))
    .execute();
  await sql`update audit_heads set keyed_from_seq = seq + 1`.execute(db);
  // An HMAC over (org, keyed_from_seq, anchor_seq, anchor_hash): moving the start of keying (to
  // pass forged events off as unkeyed ones) or the retention anchor (to hide deleted events)
  // breaks it. Null until the server seals the heads that exist now, when it creates the key.
  await db.schema.alterTable('audit_heads').addColumn('head_mac', 'text').execute();
}
