import type { Kysely } from 'kysely';

import { listEnvironments } from '../../store/project-store.js';
import type { Schema } from '../../store/schema.js';
import type { RequestContext } from '../context.js';
import { can, type Resource, roleInOrganization } from '../policy/authorize.js';
import {
  ACTIONS,
  DERIVED_ACTIONS,
  isBuiltinRole,
  type PolicyAction,
  ROLE_LABELS,
} from '../policy/roles.js';
import { type LevelRef, levelResource, loadLevel } from '../secrets/scope.js';
import type { UnitOfWork } from '../unit-of-work.js';
import { ENVIRONMENT_TYPES, type EnvironmentType } from '../validation.js';

/** Every action the policy knows: the rows of the role table, then the derived ones. */
const POLICY_ACTIONS: readonly PolicyAction[] = [
  ...ACTIONS,
  ...(Object.keys(DERIVED_ACTIONS) as PolicyAction[]),
];

/** What the caller may do at one place of an organization, as `authorize` decides it. */
export interface Permissions {
  /** The caller's role there (a built-in slug or a custom role's name). */
  role: string;
  /** The role as people read it: `DevOps`, `Billing Manager`, or the custom role's name. */
  roleLabel: string;
  /** The actions allowed at the level asked (the organization, a project, an environment, a service). */
  allowed: PolicyAction[];
  /** Whether the caller may list the organization's projects (a custom role lists those it is granted). */
  listProjects: boolean;
  /** Project level only: the actions allowed in each environment of the project, by slug. */
  environments?: Record<string, PolicyAction[]>;
  /** Project level only: the actions allowed on a new environment of each type (creating one). */
  environmentTypes?: Record<EnvironmentType, PolicyAction[]>;
}

/** The actions of {@link POLICY_ACTIONS} that `authorize` allows on `resource`. */
async function allowedOn(
  db: Kysely<Schema>,
  ctx: RequestContext,
  resource: Resource,
): Promise<PolicyAction[]> {
  const allowed: PolicyAction[] = [];
  for (const action of POLICY_ACTIONS) {
    if (await can(db, ctx, action, resource)) allowed.push(action);
  }
  return allowed;
}

/**
 * Answers which actions the caller may take, by asking the one policy function about every
 * action of the role table against the resource the real routes check, with the boolean
 * {@link can}: probing records no DENIED event.
 */
export function createPermissionService(deps: { uow: UnitOfWork }) {
  const { uow } = deps;

  /**
   * The caller's permissions at a level of an organization: nothing (the organization), a
   * project, or a project's environment or service (which is checked as its environment is).
   * Any member may ask. Throws ORGANIZATION_NOT_FOUND, PROJECT_NOT_FOUND,
   * ENVIRONMENT_NOT_FOUND, SERVICE_NOT_FOUND and VALIDATION_FAILED (env or service without
   * project, or both).
   *
   * @example await permissions.of(ctx, 'acme', { project: 'web', env: 'prod' })
   * // { role: 'devops', roleLabel: 'DevOps', allowed: ['org:read', …, 'jobs:run'], … }
   */
  function of(ctx: RequestContext, orgSlug: string, ref: LevelRef): Promise<Permissions> {
    return uow.read(ctx, async (db) => {
      const { org, at } = await loadLevel(db, ctx, orgSlug, ref);
      const role = (await roleInOrganization(db, ctx, org.id)) ?? '';
      const base = { ...levelResource(org, at), targetType: 'organization' as const };
      const answer: Permissions = {
        role,
        roleLabel: isBuiltinRole(role) ? ROLE_LABELS[role] : role,
        allowed: await allowedOn(db, ctx, base),
        // What GET /orgs/:org/projects checks: a listing, which a custom role may always do.
        listProjects: await can(db, ctx, 'project:read', {
          orgId: org.id,
          orgSlug: org.slug,
          targetType: 'project',
          listing: true,
        }),
      };
      if (at.level !== 'project' || !at.project) return answer;
      const environments: Record<string, PolicyAction[]> = {};
      for (const env of await listEnvironments(db, at.project.id)) {
        environments[env.slug] = await allowedOn(db, ctx, { ...base, environmentId: env.id });
      }
      const types = {} as Record<EnvironmentType, PolicyAction[]>;
      for (const type of ENVIRONMENT_TYPES) {
        types[type] = await allowedOn(db, ctx, { ...base, environmentType: type });
      }
      return { ...answer, environments, environmentTypes: types };
    });
  }

  return { of };
}

export type PermissionService = ReturnType<typeof createPermissionService>;
