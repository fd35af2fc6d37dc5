/**
 * The built-in role table of SPEC §5, as data. `authorize` reads it; the role-table test walks
 * every cell of it through the REST API.
 */
export const ACTIONS = [
  'org:read',
  'org:edit',
  'org:delete',
  'billing:manage',
  'members:manage',
  'runners:manage',
  'setup:manage',
  'project:read',
  'project:edit',
  'project:create',
  'environment:read',
  'environment:edit',
  'environment:create',
  'secrets:write',
  'jobs:run',
  'jobs:shell',
  'audit:read',
  'tokens:manage',
  'secrets:read-values',
  'ownership:transfer',
] as const;
export type Action = (typeof ACTIONS)[number];

/** Human wording of each action, as SPEC §5 names it; 403 messages use it. */
export const ACTION_LABELS: Record<Action, string> = {
  'org:read': 'read organization',
  'org:edit': 'edit organization',
  'org:delete': 'delete organization',
  'billing:manage': 'manage billing (plan, audit retention)',
  'members:manage': 'manage members & roles',
  'runners:manage': 'manage runners',
  'setup:manage': 'manage organization setup',
  'project:read': 'read any project',
  'project:edit': 'edit/delete any project',
  'project:create': 'create project',
  'environment:read': 'read any environment',
  'environment:edit': 'edit/delete any environment or service',
  'environment:create': 'create environment or service',
  'secrets:write': 'add/rotate/delete variables and secrets',
  'jobs:run': 'run/cancel jobs',
  'jobs:shell': 'run ad-hoc jobs',
  'audit:read': 'view audit logs',
  'tokens:manage': 'manage API tokens',
  'secrets:read-values': 'read secret values (service tokens only)',
  'ownership:transfer': 'transfer ownership (the Owner only)',
};

/**
 * Actions that are not rows of SPEC §5 but combinations of them: allowed, for a built-in role
 * and a custom role alike, exactly when every action listed is. `secrets:write-steering` sets a
 * variable that changes what a job runs (NODE_OPTIONS, LD_PRELOAD…, see
 * secrets/steering-names.ts), so it needs the secret write and the right to change a service's
 * command: Owner and Admin, or a custom `manage` grant.
 */
export const DERIVED_ACTIONS = {
  'secrets:write-steering': ['secrets:write', 'environment:edit'],
} as const satisfies Record<string, readonly Action[]>;
export type DerivedAction = keyof typeof DERIVED_ACTIONS;

/** What `authorize` checks: a row of the table or a {@link DERIVED_ACTIONS} combination. */
export type PolicyAction = Action | DerivedAction;

export const DERIVED_ACTION_LABELS: Record<DerivedAction, string> = {
  'secrets:write-steering': 'set variables that change what a job runs',
};

/** Narrows a policy action to a derived one. */
export function isDerivedAction(action: PolicyAction): action is DerivedAction {
  return Object.hasOwn(DERIVED_ACTIONS, action);
}

export const BUILTIN_ROLES = ['owner', 'admin', 'devops', 'billing-manager', 'viewer'] as const;
export type BuiltinRole = (typeof BUILTIN_ROLES)[number];

export const ROLE_LABELS: Record<BuiltinRole, string> = {
  owner: 'Owner',
  admin: 'Admin',
  devops: 'DevOps',
  'billing-manager': 'Billing Manager',
  viewer: 'Viewer',
};

/**
 * The slug of a role as people write it: a built-in role's label as SPEC §5 and the console show
 * it (`DevOps`, `Billing Manager`) or a role's slug, in any case (`Admin`, `BILLING-MANAGER`):
 * trimmed, lower case, each run of white space a hyphen. Custom role names are slugs, so
 * `Deploy Bot` and `DEPLOY-BOT` name the custom role `deploy-bot`.
 *
 * @example roleSlug('Billing Manager') // 'billing-manager'
 */
export function roleSlug(name: string): string {
  return name.trim().toLowerCase().replace(/\s+/g, '-');
}

const Y = true;
const N = false;

// Columns: owner, admin, devops, billing-manager, viewer — copied row by row from SPEC §5.
const TABLE: Record<Action, readonly [boolean, boolean, boolean, boolean, boolean]> = {
  'org:read': [Y, Y, Y, Y, Y],
  'org:edit': [Y, Y, N, N, N],
  'org:delete': [Y, N, N, N, N],
  'billing:manage': [Y, Y, N, Y, N],
  'members:manage': [Y, Y, N, N, N],
  'runners:manage': [Y, Y, Y, N, N],
  'setup:manage': [Y, Y, Y, N, N],
  'project:read': [Y, Y, Y, N, Y],
  'project:edit': [Y, Y, N, N, N],
  'project:create': [Y, Y, N, N, N],
  'environment:read': [Y, Y, Y, N, Y],
  'environment:edit': [Y, Y, N, N, N],
  'environment:create': [Y, Y, N, N, N],
  'secrets:write': [Y, Y, Y, N, N],
  'jobs:run': [Y, Y, Y, N, N],
  'jobs:shell': [Y, Y, Y, N, N],
  'audit:read': [Y, Y, N, N, N],
  'tokens:manage': [Y, Y, N, N, N],
  // People never read secret values; service tokens may (see authorize).
  'secrets:read-values': [N, N, N, N, N],
  'ownership:transfer': [Y, N, N, N, N],
};

/** True when the built-in role may perform the action (a derived one: all it combines). */
export function builtinRoleAllows(role: BuiltinRole, action: PolicyAction): boolean {
  if (isDerivedAction(action))
    return DERIVED_ACTIONS[action].every((a) => builtinRoleAllows(role, a));
  return TABLE[action][BUILTIN_ROLES.indexOf(role)] ?? false;
}

/** Narrows a stored role string to a built-in role. */
export function isBuiltinRole(role: string): role is BuiltinRole {
  return (BUILTIN_ROLES as readonly string[]).includes(role);
}
