import { type Kysely, sql } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('secrets')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) =>
      c.notNull().references('organizations.id').onDelete('cascade'),
    )
    .addColumn('level', 'text', (c) => c.notNull())
    // The id of the organization, project, environment or service the secret lives at.
    .addColumn('scope_id', 'text', (c) => c.notNull())
    // Parents, so deleting a project, environment or service deletes its secrets.
    .addColumn('project_id', 'text', (c) => c.references('projects.id').onDelete('cascade'))
    .addColumn('environment_id', 'text', (c) => c.references('environments.id').onDelete('cascade'))
    .addColumn('service_id', 'text', (c) => c.references('services.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('namespace', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('sensitivity', 'text', (c) => c.notNull())
    .addColumn('assignee_id', 'text', (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('file_name', 'text')
    .addColumn('current_version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  // NULL assignees must not slip past uniqueness (SPEC §2): index the coalesced value.
  await sql`create unique index secrets_identity on secrets
    (level, scope_id, namespace, name, coalesce(assignee_id, ''))`.execute(db);
  await db.schema
    .createIndex('secrets_scope')
    .on('secrets')
    .columns(['scope_id', 'namespace', 'name'])
    .execute();
  await db.schema.createIndex('secrets_org').on('secrets').column('org_id').execute();

  await db.schema
    .createTable('secret_versions')
    .addColumn('secret_id', 'text', (c) => c.notNull().references('secrets.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    // NULL once pruned: only the newest ciphertexts are kept.
    .addColumn('ciphertext', 'text')
    .addColumn('preview', 'text')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('from_version', 'integer')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('tool', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('secret_versions_pk', ['secret_id', 'version'])
    .execute();
}
