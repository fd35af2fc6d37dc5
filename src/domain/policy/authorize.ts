import type { Kysely } from 'kysely';

import { HushError, hushError } from '../../errors.js';
import { findMemberRole, listOrganizationsOfUser } from '../../store/org-store.js';
import { findEnvironmentById } from '../../store/project-store.js';
import { findCustomRole } from '../../store/role-store.js';
import type { Schema } from '../../store/schema.js';
import type { TargetType } from '../audit/audit-service.js';
import type { RequestContext } from '../context.js';
import { customRoleAllows, type Grant, grantNeeded, visibleProjectIds } from './custom-roles.js';
import {
  ACTION_LABELS,
  BUILTIN_ROLES,
  builtinRoleAllows,
  DERIVED_ACTION_LABELS,
  isBuiltinRole,
  isDerivedAction,
  type PolicyAction,
  ROLE_LABELS,
} from './roles.js';

/** What an action is performed on; `orgId` is always known, the rest narrows it. */
export interface Resource {
  orgId: string;
  orgSlug: string;
  targetType: TargetType;
  targetId?: string | null;
  /** A secret's variable name: a `secrets:write-steering` denial names it (never the value). */
  targetName?: string | null;
  projectId?: string;
  environmentId?: string;
  /** The environment type when it is known without a row (an environment being created). */
  environmentType?: string;
  /** Listing projects (custom roles see a filtered list). */
  listing?: boolean;
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
  action: PolicyAction,
  resource: Resource,
): Promise<void> {
  const role = await roleInOrganization(db, ctx, resource.orgId);
  if (role === null) {
    throw hushError('ORGANIZATION_NOT_FOUND', `organization "${resource.orgSlug}" not found`);
  }
  const check = isBuiltinRole(role)
    ? { allows: (a: PolicyAction) => builtinRoleAllows(role, a), environmentType: undefined }
    : await customRoleCheck(db, resource, role);
  // Values go to service tokens whose role may run jobs there: a job would receive them anyway.
  // A Viewer or Billing Manager token reads none, whatever the Roles page shows a person.
  const allowed =
    action === 'secrets:read-values'
      ? ctx.actor.kind === 'service-token' && check.allows('jobs:run')
      : check.allows(action);
  if (allowed && withinTokenScope(ctx, resource, action)) return;
  throw deniedError(action, role, resource, check.environmentType);
}

/**
 * Whether {@link authorize} allows the action: the same check, answered as a boolean, so that a
 * caller may ask what it could do. A denial is not an error here, so the unit of work records no
 * DENIED event for it. Throws ORGANIZATION_NOT_FOUND as `authorize` does.
 *
 * @example if (await can(db, ctx, 'project:create', resource)) offer.push('project:create');
 */
export async function can(
  db: Kysely<Schema>,
  ctx: RequestContext,
  action: PolicyAction,
  resource: Resource,
): Promise<boolean> {
  try {
    await authorize(db, ctx, action, resource);
    return true;
  } catch (error) {
    if (error instanceof HushError && error.code === 'PERMISSION_DENIED') return false;
    throw error;
  }
}

/** Who may create organizations on this server (the `orgCreation` setting). */
export type OrgCreation = 'admins-only' | 'anyone';

/** Whether a person with these memberships may create organizations under `setting`. */
export function mayCreateOrganizations(
  memberships: readonly { role: string }[],
  setting: OrgCreation,
): boolean {
  return setting === 'anyone' || memberships.some((o) => o.role === 'owner' || o.role === 'admin');
}

/**
 * The instance-level rule for creating an organization: only a person (a service token belongs
 * to one organization), and with `admins-only` only one who is Owner or Admin of an organization
 * here. Returns the person, who becomes its Owner; throws PERMISSION_DENIED naming `org:create`.
 */
export async function authorizeOrgCreation(
  db: Kysely<Schema>,
  ctx: RequestContext,
  setting: OrgCreation,
): Promise<{ id: string; email: string }> {
  const actor = ctx.actor;
  if (actor.kind !== 'user') {
    throw hushError('PERMISSION_DENIED', 'only a person can create an organization', {
      permission: 'org:create',
    });
  }
  const person = { id: actor.userId, email: actor.email };
  if (setting === 'anyone') return person;
  const memberships = await listOrganizationsOfUser(db, actor.userId);
  if (mayCreateOrganizations(memberships, setting)) return person;
  throw hushError(
    'PERMISSION_DENIED',
    'on this server only Owners and Admins of an organization may create organizations (orgCreation: admins-only)',
    { permission: 'org:create', setting: 'admins-only' },
  );
}

