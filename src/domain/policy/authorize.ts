import type { Kysely } from 'kysely';

import type { HushError } from '../../errors.js';
import { hushError } from '../../errors.js';
import { findMemberRole } from '../../store/org-store.js';
import type { Schema } from '../../store/schema.js';
import type { TargetType } from '../audit/audit-service.js';
import type { RequestContext } from '../context.js';
import { type Action, ACTION_LABELS, builtinRoleAllows, isBuiltinRole } from './roles.js';

/** What an action is performed on; `orgId` is always known, the rest narrows it. */
export interface Resource {
  orgId: string;
  orgSlug: string;
  targetType: TargetType;
  targetId?: string | null;
  targetName?: string | null;
  projectId?: string;
  environmentId?: string;
}

/** The role the actor holds in an organization, read fresh on every call (no cache to go stale). */
export async function roleInOrganization(
  db: Kysely<Schema>,
  ctx: RequestContext,
  orgId: string,
): Promise<string | null> {
  const actor = ctx.actor;
  switch (actor.kind) {
    case 'user':
      return (await findMemberRole(db, orgId, actor.userId)) ?? null;
    case 'service-token':
      return actor.orgId === orgId ? actor.role : null;
    case 'system':
      return 'owner';
    case 'anonymous':
      return null;
  }
}

/**
 * The one policy function: resolves the actor's role in the resource's organization and checks
 * the action against the role table. Throws ORGANIZATION_NOT_FOUND when the actor has no role
 * there (an outsider learns nothing), PERMISSION_DENIED naming the permission otherwise; the
 * unit of work records the denial in the audit log.
 */
export async function authorize(
  db: Kysely<Schema>,
  ctx: RequestContext,
  action: Action,
  resource: Resource,
): Promise<void> {
  const role = await roleInOrganization(db, ctx, resource.orgId);
  if (role === null) {
    throw hushError('ORGANIZATION_NOT_FOUND', `organization "${resource.orgSlug}" not found`);
  }
  const allowed =
    action === 'secrets:read-values'
      ? ctx.actor.kind === 'service-token' && roleAllows(role, 'environment:read')
      : roleAllows(role, action);
  if (allowed && withinTokenScope(ctx, resource)) return;
  throw deniedError(action, role, resource);
}

/** True when the role may perform the action. */
export function roleAllows(role: string, action: Action): boolean {
  return isBuiltinRole(role) && builtinRoleAllows(role, action);
}

function withinTokenScope(ctx: RequestContext, resource: Resource): boolean {
  if (ctx.actor.kind !== 'service-token') return true;
  const { projects, environments } = ctx.actor.scope;
  if (projects.length > 0 && resource.projectId && !projects.includes(resource.projectId)) {
    return false;
  }
  if (
    environments.length > 0 &&
    resource.environmentId &&
    !environments.includes(resource.environmentId)
  ) {
    return false;
  }
  return true;
}

function deniedError(action: Action, role: string, resource: Resource): HushError {
  return hushError(
    'PERMISSION_DENIED',
    `permission "${action}" (${ACTION_LABELS[action]}) is required`,
    {
      permission: action,
      role,
      organization: resource.orgSlug,
      orgId: resource.orgId,
      targetType: resource.targetType,
      targetId: resource.targetId ?? null,
      targetName: resource.targetName ?? null,
    },
  );
}
