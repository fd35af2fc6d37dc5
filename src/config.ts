import path from 'node:path';

import { z } from 'zod';

/** A uid or gid a job runs as: never 0 (root), 65534 (nobody) unless set. */
function jobIdSchema(kind: 'User' | 'Group') {
  return z.coerce
    .number()
    .int()
    .min(1, 'must not be 0 (root)')
    .max(2 ** 32 - 2)
    .default(65534)
    .describe(
      `${kind} id a job runs as inside its sandbox (and on the host when Hush runs as root).`,
    );
}

/**
 * The server's configuration: one schema, defaults < `HUSH_*` environment < flags.
 * `docs/config.md` lists every key and a test keeps it in step with this schema.
 */
export const configSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1').describe('Address the HTTP server listens on.'),
    port: z.coerce
      .number()
      .int()
      .min(0)
      .max(65535)
      .default(8080)
      .describe('TCP port of the HTTP server (0 picks a free one).'),
    dataDir: z
      .string()
      .min(1)
      .default('./.hush')
      .describe('Directory for the SQLite database, the master key file and job directories.'),
    databaseUrl: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must start with postgres://')
      .optional()
      .describe('PostgreSQL connection URL; when unset Hush uses SQLite in the data directory.'),
    sqliteSync: z
      .enum(['normal', 'full'])
      .default('normal')
      .describe(
        'SQLite only: normal commits survive a crash of Hush, full ones also a power loss (slower writes).',
      ),
    masterKey: z
      .string()
      .optional()
      .describe(
        'Master key as base64 of 32 bytes (or id:base64); when unset the key file is used.',
      ),
    masterKeyPrevious: z
      .string()
      .optional()
      .describe(
        'More master keys this node holds during a rotation, as id:base64, comma-separated (with HUSH_MASTER_KEY).',
      ),
    masterKeyFile: z
      .string()
      .optional()
      .describe('Path of the master key file (default: master.key in the data directory).'),
    workers: z.coerce
      .number()
      .int()
      .min(0)
      .max(64)
      .default(2)
      .describe(
        'How many jobs hush serve (or hush worker) runs at once; 0 disables in-process workers.',
      ),
    jobSandbox: z
      .enum(['bwrap', 'none'])
      .default('bwrap')
      .describe(
        'How jobs are isolated: bwrap (a bubblewrap sandbox, required to run jobs) or none (development machines only: jobs run as the server user and can read its files).',
      ),
    jobUid: jobIdSchema('User'),
    jobGid: jobIdSchema('Group'),
    jobNetwork: z
      .enum(['shared', 'none'])
      .default('shared')
      .describe("A sandboxed job's network: shared (the host's, to reach databases) or none."),
    jobMounts: z
      .string()
      .default('')
      .transform((v, issue) => {
        const list = v
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean);
        for (const p of list) {
          if (!path.isAbsolute(p) || path.normalize(p) !== p.replace(/\/+$/, '') || p === '/') {
            issue.addIssue({
              code: 'custom',
              message: `${p} must be an absolute, normalized path other than /`,
            });
          }
        }
        return Object.freeze(list.map((p) => path.normalize(p).replace(/\/+$/, '')));
      })
      .describe(
        "Comma-separated host directories mounted read-only at the same path in every job's sandbox (a service's working directory may be under one).",
      ),
    logLevel: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info')
      .describe('Server log level.'),
    logFormat: z
      .enum(['auto', 'pretty', 'json'])
      .default('auto')
      .describe(
        'Server log format: pretty (lines for people), json (one JSON object per line, for log collectors) or auto (pretty on a terminal, json otherwise).',
      ),
    sessionTtlHours: z.coerce
      .number()
      .int()
      .min(1)
      .max(24 * 90)
      .default(24 * 7)
      .describe('Lifetime of a console/CLI session in hours.'),
    bodyLimitBytes: z.coerce
      .number()
      .int()
      .min(1024)
      .default(2 * 1024 * 1024)
      .describe('Largest accepted request body in bytes.'),
    trustProxy: z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true')
      .describe(
        'Trust X-Forwarded-For (the client address in audit events) and X-Forwarded-Proto (HTTPS, for cookieSecure=auto).',
      ),
    cookieSecure: z
      .enum(['auto', 'true', 'false'])
      .default('auto')
      .describe(
        'Secure attribute of the session cookie: true always, false never, auto when the request came over HTTPS (behind a proxy: X-Forwarded-Proto, with trustProxy).',
      ),
    signInIpLimit: z.coerce
      .number()
      .int()
      .min(0)
      .max(1_000_000)
      .default(30)
      .describe(
        'Sign-in requests (login, setup, accepting an invitation) one client address may make per minute, counted across every node; 0 turns the limit off.',
      ),
    orgCreation: z
      .enum(['admins-only', 'anyone'])
      .default('admins-only')
      .describe(
        'Who may create organizations: admins-only (people who are Owner or Admin of an organization here) or anyone signed in.',
      ),
    metrics: z
      .enum(['off', 'on'])
      .default('off')
      .describe('Serve Prometheus metrics at GET /metrics (on), or not (off).'),
    metricsToken: z
      .string()
      .min(16, 'must have at least 16 characters')
      .optional()
      .describe('When set, GET /metrics needs it as a bearer token (Authorization: Bearer …).'),
    shutdownGraceSeconds: z.coerce
      .number()
      .int()
      .min(0)
      .max(3600)
      .default(30)
      .describe(
        'On SIGTERM, how long running jobs may go on before they are cancelled ("node shutting down").',
      ),
  })
  .strict();

