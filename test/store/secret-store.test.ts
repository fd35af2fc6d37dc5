import { describe, expect, it } from 'vitest';

import { isUniqueViolation } from '../../src/store/db-errors.js';
import type { SecretRow } from '../../src/store/schema.js';
import { insertSecretWithFirstVersion } from '../../src/store/secret-store.js';
import { DIALECTS } from '../helpers/databases.js';
import { migratedDatabases } from '../helpers/store.js';

const T = '2026-01-01T00:00:00.000Z';

function secret(id: string): SecretRow {
  return {
    id,
    orgId: 'org-1',
    level: 'organization',
    scopeId: 'org-1',
    projectId: null,
    environmentId: null,
    serviceId: null,
    kind: 'env',
    namespace: 'env',
    name: 'API_KEY',
    sensitivity: 'secret',
    assigneeId: null,
    fileName: null,
    exportEnv: 0,
    currentVersion: 1,
    createdAt: T,
    updatedAt: T,
  };
}

const sealed = {
  keyId: 'key-1',
  ciphertext: 'v1.sealed',
  preview: null,
  refs: null,
  createdBy: 'token:ci',
  tool: 'api',
};

describe.each(DIALECTS)('the secret store on %s', (dialect) => {
  const migrated = migratedDatabases(dialect);

  async function open() {
    const db = await migrated();
    await db
      .insertInto('organizations')
      .values({
        id: 'org-1',
        slug: 'acme',
        name: 'acme',
        plan: 'free',
        auditRetentionDays: null,
        createdAt: T,
        activeDataKeyId: null,
      })
      .execute();
    return db;
  }

  it('inserts a secret with its version 1', async () => {
    const db = await open();
    await db
      .transaction()
      .execute((trx) => insertSecretWithFirstVersion(trx, secret('s-1'), sealed));
    const versions = await db.selectFrom('secretVersions').selectAll().execute();
    expect(versions).toEqual([
      {
        secretId: 's-1',
        version: 1,
        source: 'add',
        fromVersion: null,
        createdAt: T,
        ...sealed,
      },
    ]);
    expect(await db.selectFrom('secrets').selectAll().execute()).toEqual([secret('s-1')]);
  });

  it('inserts neither row when the same level, scope and name exists', async () => {
    const db = await open();
    await insertSecretWithFirstVersion(db, secret('s-1'), sealed);
    const error = await db
      .transaction()
      .execute((trx) => insertSecretWithFirstVersion(trx, secret('s-2'), sealed))
      .catch((e: unknown) => e);
    expect(isUniqueViolation(error)).toBe(true);
    const ids = await db.selectFrom('secretVersions').select('secretId').execute();
    expect(ids).toEqual([{ secretId: 's-1' }]);
  });
});
