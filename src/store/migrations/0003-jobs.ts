import type { Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) =>
      c.notNull().references('organizations.id').onDelete('cascade'),
    )
    .addColumn('project_id', 'text', (c) =>
      c.notNull().references('projects.id').onDelete('cascade'),
    )
    .addColumn('environment_id', 'text', (c) => c.references('environments.id').onDelete('cascade'))
    .addColumn('service_id', 'text', (c) => c.references('services.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    // A shell command line (service jobs) or a JSON argv (ad-hoc jobs).
    .addColumn('command', 'text', (c) => c.notNull())
    .addColumn('working_dir', 'text')
    .addColumn('timeout_seconds', 'integer', (c) => c.notNull())
    .addColumn('member_id', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('triggered_by', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('exit_code', 'integer')
    .addColumn('error', 'text')
    .addColumn('worker_id', 'text')
    .addColumn('heartbeat_at', 'text')
    .addColumn('cancel_requested_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text')
    .addColumn('process_started_at', 'text')
    .addColumn('process_exited_at', 'text')
    .addColumn('finished_at', 'text')
    .execute();
  await db.schema.createIndex('jobs_queue').on('jobs').columns(['status', 'created_at']).execute();
  await db.schema
    .createIndex('jobs_project')
    .on('jobs')
    .columns(['project_id', 'created_at'])
    .execute();

  await db.schema
    .createTable('job_logs')
    .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('stream', 'text', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('job_logs_pk', ['job_id', 'seq'])
    .execute();
}
