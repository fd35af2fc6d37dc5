import type { Generated } from 'kysely';

/**
 * Row types of every table, in camelCase (the CamelCasePlugin maps them to snake_case columns).
 * Timestamps are ISO-8601 UTC text on both databases so that they sort and compare alike.
 */
export interface Schema {
  users: UserRow;
  organizations: OrganizationRow;
  dataKeys: DataKeyRow;
  members: MemberRow;
  invitations: InvitationRow;
  sessions: SessionRow;
  apiTokens: ApiTokenRow;
  projects: ProjectRow;
  environments: EnvironmentRow;
  services: ServiceRow;
  auditEvents: AuditEventRow;
  auditHeads: AuditHeadRow;
  auditKeys: AuditKeyRow;
  masterKeys: MasterKeyRow;
  instanceSettings: InstanceSettingRow;
  secrets: SecretRow;
  secretVersions: SecretVersionRow;
  jobs: JobRow;
  jobLogs: JobLogRow;
  customRoles: CustomRoleRow;
  signInFailures: SignInFailureRow;
  rateLimits: RateLimitRow;
  rotations: RotationRow;
  rotationRuns: RotationRunRow;
}

export interface UserRow {
  id: string;
  email: string;
  passwordHash: string;
  createdAt: string;
}

export interface OrganizationRow {
  id: string;
  slug: string;
  name: string;
  plan: string;
  auditRetentionDays: number | null;
  createdAt: string;
  /** The data key new values are sealed with (null only before the first key is made). */
  activeDataKeyId: string | null;
}

export interface DataKeyRow {
  id: string;
  orgId: string;
  wrappedKey: string;
  masterKeyId: string;
  createdAt: string;
}

export interface MemberRow {
  orgId: string;
  userId: string;
  role: string;
  createdAt: string;
}

export interface InvitationRow {
  id: string;
  orgId: string;
  email: string;
  role: string;
  tokenHash: string;
  invitedBy: string | null;
  createdAt: string;
  expiresAt: string;
  acceptedAt: string | null;
  revokedAt: string | null;
}

export interface SessionRow {
  id: string;
  userId: string;
  tokenHash: string;
  tool: string;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
}

export interface ApiTokenRow {
  id: string;
  kind: 'personal' | 'service';
  orgId: string | null;
  userId: string | null;
  name: string;
  role: string | null;
  /** JSON: `{ projects: string[], environments: string[] }` (ids); empty lists mean no limit. */
  scope: string;
  tokenHash: string;
  createdBy: string | null;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  /** When it last authenticated a request (to the minute; null: never). */
  lastUsedAt: string | null;
}

export interface ProjectRow {
  id: string;
  orgId: string;
  slug: string;
  name: string;
  createdAt: string;
}

export interface EnvironmentRow {
  id: string;
  projectId: string;
  slug: string;
  type: string;
  createdAt: string;
}

export interface ServiceRow {
  id: string;
  projectId: string;
  environmentId: string | null;
  name: string;
  command: string;
  workingDir: string | null;
  timeoutSeconds: number;
  createdAt: string;
}

export interface AuditEventRow {
  id: string;
  /** Organization id, or '' for instance-level events (e.g. a failed login for an unknown e-mail). */
  orgId: string;
  seq: number;
  timestamp: string;
  eventType: string;
  targetType: string;
  targetId: string | null;
  targetName: string | null;
  change: string;
  actor: string;
  actorId: string | null;
  tool: string;
  ip: string | null;
  details: string;
  prevHash: string;
  hash: string;
}

export interface AuditHeadRow {
  orgId: string;
  seq: number;
  hash: string;
  /** Seq of the last event purged by retention (0: none purged). */
  anchorSeq: Generated<number>;
  /** Hash of that event: the prevHash the first kept event must carry. */
  anchorHash: Generated<string>;
  /** Seq of the last state-changing event (see migration 0006). */
  changeSeq: Generated<number>;
  /** First seq whose hash is HMAC-SHA-256 under the audit key; older ones are plain SHA-256. */
  keyedFromSeq: Generated<number>;
  /** HMAC over the org, keyedFromSeq and the anchor (see migration 0008); null until sealed. */
  headMac: string | null;
}

