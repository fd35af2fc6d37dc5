import type { Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  // The seq of the organization's last state-changing event (CREATE, UPDATE, DELETE, ROTATE,
  // ROLLBACK). Every change is audited in its own transaction, so this one number moves with
  // every change of the organization's secrets, projects, roles and tokens: the runtime read
  // cache compares it instead of re-reading and re-decrypting an unchanged context.
  await db.schema
    .alterTable('audit_heads')
    .addColumn('change_seq', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
}