/** The check of a custom role for this resource (grants and environment type read fresh). */
async function customRoleCheck(db: Kysely<Schema>, resource: Resource, role: string) {
  const row = await findCustomRole(db, resource.orgId, role);
  const grants = row ? (JSON.parse(row.grants) as Grant[]) : [];
  let environmentType = resource.environmentType;
  if (!environmentType && resource.environmentId) {
    environmentType = (await findEnvironmentById(db, resource.environmentId))?.type;
  }
  const target = { projectId: resource.projectId, environmentType, listing: resource.listing };
  return {
    allows: (a: PolicyAction) => customRoleAllows(grants, a, target),
    environmentType,
  };
}

/** The projects an actor may list in an organization: every one, or those its custom role grants. */
export async function listableProjectIds(
  db: Kysely<Schema>,
  ctx: RequestContext,
  orgId: string,
): Promise<Set<string> | 'all'> {
  const role = await roleInOrganization(db, ctx, orgId);
  let visible: Set<string> | 'all' = 'all';
  if (role !== null && !isBuiltinRole(role)) {
    const row = await findCustomRole(db, orgId, role);
    visible = visibleProjectIds(row ? (JSON.parse(row.grants) as Grant[]) : []);
  }
  // A token limited to projects lists only those.
  if (ctx.actor.kind !== 'service-token' || ctx.actor.scope.projects.length === 0) return visible;
  const scoped = new Set(ctx.actor.scope.projects);
  return visible === 'all' ? scoped : new Set([...visible].filter((id) => scoped.has(id)));
}

const READS: ReadonlySet<PolicyAction> = new Set(['org:read', 'project:read', 'environment:read']);

/** True for a service token limited to some projects or environments. */
function isConfinedToken(ctx: RequestContext): boolean {
  return (
    ctx.actor.kind === 'service-token' &&
    (ctx.actor.scope.projects.length > 0 || ctx.actor.scope.environments.length > 0)
  );
}

// A confined token acts only inside its scope. Organization-level resources (members, roles,
// tokens, invitations, projects, settings, organization-level secrets, the audit log) are
// outside every limited scope: it may only read around them (the organization it belongs to,
// the projects it lists). A token limited to environments may read around them too, but
// anything else it does must name one of its environments: a project-wide write would reach
// the others.
function withinTokenScope(ctx: RequestContext, resource: Resource, action: PolicyAction): boolean {
  if (ctx.actor.kind !== 'service-token' || !isConfinedToken(ctx)) return true;
  const { projects, environments } = ctx.actor.scope;
  if (!resource.projectId) return READS.has(action);
  if (projects.length > 0 && !projects.includes(resource.projectId)) return false;
  if (environments.length === 0 || READS.has(action)) return true;
  return resource.environmentId !== undefined && environments.includes(resource.environmentId);
}

function deniedError(
  action: PolicyAction,
  role: string,
  resource: Resource,
  environmentType: string | undefined,
): HushError {
  const label = isDerivedAction(action) ? DERIVED_ACTION_LABELS[action] : ACTION_LABELS[action];
  return hushError(
    'PERMISSION_DENIED',
    action === 'secrets:write-steering'
      ? steeringDenial(role, resource, environmentType)
      : `permission "${action}" (${label}) is required`,
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

/**
 * The denial of a steering variable: names the variable and the permission a custom role would
 * need on this environment type (or on every type, for a project-wide secret), or the built-in
 * roles that hold it.
 */
function steeringDenial(
  role: string,
  resource: Resource,
  environmentType: string | undefined,
): string {
  const action = 'secrets:write-steering';
  const what = `setting ${resource.targetName ?? 'this variable'}`;
  const why = 'it changes what a job runs';
  const level = grantNeeded(action);
  if (!isBuiltinRole(role) && resource.projectId && level) {
    const where = environmentType
      ? `${environmentType} environments`
      : 'every environment type of the project';
    return `${what} needs the ${level} permission on ${where}: ${why}`;
  }
  const holders = BUILTIN_ROLES.filter((r) => builtinRoleAllows(r, action)).map(
    (r) => ROLE_LABELS[r],
  );
  return `${what} needs permission "${action}" (${holders.join(' or ')}): ${why}`;
}