/** The audit MAC key (id 'instance'), wrapped by the master key like a data key. */
/** The cluster's state of one master key (migration 0012); the key itself is never stored. */
export interface MasterKeyRow {
  id: string;
  state: 'active' | 'previous' | 'retired';
  changedAt: string;
}

export interface AuditKeyRow {
  id: string;
  wrappedKey: string;
  masterKeyId: string;
  createdAt: string;
}

export interface InstanceSettingRow {
  key: string;
  value: string;
}

export interface SecretRow {
  id: string;
  orgId: string;
  level: 'organization' | 'project' | 'environment' | 'service';
  scopeId: string;
  projectId: string | null;
  environmentId: string | null;
  serviceId: string | null;
  kind: 'env' | 'pgservice' | 'file' | 'alias';
  namespace: 'env' | 'pgservice';
  name: string;
  sensitivity: 'secret' | 'plain';
  assigneeId: string | null;
  fileName: string | null;
  /** pgservice: 1 when jobs also get its settings as HUSH_PG_<NAME>_* variables. */
  exportEnv: number;
  currentVersion: number;
  createdAt: string;
  updatedAt: string;
}

export interface SecretVersionRow {
  secretId: string;
  version: number;
  keyId: string;
  ciphertext: string | null;
  preview: string | null;
  /** JSON array of the value's references (names only); null: the value is literal. */
  refs: string | null;
  source: 'add' | 'rotate' | 'rollback';
  fromVersion: number | null;
  createdAt: string;
  createdBy: string;
  tool: string;
}

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'timed_out';

export interface JobRow {
  id: string;
  orgId: string;
  projectId: string;
  environmentId: string | null;
  serviceId: string | null;
  kind: 'service' | 'adhoc';
  command: string;
  workingDir: string | null;
  timeoutSeconds: number;
  memberId: string | null;
  /** The service token that started it, if one did. */
  tokenId: string | null;
  triggeredBy: string;
  status: JobStatus;
  attempts: number;
  exitCode: number | null;
  error: string | null;
  workerId: string | null;
  heartbeatAt: string | null;
  cancelRequestedAt: string | null;
  createdAt: string;
  startedAt: string | null;
  processStartedAt: string | null;
  processExitedAt: string | null;
  finishedAt: string | null;
}

export interface JobLogRow {
  jobId: string;
  seq: number;
  stream: 'stdout' | 'stderr' | 'system';
  text: string;
  at: string;
}

export interface CustomRoleRow {
  id: string;
  orgId: string;
  name: string;
  /** JSON: `[{ projectId, type, level }]`. */
  grants: string;
  createdAt: string;
}

/** Failed sign-ins of one account (by e-mail, known or not), shared by every node. */
export interface SignInFailureRow {
  email: string;
  failures: number;
  /** Epoch milliseconds (bigint: PostgreSQL hands it back as a string). */
  lastFailureMs: number | string;
  blockedUntilMs: number | string;
}

/** One fixed-window request counter of the per-address sign-in limit. */
export interface RateLimitRow {
  key: string;
  hits: number;
  windowEndsMs: number | string;
}

/** A pgservice secret whose password Hush changes, by hand or on a schedule. */
export interface RotationRow {
  id: string;
  orgId: string;
  name: string;
  secretId: string;
  adminService: string;
  strategy: 'single' | 'dual';
  /** JSON array of the two login roles of `dual`; null for `single`. */
  roles: string | null;
  passwordLength: number;
  alphabet: string;
  everySeconds: number | null;
  /** UTC time of day, HH:MM. */
  atTime: string | null;
  paused: number;
  nextRunAt: string | null;
  failures: number;
  lastError: string | null;
  lastRunAt: string | null;
  claimedBy: string | null;
  claimedUntil: string | null;
  createdBy: string;
  createdAt: string;
}

export interface RotationRunRow {
  id: string;
  rotationId: string;
  trigger: 'schedule' | 'manual';
  requestedBy: string | null;
  startedAt: string;
  finishedAt: string;
  outcome: 'succeeded' | 'failed';
  error: string | null;
  role: string | null;
  version: number | null;
}
