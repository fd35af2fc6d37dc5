// The shapes of the REST answers the console reads (see /api/v1/openapi.json).

export type Level = 'organization' | 'project' | 'environment' | 'service';

export interface Whoami {
  kind: 'user' | 'token';
  id: string;
  email?: string;
  organizations: { id: string; slug: string; role: string }[];
  /** People only: whether this server lets the caller create an organization. */
  canCreateOrganizations?: boolean;
}

export interface Org {
  id: string;
  slug: string;
  name: string;
  plan: string;
  auditRetentionDays: number | null;
  createdAt: string;
}

export interface Project {
  id: string;
  slug: string;
  name: string;
  createdAt: string;
}

export interface Environment {
  id: string;
  slug: string;
  type: string;
  createdAt: string;
}

export interface Service {
  id: string;
  name: string;
  environment: string | null;
  command: string;
  workingDir: string | null;
  timeoutSeconds: number;
  createdAt: string;
}

export interface Secret {
  id: string;
  name: string;
  kind: 'env' | 'file' | 'pgservice' | 'alias';
  level: Level;
  sensitivity: 'secret' | 'plain';
  assignee: string | null;
  fileName: string | null;
  version: number;
  preview: string | null;
  /** References to names no secret of the organization has (the value was stored). */
  warnings?: string[];
  createdAt: string;
  updatedAt: string;
}

/** `POST /secrets/:id/rotate`: the secret, and for a pgservice the names of the settings that changed. */
export interface RotatedSecret extends Secret {
  changed?: string[];
}

/** `GET /secrets/:id/settings`: a pgservice secret's current settings, without its password. */
export interface PgServiceSettingsView {
  id: string;
  name: string;
  version: number;
  settings: Record<string, string>;
  /** The write-only settings that are set (`password`, `sslpassword`), by name only. */
  withheld: string[];
}

/** A pgservice rotation that changes some settings and keeps the others. */
export interface PgRotateBody {
  kind: 'pgservice';
  set: Record<string, string>;
  unset: string[];
}

export interface SecretVersion {
  version: number;
  current: boolean;
  source: string;
  fromVersion: number | null;
  preview: string | null;
  createdAt: string;
  createdBy: string;
  tool: string;
  restorable: boolean;
}

export interface Explained {
  id: string;
  name: string;
  kind: string;
  level: Level;
  assignee: string | null;
  version: number;
  preview: string | null;
  shadows: { id: string; level: Level; assignee: string | null; version: number }[];
  /** For a derived, aliased or referencing value: what it is built from (never values). */
  builtFrom?: {
    via: string;
    name: string;
    kind: string;
    level: Level;
    version: number;
    context?: string;
    depth: number;
  }[];
  /** Why it cannot be built: a job with it fails before it starts. */
  error?: string;
}

export interface Member {
  id: string;
  email: string;
  role: string;
  joinedAt: string;
}

export interface Invitation {
  id: string;
  email: string;
  role: string;
  createdAt: string;
  expiresAt: string;
}

export interface Grant {
  project: string;
  type: string;
  level: string;
}

export interface Role {
  id: string;
  name: string;
  grants: Grant[];
  createdAt: string;
}

export interface Token {
  id: string;
  name: string;
  kind: 'service' | 'personal';
  role: string | null;
  scope: { projects: string[]; environments: string[] };
  createdAt: string;
  expiresAt: string | null;
  token?: string;
}

export interface Job {
  id: string;
  kind: string;
  /** The slug of the environment it runs in, or null for a project-level job. */
  environment: string | null;
  status: string;
  exitCode: number | null;
  error: string | null;
  /** A service's command line, or an ad-hoc job's argv. */
  command: string | string[];
  triggeredBy: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  timeoutSeconds: number;
}

