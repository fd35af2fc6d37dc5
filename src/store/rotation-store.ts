import type { Kysely } from 'kysely';
import { sql } from 'kysely';

import type { Database } from './db.js';
import type { RotationRow, RotationRunRow, Schema, SecretRow } from './schema.js';

export async function insertRotation(db: Kysely<Schema>, row: RotationRow): Promise<void> {
  await db.insertInto('rotations').values(row).execute();
}

export function findRotation(
  db: Kysely<Schema>,
  orgId: string,
  name: string,
): Promise<RotationRow | undefined> {
  return db
    .selectFrom('rotations')
    .selectAll()
    .where('orgId', '=', orgId)
    .where('name', '=', name)
    .executeTakeFirst();
}

export function findRotationOfSecret(
  db: Kysely<Schema>,
  secretId: string,
): Promise<RotationRow | undefined> {
  return db.selectFrom('rotations').selectAll().where('secretId', '=', secretId).executeTakeFirst();
}

/** The rotations of an organization with the secret each rotates, by name. */
export function listRotations(db: Kysely<Schema>, orgId: string) {
  return db
    .selectFrom('rotations')
    .innerJoin('secrets', 'secrets.id', 'rotations.secretId')
    .selectAll('rotations')
    .select([
      'secrets.name as secretName',
      'secrets.level as secretLevel',
      'secrets.projectId as secretProjectId',
      'secrets.environmentId as secretEnvironmentId',
    ])
    .where('rotations.orgId', '=', orgId)
    .orderBy('rotations.name')
    .execute();
}

export async function updateRotation(
  db: Kysely<Schema>,
  id: string,
  patch: Partial<RotationRow>,
): Promise<void> {
  await db.updateTable('rotations').set(patch).where('id', '=', id).execute();
}

export async function deleteRotation(db: Kysely<Schema>, id: string): Promise<void> {
  await db.deleteFrom('rotations').where('id', '=', id).execute();
}

/**
 * Claims the rotation due longest for `claimant` until `until`, or returns undefined: not
 * paused, due at `at`, and not claimed by a node whose claim still holds. The claim is one
 * UPDATE whose WHERE is checked again on the row it locks (and on PostgreSQL the candidate is
 * picked FOR UPDATE SKIP LOCKED, as jobs are), so two nodes never both run it.
 */
export async function claimDueRotation(
  database: Database,
  claimant: string,
  at: string,
  until: string,
): Promise<RotationRow | undefined> {
  const lock = database.dialect === 'postgres' ? sql`for update skip locked` : sql``;
  const free = sql`paused = 0 and next_run_at <= ${at} and (claimed_until is null or claimed_until < ${at})`;
  const result = await sql<RotationRow>`
    update rotations set claimed_by = ${claimant}, claimed_until = ${until}
    where id = (select id from rotations where ${free} order by next_run_at, id limit 1 ${lock})
      and ${free}
    returning *`.execute(database.db);
  return result.rows[0];
}

/** Claims one rotation now, due or not, unless another claim on it still holds. */
export function claimRotation(
  db: Kysely<Schema>,
  id: string,
  claimant: string,
  at: string,
  until: string,
): Promise<RotationRow | undefined> {
  return db
    .updateTable('rotations')
    .set({ claimedBy: claimant, claimedUntil: until })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('claimedUntil', 'is', null), eb('claimedUntil', '<', at)]))
    .returningAll()
    .executeTakeFirst();
}

export async function insertRotationRun(db: Kysely<Schema>, row: RotationRunRow): Promise<void> {
  await db.insertInto('rotationRuns').values(row).execute();
}

/** The latest runs of a rotation, newest first. */
export function listRotationRuns(
  db: Kysely<Schema>,
  rotationId: string,
  limit: number,
): Promise<RotationRunRow[]> {
  return db
    .selectFrom('rotationRuns')
    .selectAll()
    .where('rotationId', '=', rotationId)
    .orderBy('startedAt', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

/**
 * The unassigned pg services named `name` at the given scopes (one context's levels): the
 * caller takes the deepest.
 */
export function pgServicesAt(
  db: Kysely<Schema>,
  scopeIds: string[],
  name: string,
): Promise<SecretRow[]> {
  return db
    .selectFrom('secrets')
    .selectAll()
    .where('scopeId', 'in', scopeIds)
    .where('namespace', '=', 'pgservice')
    .where('name', '=', name)
    .where('assigneeId', 'is', null)
    .execute();
}
