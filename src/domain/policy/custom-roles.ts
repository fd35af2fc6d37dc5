import { ENVIRONMENT_TYPES, type EnvironmentType } from '../validation.js';
import { type Action, DERIVED_ACTIONS, isDerivedAction, type PolicyAction } from './roles.js';

export const GRANT_LEVELS = ['none', 'read-only', 'deploy', 'manage', 'full'] as const;
export type GrantLevel = (typeof GRANT_LEVELS)[number];

/** One grant of a custom role: a level on one environment type of one project. */
export interface Grant {
  projectId: string;
  type: EnvironmentType;
  level: GrantLevel;
}

// The level each project action needs (SPEC §5): deploy runs jobs, reads logs and manages
// variables; manage also edits environments and services; full is everything in the project.
const NEEDS: Partial<Record<Action, GrantLevel>> = {
  'project:read': 'read-only',
  'environment:read': 'read-only',
  'secrets:write': 'deploy',
  'jobs:run': 'deploy',
  'jobs:shell': 'manage',
  'environment:create': 'manage',
  'environment:edit': 'manage',
  'project:edit': 'full',
};

const rank = (level: GrantLevel) => GRANT_LEVELS.indexOf(level);

/**
 * The lowest grant level that allows an action (a derived action: the highest its parts need),
 * or null when no custom role may perform it.
 */
export function grantNeeded(action: PolicyAction): GrantLevel | null {
  if (!isDerivedAction(action)) return NEEDS[action] ?? null;
  let highest: GrantLevel = 'none';
  for (const part of DERIVED_ACTIONS[action]) {
    const needed = NEEDS[part];
    if (!needed) return null;
    if (rank(needed) > rank(highest)) highest = needed;
  }
  return highest;
}

/** Where an action happens, as far as a custom role cares. */
export interface GrantTarget {
  projectId?: string | undefined;
  /** The environment type, when the action concerns one environment. */
  environmentType?: string | undefined;
  /** Listing projects: allowed, and the list is filtered by {@link visibleProjectIds}. */
  listing?: boolean;
}

/**
 * Whether a custom role's grants allow an action. Organization-wide actions (settings, members,
 * roles, tokens, billing, audit) are never allowed; reading the organization always is. A
 * project-wide action (no environment) reads with the best grant over the four environment
 * types and writes only with the weakest, since what it changes reaches every environment.
 */
export function customRoleAllows(
  grants: readonly Grant[],
  action: PolicyAction,
  target: GrantTarget,
): boolean {
  if (isDerivedAction(action)) {
    return DERIVED_ACTIONS[action].every((a) => customRoleAllows(grants, a, target));
  }
  if (action === 'org:read') return true;
  const needed = NEEDS[action];
  if (!needed) return false;
  if (!target.projectId) return action === 'project:read' && target.listing === true;
  const levels = new Map<string, GrantLevel>();
  for (const g of grants) if (g.projectId === target.projectId) levels.set(g.type, g.level);
  const levelOf = (type: string) => levels.get(type) ?? 'none';
  let have: GrantLevel;
  if (target.environmentType) {
    have = levelOf(target.environmentType);
  } else {
    const all = ENVIRONMENT_TYPES.map((t) => rank(levelOf(t)));
    const readOnly = action === 'project:read' || action === 'environment:read';
    have = GRANT_LEVELS[readOnly ? Math.max(...all) : Math.min(...all)] ?? 'none';
  }
  return rank(have) >= rank(needed);
}

/** Projects a custom role may see at all (any grant above none). */
export function visibleProjectIds(grants: readonly Grant[]): Set<string> {
  return new Set(grants.filter((g) => g.level !== 'none').map((g) => g.projectId));
}
