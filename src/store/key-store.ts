import type { Kysely } from 'kysely';

import type { AuditKeyRow, DataKeyRow, Schema } from './schema.js';

/** Inserts a wrapped data key. */
export async function insertDataKey(db: Kysely<Schema>, row: DataKeyRow): Promise<void> {
  await db.insertInto('dataKeys').values(row).execute();
}

/** Makes a data key the one the organization's new values are sealed with. */
export async function activateDataKey(
  db: Kysely<Schema>,
  orgId: string,
  keyId: string,
): Promise<void> {
  await db
    .updateTable('organizations')
    .set({ activeDataKeyId: keyId })
    .where('id', '=', orgId)
    .execute();
}

/** The newest data key of an organization (for an organization row that names none). */
export function findActiveDataKey(
  db: Kysely<Schema>,
  orgId: string,
): Promise<DataKeyRow | undefined> {
  return db
    .selectFrom('dataKeys')
    .selectAll()
    .where('orgId', '=', orgId)
    .orderBy('createdAt', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** A data key by id. */
export function findDataKey(db: Kysely<Schema>, id: string): Promise<DataKeyRow | undefined> {
  return db.selectFrom('dataKeys').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Every data key (for master-key rotation). */
export function listAllDataKeys(db: Kysely<Schema>): Promise<DataKeyRow[]> {
  return db.selectFrom('dataKeys').selectAll().orderBy('id').execute();
}

/** Replaces the wrapping of one data key. */
export async function rewrapDataKey(
  db: Kysely<Schema>,
  id: string,
  wrappedKey: string,
  masterKeyId: string,
): Promise<void> {
  await db.updateTable('dataKeys').set({ wrappedKey, masterKeyId }).where('id', '=', id).execute();
}

/** The audit MAC key row (one per instance, id `instance`), or undefined before it is made. */
export function findAuditKey(db: Kysely<Schema>, id: string): Promise<AuditKeyRow | undefined> {
  return db.selectFrom('auditKeys').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Inserts the audit key unless one with its id exists; returns whether this insert made it. */
export async function insertAuditKey(db: Kysely<Schema>, row: AuditKeyRow): Promise<boolean> {
  const result = await db
    .insertInto('auditKeys')
    .values(row)
    .onConflict((oc) => oc.column('id').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** Every audit key (for master-key rotation). */
export function listAuditKeys(db: Kysely<Schema>): Promise<AuditKeyRow[]> {
  return db.selectFrom('auditKeys').selectAll().orderBy('id').execute();
}

/** Replaces the wrapping of the audit key. */
export async function rewrapAuditKey(
  db: Kysely<Schema>,
  id: string,
  wrappedKey: string,
  masterKeyId: string,
): Promise<void> {
  await db.updateTable('auditKeys').set({ wrappedKey, masterKeyId }).where('id', '=', id).execute();
}
