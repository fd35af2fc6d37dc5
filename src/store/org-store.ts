import type { Kysely } from 'kysely';

import { idStartsWith } from './id-prefix.js';
import { preparedQuery } from './prepared.js';
import type { InvitationRow, MemberRow, OrganizationRow, ProjectRow, Schema } from './schema.js';

/** Inserts an organization; a taken slug raises the driver's unique violation. */
export async function insertOrganization(db: Kysely<Schema>, row: OrganizationRow): Promise<void> {
  await db.insertInto('organizations').values(row).execute();
}

// Every organization-scoped request starts with one of these two: compiled once.
const organizationBySlug = preparedQuery({ slug: null }, (db, p: { slug: string }) =>
  db.selectFrom('organizations').selectAll().where('slug', '=', p.slug),
);

const organizationWithProject = preparedQuery(
  { slug: null, projectSlug: null },
  (db, p: { slug: string; projectSlug: string }) =>
    db
      .selectFrom('organizations')
      .leftJoin('projects', (join) =>
        join
          .onRef('projects.orgId', '=', 'organizations.id')
          .on('projects.slug', '=', p.projectSlug),
      )
      .selectAll('organizations')
      .select([
        'projects.id as projectId',
        'projects.slug as projectSlug',
        'projects.name as projectName',
        'projects.createdAt as projectCreatedAt',
      ])
      .where('organizations.slug', '=', p.slug),
);

/** An organization by slug. */
export async function findOrganizationBySlug(
  db: Kysely<Schema>,
  slug: string,
): Promise<OrganizationRow | undefined> {
  return (await organizationBySlug(db, { slug })).rows[0];
}

/**
 * An organization by slug and, from the same query, its project of `projectSlug` (null when it
 * has none of that slug); undefined when there is no such organization.
 */
export async function findOrganizationWithProject(
  db: Kysely<Schema>,
  slug: string,
  projectSlug: string,
): Promise<{ org: OrganizationRow; project: ProjectRow | null } | undefined> {
  const row = (await organizationWithProject(db, { slug, projectSlug })).rows[0];
  if (!row) return undefined;
  const { projectId, projectSlug: foundSlug, projectName, projectCreatedAt, ...org } = row;
  const project =
    projectId === null
      ? null
      : {
          id: projectId,
          orgId: org.id,
          slug: foundSlug!,
          name: projectName!,
          createdAt: projectCreatedAt!,
        };
  return { org, project };
}