/** How this server's workers isolate jobs, and whether they can run (`GET /jobs/sandbox`). */
export interface JobSandbox {
  mode: 'bwrap' | 'none';
  network: 'shared' | 'none';
  /** False: this server has no workers of its own; separate workers run its jobs. */
  runsJobs: boolean;
  /** Whether this server's workers can start the sandbox; null when it runs no jobs. */
  available: boolean | null;
  /** Why jobs cannot run here, in one line; null when they can. */
  reason: string | null;
}

export interface JobLogs {
  job: Job;
  finished: boolean;
  lines: { seq: number; stream: string; text: string; at: string }[];
}

export interface AuditEvent {
  id: string;
  timestamp: string;
  seq: number;
  eventType: string;
  targetType: string;
  targetId: string | null;
  targetName: string | null;
  change: string;
  actor: string;
  tool: string;
  ip: string | null;
  details: unknown;
}

export interface AuditPage {
  events: AuditEvent[];
  nextCursor: string | null;
  prevCursor: string | null;
}

/** `GET /orgs/:org/permissions`: what the caller may do there, as the server's policy decides. */
export interface Permissions {
  role: string;
  roleLabel: string;
  /** The actions allowed at the level asked. */
  allowed: string[];
  listProjects: boolean;
  /** Project level: the actions allowed in each environment, by slug. */
  environments?: Record<string, string[]>;
  /** Project level: the actions allowed on a new environment of each type. */
  environmentTypes?: Record<string, string[]>;
}

/** `GET /invitations/inspect`: what a pending invitation is for. */
export interface InvitationInfo {
  organization: { slug: string; name: string };
  role: string;
  email: string;
  expiresAt: string;
}

/** `GET /orgs/:org/rotations`: an automatic password rotation of a pgservice secret. */
export interface Rotation {
  id: string;
  name: string;
  secret: { id: string; name: string; level: Level };
  adminService: string;
  strategy: 'single' | 'dual';
  roles: string[] | null;
  /** Seconds between runs; null: by hand only. */
  every: number | null;
  /** HH:MM UTC. */
  at: string | null;
  passwordLength: number;
  paused: boolean;
  nextRunAt: string | null;
  lastRunAt: string | null;
  failures: number;
  lastError: string | null;
  createdBy: string;
  createdAt: string;
}

/** `POST /orgs/:org/rotations/:name/run`: one run (a failed one is a 502 ROTATION_FAILED). */
export interface RotationRun {
  id: string;
  trigger: 'schedule' | 'manual';
  requestedBy: string | null;
  startedAt: string;
  finishedAt: string;
  outcome: 'succeeded' | 'failed';
  error: string | null;
  role: string | null;
  version: number | null;
}

export interface ReportToken {
  id: string;
  kind: 'service' | 'personal';
  name: string;
  /** The person a personal token acts as; null for a service token. */
  owner: string | null;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

/**
 * `GET /orgs/:org/report`: the hygiene report. A section the caller's role may not read is
 * absent and named in `withheld`.
 */
export interface HygieneReport {
  organization: string;
  generatedAt: string;
  olderThanDays: number;
  inactiveDays: number;
  withheld: string[];
  secrets?: {
    id: string;
    name: string;
    kind: string;
    level: Level;
    where: string;
    assignee: string | null;
    version: number;
    versionCreatedAt: string;
    lastRotatedBy: string;
    ageDays: number;
  }[];
  /** More old secrets than the report lists (it lists the oldest). */
  secretsTruncated?: boolean;
  idleTokens?: ReportToken[];
  tokensWithoutExpiry?: ReportToken[];
  inactiveMembers?: {
    email: string;
    role: string;
    memberSince: string;
    lastSignInAt: string | null;
  }[];
  expiredInvitations?: { email: string; role: string; createdAt: string; expiresAt: string }[];
  rotations?: {
    name: string;
    secret: string;
    paused: boolean;
    failures: number;
    lastError: string | null;
    lastRunAt: string | null;
    nextRunAt: string | null;
  }[];
}
