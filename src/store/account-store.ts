import type { Kysely } from 'kysely';

import { idStartsWith } from './id-prefix.js';
import { preparedQuery } from './prepared.js';
import type { ApiTokenRow, Schema, SessionRow, UserRow } from './schema.js';

/** Inserts a user; a taken e-mail raises the driver's unique violation. */
export async function insertUser(db: Kysely<Schema>, row: UserRow): Promise<void> {
  await db.insertInto('users').values(row).execute();
}

/** A user by (lower-cased) e-mail. */
export function findUserByEmail(db: Kysely<Schema>, email: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
}

/** A user by id. */
export function findUserById(db: Kysely<Schema>, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

/** How many user accounts exist (first-run setup is open while there are none). */
export async function countUsers(db: Kysely<Schema>): Promise<number> {
  const row = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Inserts a session row (the token itself is never stored, only its hash). */
export async function insertSession(db: Kysely<Schema>, row: SessionRow): Promise<void> {
  await db.insertInto('sessions').values(row).execute();
}

// Run on every request a session cookie comes with: compiled once.
const liveSession = preparedQuery(
  { tokenHash: null, at: null },
  (db, p: { tokenHash: string; at: string }) =>
    db
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.userId')
      .select(['sessions.id', 'sessions.userId', 'users.email'])
      .where('sessions.tokenHash', '=', p.tokenHash)
      .where('sessions.revokedAt', 'is', null)
      .where('sessions.expiresAt', '>', p.at),
);

/** A live (unrevoked, unexpired) session with its user, by token hash. */
export async function findLiveSession(db: Kysely<Schema>, tokenHash: string, at: string) {
  return (await liveSession(db, { tokenHash, at })).rows[0];
}

/** Marks a session revoked; returns whether a live one was found. */
export async function revokeSession(db: Kysely<Schema>, id: string, at: string): Promise<boolean> {
  const result = await db
    .updateTable('sessions')
    .set({ revokedAt: at })
    .where('id', '=', id)
    .where('revokedAt', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Inserts an API token row; a live token with the same name raises a unique violation. */
export async function insertApiToken(db: Kysely<Schema>, row: ApiTokenRow): Promise<void> {
  await db.insertInto('apiTokens').values(row).execute();
}

// Run on every request a bearer token comes with: compiled once.
const liveApiToken = preparedQuery(
  { tokenHash: null, at: null },
  (db, a: { tokenHash: string; at: string }) =>
    db
      .selectFrom('apiTokens')
      .leftJoin('users', 'users.id', 'apiTokens.userId')
      .leftJoin('organizations', 'organizations.id', 'apiTokens.orgId')
      .leftJoin('auditHeads', 'auditHeads.orgId', 'apiTokens.orgId')
      .selectAll('apiTokens')
      .select([
        'users.email',
        'organizations.slug as orgSlug',
        'organizations.name as orgName',
        'organizations.plan as orgPlan',
        'organizations.auditRetentionDays as orgAuditRetentionDays',
        'organizations.createdAt as orgCreatedAt',
        'organizations.activeDataKeyId as orgActiveDataKeyId',
        'auditHeads.changeSeq as orgChangeSeq',
      ])
      .where('apiTokens.tokenHash', '=', a.tokenHash)
      .where('apiTokens.revokedAt', 'is', null)
      .where((eb) =>
        eb.or([eb('apiTokens.expiresAt', 'is', null), eb('apiTokens.expiresAt', '>', a.at)]),
      ),
);

/**
 * A live API token by hash, with its user's e-mail for personal tokens, and for service tokens
 * their organization with its change seq (read in the same statement, so the runtime read needs
 * no second one).
 */
export async function findLiveApiToken(db: Kysely<Schema>, tokenHash: string, at: string) {
  return (await liveApiToken(db, { tokenHash, at })).rows[0];
}

/** A service token by id, if it is still live (not revoked, not expired). */
export function findLiveServiceToken(db: Kysely<Schema>, id: string, at: string) {
  return db
    .selectFrom('apiTokens')
    .selectAll()
    .where('id', '=', id)
    .where('kind', '=', 'service')
    .where('revokedAt', 'is', null)
    .where((eb) => eb.or([eb('expiresAt', 'is', null), eb('expiresAt', '>', at)]))
    .executeTakeFirst();
}

/** Records a token's use at `at`, unless a later one is recorded already. */
export async function recordTokenUse(db: Kysely<Schema>, id: string, at: string): Promise<void> {
  await db
    .updateTable('apiTokens')
    .set({ lastUsedAt: at })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('lastUsedAt', 'is', null), eb('lastUsedAt', '<', at)]))
    .execute();
}

/** Live service tokens of an organization, or personal tokens of a user. */
export function listApiTokens(
  db: Kysely<Schema>,
  owner: { orgId: string } | { userId: string },
): Promise<ApiTokenRow[]> {
  let q = db.selectFrom('apiTokens').selectAll().where('revokedAt', 'is', null);
  q =
    'orgId' in owner
      ? q.where('orgId', '=', owner.orgId).where('kind', '=', 'service')
      : q.where('userId', '=', owner.userId).where('kind', '=', 'personal');
  return q.orderBy('createdAt', 'asc').execute();
}

/** Who a token belongs to: an organization (service tokens) or a user (personal tokens). */
export type TokenOwner = { orgId: string } | { userId: string };

/**
 * Up to `limit` live tokens of an owner: the one with id `id` (`{ id }`), or those whose id
 * starts with `prefix` (`{ prefix }`), in id order.
 */
export function findLiveApiTokens(
  db: Kysely<Schema>,
  owner: TokenOwner,
  ref: { id: string } | { prefix: string },
  limit: number,
): Promise<ApiTokenRow[]> {
  let q = db
    .selectFrom('apiTokens')
    .selectAll()
    .where((eb) => ('id' in ref ? eb('id', '=', ref.id) : idStartsWith('apiTokens.id', ref.prefix)))
    .where('revokedAt', 'is', null);
  q =
    'orgId' in owner
      ? q.where('orgId', '=', owner.orgId).where('kind', '=', 'service')
      : q.where('userId', '=', owner.userId).where('kind', '=', 'personal');
  return q.orderBy('id').limit(limit).execute();
}

/** Revokes a live token of its owner by name or by id; returns the revoked row, if any. */
export async function revokeApiToken(
  db: Kysely<Schema>,
  owner: TokenOwner,
  ref: { name: string } | { id: string },
  at: string,
): Promise<ApiTokenRow | undefined> {
  let q = db
    .updateTable('apiTokens')
    .set({ revokedAt: at })
    .where((eb) => ('name' in ref ? eb('name', '=', ref.name) : eb('id', '=', ref.id)))
    .where('revokedAt', 'is', null);
  q =
    'orgId' in owner
      ? q.where('orgId', '=', owner.orgId).where('kind', '=', 'service')
      : q.where('userId', '=', owner.userId).where('kind', '=', 'personal');
  return q.returningAll().executeTakeFirst();
}

/** Reads an instance-wide setting. */
export async function getInstanceSetting(
  db: Kysely<Schema>,
  key: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('instanceSettings')
    .select('value')
    .where('key', '=', key)
    .executeTakeFirst();
  return row?.value;
}

/** Writes (or replaces) an instance-wide setting. */
export async function setInstanceSetting(
  db: Kysely<Schema>,
  key: string,
  value: string,
): Promise<void> {
  await db
    .insertInto('instanceSettings')
    .values({ key, value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
    .execute();
}

/** Deletes an instance-wide setting. */
export async function deleteInstanceSetting(db: Kysely<Schema>, key: string): Promise<void> {
  await db.deleteFrom('instanceSettings').where('key', '=', key).execute();
}
