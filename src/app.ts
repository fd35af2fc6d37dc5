import fs from 'node:fs';
import path from 'node:path';

import type { HushConfig } from './config.js';
import { loadOrCreateKeyFile, providerFromEnv } from './crypto/key-file.js';
import type { MasterKeyProvider } from './crypto/key-provider.js';
import { createAuthService } from './domain/accounts/auth-service.js';
import { createSetupService } from './domain/accounts/setup-service.js';
import { AUDIT_KEY_ID, type AuditKey, createAuditKey } from './domain/audit/audit-key.js';
import { createAuditQueryService } from './domain/audit/audit-query-service.js';
import { createAuditService } from './domain/audit/audit-service.js';
import { createAuditRetention } from './domain/audit/retention.js';
import { createChangeFeed } from './domain/change-feed.js';
import { type ConfigService, createConfigService } from './domain/config/config-service.js';
import { createJobService } from './domain/jobs/job-service.js';
import { createDataKeyRotation, type DataKeyRotation } from './domain/keys/data-key-rotation.js';
import { createKeyService } from './domain/keys/key-service.js';
import { createMemberService } from './domain/orgs/member-service.js';
import { createOrgService } from './domain/orgs/org-service.js';
import { createPermissionService } from './domain/orgs/permission-service.js';
import { createRoleService } from './domain/orgs/role-service.js';
import { createProjectService } from './domain/projects/project-service.js';
import { createReportService } from './domain/report/report-service.js';
import { createRotationService, type RoleAdmin } from './domain/rotations/rotation-service.js';
import { createResolveService } from './domain/secrets/resolve-service.js';
import { createSecretService } from './domain/secrets/secret-service.js';
import { createSecretSetService } from './domain/secrets/secret-set-service.js';
import { createTokenService } from './domain/tokens/token-service.js';
import { createTokenUsage } from './domain/tokens/token-usage.js';
import { createUnitOfWork } from './domain/unit-of-work.js';
import { hushError } from './errors.js';
import { createNodeHealth } from './health.js';
import { createSandbox, type Sandbox } from './jobs/sandbox.js';
import { createMetrics } from './metrics.js';
import { createPostgresRoleAdmin } from './outbound/postgres-role.js';
import { type Database, openDatabase } from './store/db.js';
import { findAuditKey, listAllDataKeys } from './store/key-store.js';
import { migrateToLatest } from './store/migrate.js';

/** The wired services every interface (HTTP, admin commands) calls. */
export interface Services {
  auth: ReturnType<typeof createAuthService>;
  setup: ReturnType<typeof createSetupService>;
  orgs: ReturnType<typeof createOrgService>;
  members: ReturnType<typeof createMemberService>;
  permissions: ReturnType<typeof createPermissionService>;
  projects: ReturnType<typeof createProjectService>;
  tokens: ReturnType<typeof createTokenService>;
  auditQuery: ReturnType<typeof createAuditQueryService>;
  keys: ReturnType<typeof createKeyService>;
  /** `hush admin rotate-data-keys`: new data keys, every value re-encrypted online. */
  dataKeys: DataKeyRotation;
  secrets: ReturnType<typeof createSecretService>;
  secretSet: ReturnType<typeof createSecretSetService>;
  resolve: ReturnType<typeof createResolveService>;
  jobs: ReturnType<typeof createJobService>;
  audit: ReturnType<typeof createAuditService>;
  /** The loaded audit MAC key (bulk loaders such as the bench hash and seal chains with it). */
  auditKey: AuditKey;
  auditRetention: ReturnType<typeof createAuditRetention>;
  roles: ReturnType<typeof createRoleService>;
  /** hush.yaml: plan, apply and export of an organization's structure. */
  config: ConfigService;
  rotations: ReturnType<typeof createRotationService>;
  report: ReturnType<typeof createReportService>;
  /** When API tokens were last used (written in batches). */
  tokenUsage: ReturnType<typeof createTokenUsage>;
  /** How this node isolates jobs, and whether its workers can run them. */
  sandbox: Sandbox;
  /** Whether this node is ready to serve (`/readyz`), and its shutdown state. */
  health: ReturnType<typeof createNodeHealth>;
  /** The node's Prometheus metrics (`/metrics`). */
  metrics: ReturnType<typeof createMetrics>;
}

export interface App {
  config: HushConfig;
  database: Database;
  services: Services;
  /** Set when this start generated the master key file (the caller warns). */
  createdKeyFile: string | null;
  /** Registers a listener called when this process queues a job (in-process workers wake). */
  onJobQueued(listener: () => void): void;
  close(): Promise<void>;
}

