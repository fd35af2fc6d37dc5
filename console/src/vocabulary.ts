// Fixed vocabularies of the API. test/console/vocabulary.test.ts checks them against the
// server's own lists, so a new event type or role cannot be forgotten here.

export const BUILTIN_ROLES = ['owner', 'admin', 'devops', 'billing-manager', 'viewer'] as const;
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
] as const;

export const KIND_LABELS: Record<string, string> = {
  env: 'Environment variable',
  file: 'File',
  pgservice: 'pg_service',
};
