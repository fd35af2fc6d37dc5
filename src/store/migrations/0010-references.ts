import type { Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  // The references of a version's value (`${NAME}`, `${org.NAME}`, `${project.env.NAME}`; an
  // alias's target), as JSON text, names only: what resolution, ETags and explain need without
  // decrypting. NULL: the value is literal text. Versions written before references existed
  // stay literal, as they were written.
  await db.schema.alterTable('secret_versions').addColumn('refs', 'text').execute();
  // A pgservice secret whose connection settings are also given to jobs as HUSH_PG_<NAME>_*
  // variables (0 or 1).
  await db.schema
    .alterTable('secrets')
    .addColumn('export_env', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  // The service token that started a job (null for a person's): at run time, its references to
  // other environments read only where that token may run jobs.
  await db.schema.alterTable('jobs').addColumn('token_id', 'text').execute();
}