/** Path of the master key file for a configuration. */
export function keyFilePath(config: HushConfig): string {
  return config.masterKeyFile ?? path.join(config.dataDir, 'master.key');
}

async function openMasterKey(
  config: HushConfig,
  database: Database,
): Promise<{ provider: MasterKeyProvider; created: string | null }> {
  if (config.masterKey) {
    return {
      provider: providerFromEnv(config.masterKey, config.masterKeyPrevious),
      created: null,
    };
  }
  const file = keyFilePath(config);
  if (
    !fs.existsSync(file) &&
    ((await listAllDataKeys(database.db)).length > 0 ||
      (await findAuditKey(database.db, AUDIT_KEY_ID)))
  ) {
    // Generating a fresh key here would orphan every stored secret (and the audit key): refuse.
    throw hushError(
      'KEY_UNAVAILABLE',
      `master key file ${file} is missing but ${database.location} holds keys wrapped by it (data keys, the audit key); restore the file or set HUSH_MASTER_KEY`,
    );
  }
  const { provider, created } = loadOrCreateKeyFile(file);
  return { provider, created: created ? file : null };
}

/**
 * The composition root: opens the database, migrates it, loads the master key (checking that it
 * unwraps every data key) and wires the services by hand.
 */
export async function createApp(
  config: HushConfig,
  options: {
    /** How rotations reach PostgreSQL (tests count or fail the calls). */
    roleAdmin?: RoleAdmin;
  } = {},
): Promise<App> {
  const database = openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    sqliteSync: config.sqliteSync,
  });
  try {
    const db = database.db;
    await migrateToLatest(db);
    const { provider, created } = await openMasterKey(config, database);
    const queued = new Set<() => void>();
    const keys = createKeyService({ masterKey: provider, dialect: database.dialect });
    await keys.checkAll(db);
    // Loaded (or made, sealing the chains written before keying) before any event is appended.
    const auditKey = createAuditKey({ masterKey: provider, wrap: keys.wrap });
    await auditKey.load(db);
    const changes = createChangeFeed();
    const audit = createAuditService({ auditKey, changes });
    const uow = createUnitOfWork({ db, audit, changes });
    const tokenUsage = createTokenUsage({ db });
    const auth = createAuthService({
      db,
      audit,
      usage: tokenUsage,
      sessionTtlHours: config.sessionTtlHours,
      orgCreation: config.orgCreation,
    });
    const orgs = createOrgService({ uow, audit, keys, orgCreation: config.orgCreation });
    const sandbox = createSandbox({
      mode: config.jobSandbox,
      uid: config.jobUid,
      gid: config.jobGid,
      network: config.jobNetwork,
      mounts: config.jobMounts,
    });
    const secrets = createSecretService({ uow, audit, keys });
    const metrics = createMetrics(database);
    const services: Services = {
      auth,
      setup: createSetupService({ db, auth, orgs }),
      orgs,
      members: createMemberService({ db, uow, audit, auth }),
      permissions: createPermissionService({ uow }),
      projects: createProjectService({ uow, audit, jobMounts: config.jobMounts }),
      tokens: createTokenService({ uow, audit }),
      auditQuery: createAuditQueryService({ uow, audit }),
      keys,
      dataKeys: createDataKeyRotation({ db, uow, audit, keys }),
      secrets,
      secretSet: createSecretSetService({ uow, audit, keys }),
      resolve: createResolveService({ uow, keys, audit, changes, telemetry: metrics.telemetry }),
      jobs: createJobService({
        uow,
        audit,
        onQueued: () => queued.forEach((l) => l()),
        // Only a node whose own workers found no sandbox refuses: with --workers 0 others run them.
        refusal: () => {
          const status = sandbox.status();
          return status && !status.available ? status.reason : null;
        },
      }),
      audit,
      auditKey,
      auditRetention: createAuditRetention({ db, audit }),
      roles: createRoleService({ uow, audit }),
      config: createConfigService({ uow, audit, jobMounts: config.jobMounts }),
      rotations: createRotationService({
        database,
        uow,
        audit,
        keys,
        secrets,
        roles: options.roleAdmin ?? createPostgresRoleAdmin(),
      }),
      report: createReportService({ uow, usage: tokenUsage }),
      tokenUsage,
      sandbox,
      health: createNodeHealth({ database, sandbox, keys }),
      metrics,
    };
    return {
      config,
      database,
      services,
      createdKeyFile: created,
      onJobQueued: (listener) => queued.add(listener),
      close: async () => {
        await tokenUsage.flush();
        await database.close();
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}
