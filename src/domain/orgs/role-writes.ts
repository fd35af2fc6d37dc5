import { randomUUID } from 'node:crypto';

import type { Kysely } from 'kysely';

import { hushError } from '../../errors.js';
import { translateDbErrors } from '../../store/db-errors.js';
import { updateMemberRole } from '../../store/org-store.js';
import {
  countRoleHolders,
  deleteCustomRole,
  insertCustomRole,
  updateCustomRoleGrants,
} from '../../store/role-store.js';
import type { CustomRoleRow, OrganizationRow, Schema } from '../../store/schema.js';
import { now } from '../context.js';
import type { Grant } from '../policy/custom-roles.js';
import type { Recorder } from '../projects/project-writes.js';

// The writes of custom roles and members' roles with their audit events, once: the role and
// member services and `hush apply` go through them, after authorizing `members:manage`.

/** A grant as the audit log and clients read it: project slug, environment type, level. */
export type NamedGrant = { project: string; type: string; level: string };

/** Inserts a custom role and records CREATE; a taken name is a CONFLICT naming `name`. */
export async function writeRole(
  trx: Kysely<Schema>,
  { audit, ctx }: Recorder,
  org: OrganizationRow,
  input: { name: string; grants: Grant[]; named: NamedGrant[] },
): Promise<CustomRoleRow> {
  const row: CustomRoleRow = {
    id: randomUUID(),
    orgId: org.id,
    name: input.name,
    grants: JSON.stringify(input.grants),
    createdAt: now(),
  };
  await translateDbErrors(() => insertCustomRole(trx, row), {
    message: `a role named "${input.name}" already exists`,
    details: { field: 'name' },
  });
  await audit.append(trx, ctx, {
    orgId: org.id,
    eventType: 'CREATE',
    targetType: 'role',
    targetId: row.id,
    targetName: row.name,
    change: `created custom role ${row.name}`,
    details: { role: { id: row.id, name: row.name, grants: input.named } },
  });
  return row;
}

/** Replaces a custom role's grants and records UPDATE with the grants before and after. */
export async function changeRoleGrants(
  trx: Kysely<Schema>,
  { audit, ctx }: Recorder,
  org: OrganizationRow,
  role: CustomRoleRow,
  change: { grants: Grant[]; from: NamedGrant[]; to: NamedGrant[] },
): Promise<void> {
  await updateCustomRoleGrants(trx, role.id, JSON.stringify(change.grants));
  await audit.append(trx, ctx, {
    orgId: org.id,
    eventType: 'UPDATE',
    targetType: 'role',
    targetId: role.id,
    targetName: role.name,
    change: `changed the grants of custom role ${role.name}`,
    details: { from: { grants: change.from }, to: { grants: change.to } },
  });
}

/** Deletes a custom role nobody holds and records DELETE; a held role is a CONFLICT. */
export async function dropRole(
  trx: Kysely<Schema>,
  { audit, ctx }: Recorder,
  org: OrganizationRow,
  role: CustomRoleRow,
): Promise<void> {
  const holders = await countRoleHolders(trx, org.id, role.name);
  if (holders > 0)
    throw hushError(
      'CONFLICT',
      `role "${role.name}" is held by ${holders} members or tokens; change their roles first`,
    );
  await deleteCustomRole(trx, role.id);
  await audit.append(trx, ctx, {
    orgId: org.id,
    eventType: 'DELETE',
    targetType: 'role',
    targetId: role.id,
    targetName: role.name,
    change: `deleted custom role ${role.name}`,
  });
}

/**
 * Gives a member another role and records UPDATE. The Owner keeps the role until ownership is
 * transferred (CONFLICT); the caller has checked that `role` is assignable.
 */
export async function changeMemberRole(
  trx: Kysely<Schema>,
  { audit, ctx }: Recorder,
  org: OrganizationRow,
  member: { userId: string; email: string; role: string },
  role: string,
): Promise<void> {
  if (member.role === 'owner') {
    throw hushError('CONFLICT', 'the Owner keeps the role until ownership is transferred');
  }
  await updateMemberRole(trx, org.id, member.userId, role);
  await audit.append(trx, ctx, {
    orgId: org.id,
    eventType: 'UPDATE',
    targetType: 'member',
    targetId: member.userId,
    targetName: member.email,
    change: `changed role of ${member.email} from ${member.role} to ${role}`,
    details: { from: member.role, to: role },
  });
}
