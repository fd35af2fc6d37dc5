import type { ExpressionBuilder, Kysely } from 'kysely';

import { idStartsWith } from './id-prefix.js';
import { onPostgres, preparedQuery } from './prepared.js';
import type { Schema, SecretRow, SecretVersionRow } from './schema.js';

/** How many ciphertexts of old versions a secret keeps (SPEC §3: at least 10). */
export const KEPT_CIPHERTEXTS = 10;

// The parameters of a secret row: every column, always bound.
const SECRET_COLUMNS: { readonly [K in keyof SecretRow]-?: null } = {
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
  exportEnv: null,
  currentVersion: null,
  createdAt: null,
  updatedAt: null,
};

// Every add runs both inserts (SQLite) or the one below (PostgreSQL): compiled once.
const secretInsert = preparedQuery(SECRET_COLUMNS, (db, row: SecretRow) =>
  db.insertInto('secrets').values(row),
);

const versionInsert = preparedQuery(
  {
    secretId: null,
    version: null,
    keyId: null,
    ciphertext: null,
    preview: null,
    refs: null,
    source: null,
    fromVersion: null,
    createdAt: null,
    createdBy: null,
    tool: null,
  },
  (db, row: SecretVersionRow) => db.insertInto('secretVersions').values(row),
);

/** The sealed value and provenance of one version of a secret. */
export type SealedVersion = Pick<
  SecretVersionRow,
  'keyId' | 'ciphertext' | 'preview' | 'refs' | 'createdBy' | 'tool'
>;

// PostgreSQL takes both rows in one statement (a data-modifying WITH; the foreign key is checked
// at the end of the statement, when the secret is there): one round trip less per add.
const secretWithFirstVersionInsert = preparedQuery(
  {
    ...SECRET_COLUMNS,
    keyId: null,
    ciphertext: null,
    preview: null,
    refs: null,
    createdBy: null,
    tool: null,
  },
  (db, p: SecretRow & SealedVersion) => {
    const { keyId, ciphertext, preview, refs, createdBy, tool, ...row } = p;
    return db
      .with('secret', (q) => q.insertInto('secrets').values(row))
      .insertInto('secretVersions')
      .values({
        secretId: row.id,
        version: 1,
        keyId,
        ciphertext,
        preview,
        refs,
        source: 'add',
        fromVersion: null,
        createdAt: row.createdAt,
        createdBy,
        tool,
      });
  },
);

/**
 * Inserts a secret with its version 1, in one statement where the database allows it; the same
 * (level, scope, name, assignee) raises a unique violation and inserts neither.
 */
export async function insertSecretWithFirstVersion(
  db: Kysely<Schema>,
  row: SecretRow,
  first: SealedVersion,
): Promise<void> {
  if (onPostgres(db)) {
    await secretWithFirstVersionInsert(db, { ...row, ...first });
    return;
  }
  await secretInsert(db, row);
  await versionInsert(db, {
    secretId: row.id,
    version: 1,
    source: 'add',
    fromVersion: null,
    createdAt: row.createdAt,
    ...first,
  });
}

// Rows a multi-row insert carries: 16 columns a secret, well under SQLite's 32,766 and
// PostgreSQL's 65,535 bound parameters.
const ROWS_PER_INSERT = 500;

/**
 * Inserts many secrets with their version 1 (a bulk `secret set` or import): one multi-row
 * insert per 500 secrets and one per 500 versions, in the caller's transaction. A name taken at
 * its level raises a unique violation and, the transaction failing, inserts none.
 */
export async function insertSecretsWithFirstVersions(
  db: Kysely<Schema>,
  items: readonly { row: SecretRow; first: SealedVersion }[],
): Promise<void> {
  for (let i = 0; i < items.length; i += ROWS_PER_INSERT) {
    const chunk = items.slice(i, i + ROWS_PER_INSERT);
    await db
      .insertInto('secrets')
      .values(chunk.map((c) => c.row))
      .execute();
    await db
      .insertInto('secretVersions')
      .values(
        chunk.map(({ row, first }) => ({
          secretId: row.id,
          version: 1,
          source: 'add' as const,
          fromVersion: null,
          createdAt: row.createdAt,
          ...first,
        })),
      )
      .execute();
  }
}

/**
 * The secrets of these names in one namespace at one level held by one assignee (null:
 * unassigned), with the current version's key id and ciphertext: what a bulk set compares its
 * values with. Only the named rows are read, whatever else the level holds.
 */
export async function listSealedAt(
  db: Kysely<Schema>,
  at: { level: SecretRow['level']; scopeId: string },
  namespace: SecretRow['namespace'],
  assigneeId: string | null,
  names: readonly string[],
) {
  const rows = [];
  for (let i = 0; i < names.length; i += NAMES_PER_QUERY)
    rows.push(
      ...(await sealedAt(db, at, namespace, assigneeId, names.slice(i, i + NAMES_PER_QUERY))),
    );
  return rows;
}

// Names one lookup binds: well under SQLite's 32,766 parameters.
const NAMES_PER_QUERY = 1000;

function sealedAt(
  db: Kysely<Schema>,
  at: { level: SecretRow['level']; scopeId: string },
  namespace: SecretRow['namespace'],
  assigneeId: string | null,
  names: readonly string[],
) {
  return db
    .selectFrom('secrets')
    .innerJoin('secretVersions', (j) =>
      j
        .onRef('secretVersions.secretId', '=', 'secrets.id')
        .onRef('secretVersions.version', '=', 'secrets.currentVersion'),
    )
    .selectAll('secrets')
    .select(['secretVersions.keyId', 'secretVersions.ciphertext', 'secretVersions.refs'])
    .where('secrets.level', '=', at.level)
    .where('secrets.scopeId', '=', at.scopeId)
    .where('secrets.namespace', '=', namespace)
    .where('secrets.name', 'in', names)
    .where((eb) =>
      assigneeId === null
        ? eb('secrets.assigneeId', 'is', null)
        : eb('secrets.assigneeId', '=', assigneeId),
    )
    .execute();
}

