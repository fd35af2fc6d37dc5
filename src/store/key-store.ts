import type { Kysely } from 'kysely';

import type { AuditKeyRow, DataKeyRow, MasterKeyRow, Schema, SecretVersionRow } from './schema.js';

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

/** Replaces the wrapping of one data key if `fromMasterKeyId` still wraps it; returns whether. */
export async function rewrapDataKey(
  db: Kysely<Schema>,
  id: string,
  fromMasterKeyId: string,
  wrappedKey: string,
  masterKeyId: string,
): Promise<boolean> {
  const result = await db
    .updateTable('dataKeys')
    .set({ wrappedKey, masterKeyId })
    .where('id', '=', id)
    .where('masterKeyId', '=', fromMasterKeyId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
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
  fromMasterKeyId: string,
  wrappedKey: string,
  masterKeyId: string,
): Promise<void> {
  await db
    .updateTable('auditKeys')
    .set({ wrappedKey, masterKeyId })
    .where('id', '=', id)
    .where('masterKeyId', '=', fromMasterKeyId)
    .execute();
}

/**
 * The master key the cluster wraps new data keys with, or undefined before a node adopted one.
 * `lock` (PostgreSQL): hold a share lock on its row until commit, so an activation of another
 * key waits for every wrap already under way and none wraps with a superseded key after it.
 */
export function findActiveMasterKey(
  db: Kysely<Schema>,
  dialect: 'sqlite' | 'postgres',
  lock = false,
): Promise<MasterKeyRow | undefined> {
  const query = db.selectFrom('masterKeys').selectAll().where('state', '=', 'active');
  return (lock && dialect === 'postgres' ? query.forShare() : query).executeTakeFirst();
}

/** Every master key the cluster has a state for, by id. */
export function listMasterKeyStates(db: Kysely<Schema>): Promise<MasterKeyRow[]> {
  return db.selectFrom('masterKeys').selectAll().orderBy('id').execute();
}

/** Sets the state of a master key (inserting its row the first time). */
export async function setMasterKeyState(db: Kysely<Schema>, row: MasterKeyRow): Promise<void> {
  await db
    .insertInto('masterKeys')
    .values(row)
    .onConflict((oc) => oc.column('id').doUpdateSet({ state: row.state, changedAt: row.changedAt }))
    .execute();
}

/**
 * Records `row` as the active master key unless a key is active already or `row`'s key has a
 * state (the unique index on the active state settles two nodes adopting at once); returns
 * whether it was recorded.
 */
export async function adoptActiveMasterKey(
  db: Kysely<Schema>,
  row: MasterKeyRow,
): Promise<boolean> {
  const result = await db
    .insertInto('masterKeys')
    .values(row)
    .onConflict((oc) => oc.doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** How many data keys and audit keys each master key wraps. */
export async function countWrapsByMasterKey(
  db: Kysely<Schema>,
): Promise<Map<string, { dataKeys: number; auditKeys: number }>> {
  const counts = new Map<string, { dataKeys: number; auditKeys: number }>();
  const entry = (id: string) => {
    let e = counts.get(id);
    if (!e) counts.set(id, (e = { dataKeys: 0, auditKeys: 0 }));
    return e;
  };
  const data = await db
    .selectFrom('dataKeys')
    .select(['masterKeyId', (eb) => eb.fn.countAll<string>().as('n')])
    .groupBy('masterKeyId')
    .execute();
  for (const r of data) entry(r.masterKeyId).dataKeys = Number(r.n);
  for (const r of await listAuditKeys(db)) entry(r.masterKeyId).auditKeys++;
  return counts;
}

/** The data keys of one organization, oldest first. */
export function listOrgDataKeys(db: Kysely<Schema>, orgId: string): Promise<DataKeyRow[]> {
  return db
    .selectFrom('dataKeys')
    .selectAll()
    .where('orgId', '=', orgId)
    .orderBy('createdAt')
    .execute();
}

/**
 * The active data key id of an organization, read fresh; `lock` (PostgreSQL) holds a share lock
 * on the organization's row until commit, so a data-key rotation waits for every seal under way.
 */
export async function findActiveDataKeyId(
  db: Kysely<Schema>,
  dialect: 'sqlite' | 'postgres',
  orgId: string,
): Promise<string | null | undefined> {
  const query = db.selectFrom('organizations').select('activeDataKeyId').where('id', '=', orgId);
  const row = await (dialect === 'postgres' ? query.forShare() : query).executeTakeFirst();
  return row?.activeDataKeyId;
}

/** Up to `limit` versions of an organization whose ciphertext is sealed with another data key. */
export function findVersionsNotSealedWith(
  db: Kysely<Schema>,
  orgId: string,
  keyId: string,
  limit: number,
): Promise<Pick<SecretVersionRow, 'secretId' | 'version' | 'keyId' | 'ciphertext'>[]> {
  return db
    .selectFrom('secretVersions')
    .innerJoin('secrets', 'secrets.id', 'secretVersions.secretId')
    .select([
      'secretVersions.secretId',
      'secretVersions.version',
      'secretVersions.keyId',
      'secretVersions.ciphertext',
    ])
    .where('secrets.orgId', '=', orgId)
    .where('secretVersions.keyId', '!=', keyId)
    .orderBy('secretVersions.secretId')
    .orderBy('secretVersions.version')
    .limit(limit)
    .execute();
}

/**
 * Replaces one version's sealing, only if it is still sealed with `fromKeyId` (a concurrent
 * pass may have done it); returns whether it did.
 */
export async function resealVersion(
  db: Kysely<Schema>,
  v: {
    secretId: string;
    version: number;
    fromKeyId: string;
    keyId: string;
    ciphertext: string | null;
  },
): Promise<boolean> {
  const result = await db
    .updateTable('secretVersions')
    .set({ keyId: v.keyId, ciphertext: v.ciphertext })
    .where('secretId', '=', v.secretId)
    .where('version', '=', v.version)
    .where('keyId', '=', v.fromKeyId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Deletes the organization's data keys other than `keepId` that no version is sealed with. */
export async function deleteUnusedDataKeys(
  db: Kysely<Schema>,
  orgId: string,
  keepId: string,
): Promise<number> {
  const result = await db
    .deleteFrom('dataKeys')
    .where('orgId', '=', orgId)
    .where('id', '!=', keepId)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('secretVersions')
            .select('secretVersions.secretId')
            .whereRef('secretVersions.keyId', '=', 'dataKeys.id'),
        ),
      ),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** How many versions of an organization are sealed with a data key other than `keyId`. */
export async function countVersionsNotSealedWith(
  db: Kysely<Schema>,
  orgId: string,
  keyId: string,
): Promise<number> {
  const row = await db
    .selectFrom('secretVersions')
    .innerJoin('secrets', 'secrets.id', 'secretVersions.secretId')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('secrets.orgId', '=', orgId)
    .where('secretVersions.keyId', '!=', keyId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Every organization's id, slug and active data key (for data-key rotation). */
export function listOrganizationKeys(db: Kysely<Schema>) {
  return db
    .selectFrom('organizations')
    .select(['id', 'slug', 'activeDataKeyId'])
    .orderBy('slug')
    .execute();
}
