import type { Kysely } from 'kysely';
import { z } from 'zod';

import { hushError, invalid } from '../../errors.js';
import { listProjects } from '../../store/project-store.js';
import { findCustomRole, listCustomRoles } from '../../store/role-store.js';
import type { CustomRoleRow, Schema } from '../../store/schema.js';
import type { AuditService } from '../audit/audit-service.js';
import type { RequestContext } from '../context.js';
import type { Grant, GrantLevel } from '../policy/custom-roles.js';
import { BUILTIN_ROLES, isBuiltinRole, ROLE_LABELS, roleSlug } from '../policy/roles.js';
import { loadProjectRow } from '../projects/project-service.js';
import type { UnitOfWork } from '../unit-of-work.js';
import type { EnvironmentType } from '../validation.js';
import { loadOrganization } from './org-service.js';
import { dropRole, writeRole } from './role-writes.js';

/** A grant as clients name it: project slug, environment type, level. */
export interface GrantInput {
  project: string;
  type: EnvironmentType;
  level: GrantLevel;
}

/**
 * A role named in a request (an invitation, a member's new role, a service token): a built-in
 * role's label or any role's slug, in any case (`DevOps`, `billing manager`, `Admin`, `deploy-bot`),
 * passed on as the slug ({@link roleSlug}). The REST edge normalizes here, once, so that the
 * services, the store and the audit log only ever see slugs.
 */
export const roleFieldSchema = z
  .string()
  .min(1)
  .describe(
    'a role: its slug or, for a built-in role, its label, in any case (admin, DevOps, "Billing Manager")',
  )
  .transform(roleSlug);

const ASSIGNABLE = BUILTIN_ROLES.filter((r) => r !== 'owner');

/**
 * Checks that a role can be given to a member or a token: a built-in role other than Owner, or
 * a custom role of the organization. Throws VALIDATION_FAILED naming `role`.
 */
export async function assertAssignableRole(
  db: Kysely<Schema>,
  orgId: string,
  role: string,
): Promise<void> {
  if (role === 'owner')
    throw invalid('role', 'there is exactly one Owner; use transfer-ownership instead');
  if (isBuiltinRole(role) || (await findCustomRole(db, orgId, role))) return;
  throw invalid(
    'role',
    `unknown role "${role}"; use one of ${ASSIGNABLE.map((r) => ROLE_LABELS[r]).join(', ')} (any case, or as slugs: ${ASSIGNABLE.join(', ')}) or a custom role`,
  );
}

/** Custom roles: grants per project and environment type (SPEC §5). */
export function createRoleService(deps: { uow: UnitOfWork; audit: AuditService }) {
  const { uow, audit } = deps;

  async function toRole(db: Kysely<Schema>, row: CustomRoleRow) {
    const slugs = new Map((await listProjects(db, row.orgId)).map((p) => [p.id, p.slug]));
    const grants = (JSON.parse(row.grants) as Grant[])
      .filter((g) => slugs.has(g.projectId))
      .map((g) => ({ project: slugs.get(g.projectId) ?? '', type: g.type, level: g.level }));
    return { id: row.id, name: row.name, grants, createdAt: row.createdAt };
  }

  function create(
    ctx: RequestContext,
    orgSlug: string,
    input: { name: string; grants: GrantInput[] },
  ) {
    if (isBuiltinRole(input.name)) throw invalid('name', 'is the name of a built-in role');
    return uow.write(ctx, async (trx) => {
      const org = await loadOrganization(trx, ctx, orgSlug, 'members:manage');
      const grants: Grant[] = [];
      const seen = new Set<string>();
      for (const g of input.grants) {
        const project = await loadProjectRow(trx, org, g.project, ctx);
        const key = `${project.id}:${g.type}`;
        if (seen.has(key)) throw invalid('grants', `${g.project}:${g.type} is granted twice`);
        seen.add(key);
        grants.push({ projectId: project.id, type: g.type, level: g.level });
      }
      const named = input.grants.map((g) => ({ project: g.project, type: g.type, level: g.level }));
      const row = await writeRole(trx, { audit, ctx }, org, { name: input.name, grants, named });
      return toRole(trx, row);
    });
  }

  function list(ctx: RequestContext, orgSlug: string) {
    return uow.read(ctx, async (db) => {
      const org = await loadOrganization(db, ctx, orgSlug, 'org:read');
      return Promise.all((await listCustomRoles(db, org.id)).map((r) => toRole(db, r)));
    });
  }

  async function loadRole(db: Kysely<Schema>, orgId: string, name: string) {
    const row = await findCustomRole(db, orgId, roleSlug(name));
    if (!row) throw hushError('ROLE_NOT_FOUND', `no custom role named "${name}"`);
    return row;
  }

  function show(ctx: RequestContext, orgSlug: string, name: string) {
    return uow.read(ctx, async (db) => {
      const org = await loadOrganization(db, ctx, orgSlug, 'org:read');
      return toRole(db, await loadRole(db, org.id, name));
    });
  }

  function remove(ctx: RequestContext, orgSlug: string, name: string) {
    return uow.write(ctx, async (trx) => {
      const org = await loadOrganization(trx, ctx, orgSlug, 'members:manage');
      const row = await loadRole(trx, org.id, name);
      await dropRole(trx, { audit, ctx }, org, row);
    });
  }

  return { create, list, show, remove };
}

export type RoleService = ReturnType<typeof createRoleService>;
