// Fixed vocabularies of the API. test/console/vocabulary.test.ts checks them against the
// server's own lists, so a new event type or role cannot be forgotten here.

export const BUILTIN_ROLES = ['owner', 'admin', 'devops', 'billing-manager', 'viewer'] as const;
/** How people read the built-in roles (the server's ROLE_LABELS). */
export const BUILTIN_ROLE_LABELS: Record<(typeof BUILTIN_ROLES)[number], string> = {
  owner: 'Owner',
  admin: 'Admin',
  devops: 'DevOps',
  'billing-manager': 'Billing Manager',
  viewer: 'Viewer',
};
export const ENVIRONMENT_TYPES = ['production', 'staging', 'development', 'preview'] as const;
export const GRANT_LEVELS = ['none', 'read-only', 'deploy', 'manage', 'full'] as const;
export const SSL_MODES = [
  'disable',
  'allow',
  'prefer',
  'require',
  'verify-ca',
  'verify-full',
] as const;

export const EVENT_TYPES = [
  'CREATE',
  'UPDATE',
  'DELETE',
  'ROTATE',
  'ROLLBACK',
  'TRIGGER_JOB',
  'CANCEL_JOB',
  'ACCESS',
  'LOGIN',
  'LOGIN_FAILED',
  'DENIED',
  'EXPORT',
] as const;

export const TARGET_TYPES = [
  'organization',
  'member',
  'role',
  'project',
  'environment',
  'service',
  'secret',
  'job',
  'token',
  'invitation',
  'settings',
  'rotation',
] as const;

export const KIND_LABELS: Record<string, string> = {
  env: 'Environment variable',
  file: 'File',
  pgservice: 'pg_service',
  alias: 'Alias',
};

/**
 * What each sensitivity means, as the add form offers it. The 4 is the server's
 * `MIN_REDACTED_LENGTH` (src/jobs/redact.ts): shorter values would shred every log they appear
 * in; test/jobs/plain-values.test.ts keeps the two equal.
 */
export const SENSITIVITY_LABELS = {
  secret: {
    name: 'Secret',
    means: 'hidden after saving, redacted from job logs (values of 4 characters or more)',
  },
  plain: { name: 'Plain', means: 'shown to everyone who can read the secret, never redacted' },
} as const;

type BuiltinRole = (typeof BUILTIN_ROLES)[number];
type GrantLevel = (typeof GRANT_LEVELS)[number];

/**
 * The permissions that let a person make a job print secret values, although no person reads
 * values through the API: a job receives every value of its context (organization, project,
 * environment and service levels) and log redaction catches accidents, not intent. Running a
 * job, running any command, changing a service's command, or setting a variable a job reads.
 */
export const VALUE_EXPOSING_PERMISSIONS = {
  'jobs:run': 'running jobs',
  'jobs:shell': 'running any command',
  'environment:edit': 'editing service commands',
  'secrets:write': 'setting variables jobs read',
} as const;
export type ValueExposingPermission = keyof typeof VALUE_EXPOSING_PERMISSIONS;

/**
 * Which of {@link VALUE_EXPOSING_PERMISSIONS} each built-in role holds, in every environment of
 * the organization. test/console/vocabulary.test.ts checks it against the server's role table.
 */
export const BUILTIN_ROLE_EXPOSURE: Record<BuiltinRole, readonly ValueExposingPermission[]> = {
  owner: ['jobs:run', 'jobs:shell', 'environment:edit', 'secrets:write'],
  admin: ['jobs:run', 'jobs:shell', 'environment:edit', 'secrets:write'],
  devops: ['jobs:run', 'jobs:shell', 'secrets:write'],
  'billing-manager': [],
  viewer: [],
};

/**
 * Which of {@link VALUE_EXPOSING_PERMISSIONS} a custom role's grant level gives on the
 * environments of its type in its project; checked against the server's grant rules too.
 */
export const GRANT_LEVEL_EXPOSURE: Record<GrantLevel, readonly ValueExposingPermission[]> = {
  none: [],
  'read-only': [],
  deploy: ['jobs:run', 'secrets:write'],
  manage: ['jobs:run', 'jobs:shell', 'environment:edit', 'secrets:write'],
  full: ['jobs:run', 'jobs:shell', 'environment:edit', 'secrets:write'],
};