/** An organization by id. */
export function findOrganizationById(
  db: Kysely<Schema>,
  id: string,
): Promise<OrganizationRow | undefined> {
  return db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Organizations the user is a member of, with the user's role. */
export function listOrganizationsOfUser(db: Kysely<Schema>, userId: string) {
  return db
    .selectFrom('organizations')
    .innerJoin('members', 'members.orgId', 'organizations.id')
    .selectAll('organizations')
    .select('members.role')
    .where('members.userId', '=', userId)
    .orderBy('organizations.slug')
    .execute();
}

/** Updates name/plan/retention of an organization. */
export async function updateOrganization(
  db: Kysely<Schema>,
  id: string,
  patch: Partial<Pick<OrganizationRow, 'name' | 'plan' | 'auditRetentionDays'>>,
): Promise<void> {
  await db.updateTable('organizations').set(patch).where('id', '=', id).execute();
}

/** Deletes an organization; members, projects, keys and tokens go with it (audit events stay). */
export async function deleteOrganization(db: Kysely<Schema>, id: string): Promise<void> {
  await db.deleteFrom('organizations').where('id', '=', id).execute();
}

/** Adds a member row; an existing membership raises the driver's unique violation. */
export async function insertMember(db: Kysely<Schema>, row: MemberRow): Promise<void> {
  await db.insertInto('members').values(row).execute();
}

/** Members of an organization with their e-mails. */
export function listMembers(db: Kysely<Schema>, orgId: string) {
  return db
    .selectFrom('members')
    .innerJoin('users', 'users.id', 'members.userId')
    .select(['members.userId', 'users.email', 'members.role', 'members.createdAt'])
    .where('members.orgId', '=', orgId)
    .orderBy('users.email')
    .execute();
}

/** One member by e-mail. */
export function findMemberByEmail(db: Kysely<Schema>, orgId: string, email: string) {
  return db
    .selectFrom('members')
    .innerJoin('users', 'users.id', 'members.userId')
    .select(['members.userId', 'users.email', 'members.role', 'members.createdAt'])
    .where('members.orgId', '=', orgId)
    .where('users.email', '=', email)
    .executeTakeFirst();
}

// Read by `authorize` for every request of a person: compiled once.
const memberRole = preparedQuery(
  { orgId: null, userId: null },
  (db, p: { orgId: string; userId: string }) =>
    db
      .selectFrom('members')
      .select('role')
      .where('orgId', '=', p.orgId)
      .where('userId', '=', p.userId),
);

/** The role of a user in an organization, or undefined when not a member. */
export async function findMemberRole(
  db: Kysely<Schema>,
  orgId: string,
  userId: string,
): Promise<string | undefined> {
  return (await memberRole(db, { orgId, userId })).rows[0]?.role;
}

/** Changes a member's role. */
export async function updateMemberRole(
  db: Kysely<Schema>,
  orgId: string,
  userId: string,
  role: string,
): Promise<void> {
  await db
    .updateTable('members')
    .set({ role })
    .where('orgId', '=', orgId)
    .where('userId', '=', userId)
    .execute();
}

/** Removes a member. */
export async function deleteMember(
  db: Kysely<Schema>,
  orgId: string,
  userId: string,
): Promise<void> {
  await db.deleteFrom('members').where('orgId', '=', orgId).where('userId', '=', userId).execute();
}

/** Inserts an invitation (only the token's hash is stored). */
export async function insertInvitation(db: Kysely<Schema>, row: InvitationRow): Promise<void> {
  await db.insertInto('invitations').values(row).execute();
}

/** A pending (not accepted, not revoked, not expired) invitation by token hash. */
export function findPendingInvitation(db: Kysely<Schema>, tokenHash: string, at: string) {
  return db
    .selectFrom('invitations')
    .innerJoin('organizations', 'organizations.id', 'invitations.orgId')
    .selectAll('invitations')
    .select('organizations.slug as orgSlug')
    .where('invitations.tokenHash', '=', tokenHash)
    .where('invitations.acceptedAt', 'is', null)
    .where('invitations.revokedAt', 'is', null)
    .where('invitations.expiresAt', '>', at)
    .executeTakeFirst();
}

/** Marks an invitation accepted, only if it is still pending; returns whether it was. */
export async function markInvitationAccepted(
  db: Kysely<Schema>,
  id: string,
  at: string,
): Promise<boolean> {
  const r = await db
    .updateTable('invitations')
    .set({ acceptedAt: at })
    .where('id', '=', id)
    .where('acceptedAt', 'is', null)
    .where('revokedAt', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Pending invitations of an organization. */
export function listPendingInvitations(db: Kysely<Schema>, orgId: string, at: string) {
  return db
    .selectFrom('invitations')
    .select(['id', 'email', 'role', 'createdAt', 'expiresAt'])
    .where('orgId', '=', orgId)
    .where('acceptedAt', 'is', null)
    .where('revokedAt', 'is', null)
    .where('expiresAt', '>', at)
    .orderBy('createdAt')
    .execute();
}

/** Revokes a pending invitation of an organization; returns it, or undefined if none. */
/** Pending invitations of an organization whose id is `id` or starts with `prefix`. */
export function findPendingInvitationsById(
  db: Kysely<Schema>,
  orgId: string,
  ref: { id: string } | { prefix: string; limit: number },
) {
  let query = db
    .selectFrom('invitations')
    .select(['id', 'email', 'role'])
    .where('orgId', '=', orgId)
    .where('acceptedAt', 'is', null)
    .where('revokedAt', 'is', null);
  query =
    'id' in ref
      ? query.where('id', '=', ref.id)
      : query.where(idStartsWith('invitations.id', ref.prefix)).orderBy('id').limit(ref.limit);
  return query.execute();
}

export function revokeInvitation(db: Kysely<Schema>, orgId: string, id: string, at: string) {
  return db
    .updateTable('invitations')
    .set({ revokedAt: at })
    .where('orgId', '=', orgId)
    .where('id', '=', id)
    .where('acceptedAt', 'is', null)
    .where('revokedAt', 'is', null)
    .returning(['id', 'email', 'role'])
    .executeTakeFirst();
}

/** The e-mails of an organization's members, in order, at most `limit` (for suggestions). */
export async function listMemberEmails(
  db: Kysely<Schema>,
  orgId: string,
  limit: number,
): Promise<string[]> {
  const rows = await db
    .selectFrom('members')
    .innerJoin('users', 'users.id', 'members.userId')
    .select('users.email')
    .where('members.orgId', '=', orgId)
    .orderBy('users.email')
    .limit(limit)
    .execute();
  return rows.map((r) => r.email);
}