export type HushConfig = Readonly<z.output<typeof configSchema>>;
export type ConfigInput = z.input<typeof configSchema>;

/** Environment variable and flag of every key, for messages and docs. */
export const CONFIG_SOURCES: Record<keyof ConfigInput, { env: string; flag: string }> = {
  host: { env: 'HUSH_HOST', flag: '--host' },
  port: { env: 'HUSH_PORT', flag: '--port' },
  dataDir: { env: 'HUSH_DATA_DIR', flag: '--data-dir' },
  databaseUrl: { env: 'HUSH_DATABASE_URL', flag: '--database-url' },
  sqliteSync: { env: 'HUSH_SQLITE_SYNC', flag: '--sqlite-sync' },
  masterKey: { env: 'HUSH_MASTER_KEY', flag: '(environment only)' },
  masterKeyPrevious: { env: 'HUSH_MASTER_KEY_PREVIOUS', flag: '(environment only)' },
  masterKeyFile: { env: 'HUSH_MASTER_KEY_FILE', flag: '--master-key-file' },
  workers: { env: 'HUSH_WORKERS', flag: '--workers' },
  jobSandbox: { env: 'HUSH_JOB_SANDBOX', flag: '--job-sandbox' },
  jobUid: { env: 'HUSH_JOB_UID', flag: '--job-uid' },
  jobGid: { env: 'HUSH_JOB_GID', flag: '--job-gid' },
  jobNetwork: { env: 'HUSH_JOB_NETWORK', flag: '--job-network' },
  jobMounts: { env: 'HUSH_JOB_MOUNTS', flag: '--job-mounts' },
  logLevel: { env: 'HUSH_LOG_LEVEL', flag: '--log-level' },
  logFormat: { env: 'HUSH_LOG_FORMAT', flag: '--log-format' },
  sessionTtlHours: { env: 'HUSH_SESSION_TTL_HOURS', flag: '--session-ttl-hours' },
  bodyLimitBytes: { env: 'HUSH_BODY_LIMIT_BYTES', flag: '--body-limit-bytes' },
  trustProxy: { env: 'HUSH_TRUST_PROXY', flag: '--trust-proxy' },
  cookieSecure: { env: 'HUSH_COOKIE_SECURE', flag: '--cookie-secure' },
  signInIpLimit: { env: 'HUSH_SIGN_IN_IP_LIMIT', flag: '--sign-in-ip-limit' },
  orgCreation: { env: 'HUSH_ORG_CREATION', flag: '--org-creation' },
  metrics: { env: 'HUSH_METRICS', flag: '--metrics' },
  metricsToken: { env: 'HUSH_METRICS_TOKEN', flag: '(environment only)' },
  shutdownGraceSeconds: { env: 'HUSH_SHUTDOWN_GRACE_SECONDS', flag: '--shutdown-grace-seconds' },
};

/** Raised with one line per bad key; `main` prints it and exits non-zero. */
export class ConfigError extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join('\n'));
    this.name = 'ConfigError';
  }
}

/**
 * Layers defaults < environment < flags, validates, resolves the data directory and freezes.
 * Throws {@link ConfigError} naming the variable and flag of each bad key.
 */
export function loadConfig(
  flags: Partial<Record<keyof ConfigInput, unknown>> = {},
  env: NodeJS.ProcessEnv = process.env,
): HushConfig {
  const input: Record<string, unknown> = {};
  for (const [key, source] of Object.entries(CONFIG_SOURCES)) {
    const fromEnv = env[source.env];
    if (fromEnv !== undefined && fromEnv !== '') input[key] = fromEnv;
  }
  for (const [key, value] of Object.entries(flags)) {
    if (value !== undefined) input[key] = value;
  }
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const key = String(issue.path[0] ?? '');
        const source = CONFIG_SOURCES[key as keyof ConfigInput] as
          { env: string; flag: string } | undefined;
        const where = source ? `${source.env} / ${source.flag}` : key || 'configuration';
        return `invalid configuration ${where}: ${issue.message}`;
      }),
    );
  }
  return Object.freeze({ ...parsed.data, dataDir: path.resolve(parsed.data.dataDir) });
}
