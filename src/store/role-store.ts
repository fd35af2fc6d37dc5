import type { Kysely } from 'kysely';

import type { CustomRoleRow, Schema } from './schema.js';

/** Inserts a custom role; a taken name in the organization raises a unique violation. */
export async function insertCustomRole(db: Kysely<Schema>, row: CustomRoleRow): Promise<void> {
  await db.insertInto('customRoles').values(row).execute();
}

/** A custom role of an organization by name. */
export function findCustomRole(
  db: Kysely<Schema>,
  orgId: string,
  name: string,
): Promise<CustomRoleRow | undefined> {
  return db
    .selectFrom('customRoles')
    .selectAll()
    .where('orgId', '=', orgId)
    .where('name', '=', name)
    .executeTakeFirst();
}

/** Custom roles of an organization, by name. */
export function listCustomRoles(db: Kysely<Schema>, orgId: string): Promise<CustomRoleRow[]> {
  return db
    .selectFrom('customRoles')
    .selectAll()
    .where('orgId', '=', orgId)
    .orderBy('name')
    .execute();
}

/** Deletes a custom role. */
export async function deleteCustomRole(db: Kysely<Schema>, id: string): Promise<void> {
  await db.deleteFrom('customRoles').where('id', '=', id).execute();
}

/** How many members and live tokens of the organization hold a role. */
export async function countRoleHolders(
  db: Kysely<Schema>,
  orgId: string,
  role: string,
): Promise<number> {
  const members = await db
    .selectFrom('members')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('orgId', '=', orgId)
    .where('role', '=', role)
    .executeTakeFirstOrThrow();
  const tokens = await db
    .selectFrom('apiTokens')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('orgId', '=', orgId)
    .where('role', '=', role)
    .where('revokedAt', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(members.n) + Number(tokens.n);
}

/** Replaces a custom role's grants (JSON, as stored). */
export async function updateCustomRoleGrants(
  db: Kysely<Schema>,
  id: string,
  grants: string,
): Promise<void> {
  await db.updateTable('customRoles').set({ grants }).where('id', '=', id).execute();
}
