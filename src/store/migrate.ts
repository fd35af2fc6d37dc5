import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';

import { hushError } from '../errors.js';
import * as foundation from './migrations/0001-foundation.js';
import * as secrets from './migrations/0002-secrets.js';
import * as jobs from './migrations/0003-jobs.js';
import * as customRoles from './migrations/0004-custom-roles.js';
import * as auditScale from './migrations/0005-audit-scale.js';
import * as changeSeq from './migrations/0006-change-seq.js';
import * as activeDataKey from './migrations/0007-active-data-key.js';
import * as keyedAudit from './migrations/0008-keyed-audit.js';
import * as signInBrake from './migrations/0009-sign-in-brake.js';
import * as references from './migrations/0010-references.js';
import * as rotations from './migrations/0011-rotations.js';
import * as masterKeys from './migrations/0012-master-keys.js';
import type { Schema } from './schema.js';

// Migrations are compiled into the program (not read from disk) so `dist/` runs anywhere.
const MIGRATIONS: Record<string, Migration> = {
  '0001-foundation': foundation,
  '0002-secrets': secrets,
  '0003-jobs': jobs,
  '0004-custom-roles': customRoles,
  '0005-audit-scale': auditScale,
  '0006-change-seq': changeSeq,
  '0007-active-data-key': activeDataKey,
  '0008-keyed-audit': keyedAudit,
  '0009-sign-in-brake': signInBrake,
  '0010-references': references,
  '0011-rotations': rotations,
  '0012-master-keys': masterKeys,
};

const provider: MigrationProvider = { getMigrations: () => Promise.resolve(MIGRATIONS) };

function migrator(db: Kysely<Schema>): Migrator {
  return new Migrator({
    db,
    provider,
    migrationTableName: 'hush_migrations',
    migrationLockTableName: 'hush_migrations_lock',
  });
}

/** Names of the migrations this program has that the database has not run (readiness). */
export async function pendingMigrations(db: Kysely<Schema>): Promise<string[]> {
  const all = await migrator(db).getMigrations();
  return all.filter((m) => m.executedAt === undefined).map((m) => m.name);
}

/**
 * Applies every pending migration; running it again is a no-op.
 * Throws INTERNAL naming the failed migration.
 */
export async function migrateToLatest(db: Kysely<Schema>): Promise<string[]> {
  const { error, results } = await migrator(db).migrateToLatest();
  const missing = /previously executed migration (\S+) is missing/.exec(
    error instanceof Error ? error.message : '',
  );
  if (missing) {
    // A newer Hush upgraded the database (nodes are upgraded one at a time): say so.
    throw hushError(
      'INTERNAL',
      `the database was migrated by a newer Hush (it has run ${missing[1]}, which this program lacks): upgrade this node`,
      undefined,
      error,
    );
  }
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw hushError('INTERNAL', `migration ${failed} failed`, undefined, error);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
