import type { Kysely } from 'kysely';

import { preparedQuery } from './prepared.js';
import type { Schema, SecretRow, SecretVersionRow } from './schema.js';

/** How many ciphertexts of old versions a secret keeps (SPEC §3: at least 10). */
export const KEPT_CIPHERTEXTS = 10;

// Every add runs both inserts: compiled once, every column always bound.
const secretInsert = preparedQuery(
  {
    id: null,
    orgId: null,
    level: null,
    scopeId: null,
    projectId: null,
    environmentId: null,
    serviceId: null,
    kind: null,
    namespace: null,
    name: null,
    sensitivity: null,
    assigneeId: null,
    fileName: null,
    currentVersion: null,
    createdAt: null,
    updatedAt: null,
  },
  (db, row: SecretRow) => db.insertInto('secrets').values(row),
);

const versionInsert = preparedQuery(
  {
    secretId: null,
    version: null,
    keyId: null,
    ciphertext: null,
    preview: null,
    source: null,
    fromVersion: null,
    createdAt: null,
    createdBy: null,
    tool: null,
  },
  (db, row: SecretVersionRow) => db.insertInto('secretVersions').values(row),
);

/** Inserts a secret; the same (level, scope, name, assignee) raises a unique violation. */
export async function insertSecret(db: Kysely<Schema>, row: SecretRow): Promise<void> {
  await secretInsert(db, row);
}

/** Inserts a version row. */
export async function insertSecretVersion(
  db: Kysely<Schema>,
  row: SecretVersionRow,
): Promise<void> {
  await versionInsert(db, row);
}

/** A secret of an organization by id. */
export function findSecret(
  db: Kysely<Schema>,
  orgId: string,
  id: string,
): Promise<SecretRow | undefined> {
  return db
    .selectFrom('secrets')
    .selectAll()
    .where('orgId', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/** Secrets with their assignee's e-mail and their current version's row. */
function withCurrentVersion(db: Kysely<Schema>) {
  return db
    .selectFrom('secrets')
    .leftJoin('users', 'users.id', 'secrets.assigneeId')
    .innerJoin('secretVersions', (j) =>
      j
        .onRef('secretVersions.secretId', '=', 'secrets.id')
        .onRef('secretVersions.version', '=', 'secrets.currentVersion'),
    )
    .selectAll('secrets')
    .select(['users.email as assigneeEmail', 'secretVersions.preview']);
}

/** Secrets at one level and scope, with their assignee's e-mail and current preview. */
export function listSecretsAt(db: Kysely<Schema>, level: SecretRow['level'], scopeId: string) {
  return withCurrentVersion(db)
    .where('secrets.level', '=', level)
    .where('secrets.scopeId', '=', scopeId)
    .orderBy('secrets.namespace')
    .orderBy('secrets.name')
    .execute();
}

/**
 * Every secret of the given scopes (the levels of one job context) with the current version's
 * ciphertext, preview and assignee e-mail: the resolver's input, in one query.
 */
export function listCandidates(db: Kysely<Schema>, scopeIds: string[]) {
  return withCurrentVersion(db)
    .select(['secretVersions.keyId', 'secretVersions.ciphertext'])
    .where('secrets.scopeId', 'in', scopeIds)
    .execute();
}

/** Versions of a secret, newest first. */
export function listSecretVersions(
  db: Kysely<Schema>,
  secretId: string,
): Promise<SecretVersionRow[]> {
  return db
    .selectFrom('secretVersions')
    .selectAll()
    .where('secretId', '=', secretId)
    .orderBy('version', 'desc')
    .execute();
}

/** One version of a secret. */
export function findSecretVersion(db: Kysely<Schema>, secretId: string, version: number) {
  return db
    .selectFrom('secretVersions')
    .selectAll()
    .where('secretId', '=', secretId)
    .where('version', '=', version)
    .executeTakeFirst();
}

/** Moves a secret to a new current version and drops ciphertexts older than the kept window. */
export async function setCurrentVersion(
  db: Kysely<Schema>,
  secretId: string,
  version: number,
  at: string,
): Promise<void> {
  await db
    .updateTable('secrets')
    .set({ currentVersion: version, updatedAt: at })
    .where('id', '=', secretId)
    .execute();
  await db
    .updateTable('secretVersions')
    .set({ ciphertext: null })
    .where('secretId', '=', secretId)
    .where('version', '<=', version - KEPT_CIPHERTEXTS)
    .where('ciphertext', 'is not', null)
    .execute();
}

/** Deletes a secret with all its versions and ciphertexts. */
export async function deleteSecret(db: Kysely<Schema>, id: string): Promise<void> {
  await db.deleteFrom('secretVersions').where('secretId', '=', id).execute();
  await db.deleteFrom('secrets').where('id', '=', id).execute();
}