/** The names among `names` that some secret of the organization has (any level, kind or assignee). */
export async function namesInOrganization(
  db: Kysely<Schema>,
  orgId: string,
  names: readonly string[],
): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < names.length; i += NAMES_PER_QUERY) {
    const rows = await db
      .selectFrom('secrets')
      .select('name')
      .distinct()
      .where('orgId', '=', orgId)
      .where('name', 'in', names.slice(i, i + NAMES_PER_QUERY))
      .execute();
    for (const r of rows) found.add(r.name);
  }
  return found;
}

/** The distinct names of the organization's pgservice secrets. */
export async function pgServiceNames(db: Kysely<Schema>, orgId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('secrets')
    .select('name')
    .distinct()
    .where('orgId', '=', orgId)
    .where('namespace', '=', 'pgservice')
    .execute();
  return rows.map((r) => r.name);
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

/** Up to `limit` secrets of an organization whose id starts with `prefix`, in id order. */
export function findSecretsByIdPrefix(
  db: Kysely<Schema>,
  orgId: string,
  prefix: string,
  limit: number,
): Promise<SecretRow[]> {
  return db
    .selectFrom('secrets')
    .selectAll()
    .where(idStartsWith('secrets.id', prefix))
    .where('orgId', '=', orgId)
    .orderBy('id')
    .limit(limit)
    .execute();
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
    .select(['users.email as assigneeEmail', 'secretVersions.preview', 'secretVersions.refs']);
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
 * The resolver's input, in one query: every secret of the given scopes (the levels of one job
 * context) that `memberId` may see (unassigned ones, and those assigned to that member; a null
 * member sees only unassigned ones), with the current version's key id and ciphertext. Only the
 * columns resolution and decryption use: materializing rows is most of this query's cost.
 */
export function listCandidates(db: Kysely<Schema>, scopeIds: string[], memberId: string | null) {
  return db
    .selectFrom('secrets')
    .innerJoin('secretVersions', (j) =>
      j
        .onRef('secretVersions.secretId', '=', 'secrets.id')
        .onRef('secretVersions.version', '=', 'secrets.currentVersion'),
    )
    .select([
      'secrets.id',
      'secrets.scopeId',
      'secrets.level',
      'secrets.kind',
      'secrets.namespace',
      'secrets.name',
      'secrets.assigneeId',
      'secrets.fileName',
      'secrets.sensitivity',
      'secrets.exportEnv',
      'secrets.currentVersion',
      'secretVersions.keyId',
      'secretVersions.ciphertext',
      'secretVersions.refs',
    ])
    .where('secrets.scopeId', 'in', scopeIds)
    .where((eb) => visibleTo(eb, memberId))
    .execute();
}

/** Unassigned secrets, and those assigned to `memberId` (none for a null member). */
function visibleTo(eb: ExpressionBuilder<Schema, 'secrets'>, memberId: string | null) {
  return memberId === null
    ? eb('secrets.assigneeId', 'is', null)
    : eb.or([eb('secrets.assigneeId', 'is', null), eb('secrets.assigneeId', '=', memberId)]);
}

/** Assignee e-mail and current preview of the same secrets as {@link listCandidates}, by id. */
export function listCandidateLabels(
  db: Kysely<Schema>,
  scopeIds: string[],
  memberId: string | null,
) {
  return db
    .selectFrom('secrets')
    .leftJoin('users', 'users.id', 'secrets.assigneeId')
    .innerJoin('secretVersions', (j) =>
      j
        .onRef('secretVersions.secretId', '=', 'secrets.id')
        .onRef('secretVersions.version', '=', 'secrets.currentVersion'),
    )
    .select(['secrets.id', 'users.email as assigneeEmail', 'secretVersions.preview'])
    .where('secrets.scopeId', 'in', scopeIds)
    .where((eb) => visibleTo(eb, memberId))
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

/** Turns a pgservice secret's derived HUSH_PG_* variables on or off for jobs. */
export async function setExportEnv(
  db: Kysely<Schema>,
  secretId: string,
  on: boolean,
  at: string,
): Promise<void> {
  await db
    .updateTable('secrets')
    .set({ exportEnv: on ? 1 : 0, updatedAt: at })
    .where('id', '=', secretId)
    .execute();
}

/** Deletes a secret with all its versions and ciphertexts. */
export async function deleteSecret(db: Kysely<Schema>, id: string): Promise<void> {
  await db.deleteFrom('secretVersions').where('secretId', '=', id).execute();
  await db.deleteFrom('secrets').where('id', '=', id).execute();
}

/**
 * What a configuration file may declare of every secret of an organization: name, kind, level
 * (as scope ids), sensitivity and the assignee's e-mail. Never a value or a version.
 */
export function listSecretDeclarations(db: Kysely<Schema>, orgId: string) {
  return db
    .selectFrom('secrets')
    .leftJoin('users', 'users.id', 'secrets.assigneeId')
    .select([
      'secrets.name',
      'secrets.kind',
      'secrets.level',
      'secrets.projectId',
      'secrets.environmentId',
      'secrets.serviceId',
      'secrets.sensitivity',
      'users.email as assignee',
    ])
    .where('secrets.orgId', '=', orgId)
    .orderBy('secrets.name')
    .execute();
}
