import type { Kysely } from 'kysely';
import { sql } from 'kysely';

import type { Database } from './db.js';
import { idStartsWith } from './id-prefix.js';
import { findEnvironmentById } from './project-store.js';
import type { JobLogRow, JobRow, JobStatus, Schema } from './schema.js';

/** Inserts a queued job. */
export async function insertJob(db: Kysely<Schema>, row: JobRow): Promise<void> {
  await db.insertInto('jobs').values(row).execute();
}

/** A job of an organization by id. */
export function findJob(db: Kysely<Schema>, id: string): Promise<JobRow | undefined> {
  return db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Up to `limit` jobs of an organization whose id starts with `prefix`, in id order. */
export function findJobsByIdPrefix(
  db: Kysely<Schema>,
  orgId: string,
  prefix: string,
  limit: number,
): Promise<JobRow[]> {
  return db
    .selectFrom('jobs')
    .selectAll()
    .where(idStartsWith('jobs.id', prefix))
    .where('orgId', '=', orgId)
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** Jobs of a project, newest first. */
export function listJobs(db: Kysely<Schema>, projectId: string, limit: number): Promise<JobRow[]> {
  return db
    .selectFrom('jobs')
    .selectAll()
    .where('projectId', '=', projectId)
    .orderBy('createdAt', 'desc')
    .limit(limit)
    .execute();
}

/**
 * Claims the oldest queued job for a worker, or returns undefined. On PostgreSQL the row is
 * picked with FOR UPDATE SKIP LOCKED so concurrent workers never take the same job; SQLite has
 * a single writer, so the UPDATE … WHERE id = (SELECT …) is atomic there.
 */
export async function claimNextJob(
  database: Database,
  workerId: string,
  at: string,
): Promise<JobRow | undefined> {
  const lock = database.dialect === 'postgres' ? sql`for update skip locked` : sql``;
  const result = await sql<JobRow>`
    update jobs set status = 'running', worker_id = ${workerId}, started_at = ${at},
      heartbeat_at = ${at}, attempts = attempts + 1
    where id = (select id from jobs where status = 'queued' order by created_at, id limit 1 ${lock})
      and status = 'queued'
    returning *`.execute(database.db);
  return result.rows[0];
}

/** Records the worker's heartbeat and returns whether a cancel was requested. */
export async function heartbeat(
  db: Kysely<Schema>,
  id: string,
  at: string,
): Promise<{ cancelRequested: boolean }> {
  const row = await db
    .updateTable('jobs')
    .set({ heartbeatAt: at })
    .where('id', '=', id)
    .returning(['cancelRequestedAt'])
    .executeTakeFirst();
  return { cancelRequested: !!row?.cancelRequestedAt };
}

/** Updates fields of a job. */
export async function updateJob(
  db: Kysely<Schema>,
  id: string,
  patch: Partial<JobRow>,
): Promise<void> {
  await db.updateTable('jobs').set(patch).where('id', '=', id).execute();
}

/** Running jobs whose worker stopped sending heartbeats before `staleBefore`. */
export function listStaleJobs(db: Kysely<Schema>, staleBefore: string) {
  return db
    .selectFrom('jobs')
    .select(['id', 'orgId'])
    .where('status', '=', 'running')
    .where('heartbeatAt', '<', staleBefore)
    .execute();
}

/**
 * Fails one job found stale, unless it beat since, ended, or another node's reaper was first;
 * returns whether it did.
 */
export async function failStaleJob(
  db: Kysely<Schema>,
  id: string,
  staleBefore: string,
  at: string,
): Promise<boolean> {
  const result = await db
    .updateTable('jobs')
    .set({
      status: 'failed' as JobStatus,
      error: 'the worker running this job stopped (no heartbeat)',
      finishedAt: at,
    })
    .where('id', '=', id)
    .where('status', '=', 'running')
    .where('heartbeatAt', '<', staleBefore)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Appends log rows. */
export async function appendJobLogs(db: Kysely<Schema>, rows: JobLogRow[]): Promise<void> {
  // One INSERT binds 5 parameters a row: SQLite allows 32,766 and PostgreSQL 65,535 in all, so
  // a burst of output goes in as several statements.
  for (let i = 0; i < rows.length; i += JOB_LOG_ROWS_PER_INSERT) {
    await db
      .insertInto('jobLogs')
      .values(rows.slice(i, i + JOB_LOG_ROWS_PER_INSERT))
      .execute();
  }
}

/** The most log rows one INSERT carries (5 parameters each). */
export const JOB_LOG_ROWS_PER_INSERT = 1000;

/** Log rows after a sequence number. */
export function readJobLogs(
  db: Kysely<Schema>,
  jobId: string,
  afterSeq: number,
  limit = 1000,
): Promise<JobLogRow[]> {
  return db
    .selectFrom('jobLogs')
    .selectAll()
    .where('jobId', '=', jobId)
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .limit(limit)
    .execute();
}

/** The rows a job runs in: organization, project, environment, service and member e-mail. */
export async function findJobContext(db: Kysely<Schema>, job: JobRow) {
  const org = await db
    .selectFrom('organizations')
    .select(['id', 'slug'])
    .where('id', '=', job.orgId)
    .executeTakeFirstOrThrow();
  const project = await db
    .selectFrom('projects')
    .selectAll()
    .where('id', '=', job.projectId)
    .executeTakeFirstOrThrow();
  const environment = job.environmentId
    ? ((await findEnvironmentById(db, job.environmentId)) ?? null)
    : null;
  const service = job.serviceId
    ? ((await db
        .selectFrom('services')
        .selectAll()
        .where('id', '=', job.serviceId)
        .executeTakeFirst()) ?? null)
    : null;
  const member = job.memberId
    ? await db.selectFrom('users').select('email').where('id', '=', job.memberId).executeTakeFirst()
    : undefined;
  return { org, project, environment, service, memberEmail: member?.email ?? null };
}
