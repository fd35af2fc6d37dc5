import { randomBytes } from 'node:crypto';

import { type Kysely, type Migration, Migrator } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';

import type { App } from '../../../src/app.js';
import {
  type ChainedFields,
  computeEventHash,
  GENESIS_HASH,
} from '../../../src/domain/audit/chain.js';
import { openDatabase } from '../../../src/store/db.js';
import * as foundation from '../../../src/store/migrations/0001-foundation.js';
import * as secrets from '../../../src/store/migrations/0002-secrets.js';
import * as jobs from '../../../src/store/migrations/0003-jobs.js';
import * as customRoles from '../../../src/store/migrations/0004-custom-roles.js';
import * as auditScale from '../../../src/store/migrations/0005-audit-scale.js';
import * as changeSeq from '../../../src/store/migrations/0006-change-seq.js';
import * as activeDataKey from '../../../src/store/migrations/0007-active-data-key.js';
import { DIALECTS, tempDir, type TestDialect } from '../../helpers/databases.js';
import { pgAdmin, pgUrl } from '../../helpers/postgres.js';
import { track } from '../../helpers/resources.js';
import {
  appendEvents,
  openApp,
  plainSha256,
  rewriteAndRehash,
  type Settings,
  storedEvents,
} from './tamper.js';

// The schema as the release before keyed chains left it.
const BEFORE_KEYING: Record<string, Migration> = {
  '0001-foundation': foundation,
  '0002-secrets': secrets,
  '0003-jobs': jobs,
  '0004-custom-roles': customRoles,
  '0005-audit-scale': auditScale,
  '0006-change-seq': changeSeq,
  '0007-active-data-key': activeDataKey,
};

/** An empty database migrated only up to 0007 (PostgreSQL: not cloned from the template). */
async function databaseBeforeKeying(dialect: TestDialect): Promise<Settings> {
  const dataDir = tempDir();
  let databaseUrl: string | undefined;
  if (dialect === 'postgres') {
    const name = `hush_t_${randomBytes(6).toString('hex')}`;
    await pgAdmin((c) => c.query(`create database ${name}`));
    track(
      `postgres database ${name}`,
      () => pgAdmin((c) => c.query(`drop database if exists ${name} with (force)`)),
      { lingering: true },
    );
    databaseUrl = pgUrl(name);
  }
  const database = openDatabase({ dataDir, databaseUrl });
  try {
    const { error } = await new Migrator({
      db: database.db,
      provider: { getMigrations: () => Promise.resolve(BEFORE_KEYING) },
      migrationTableName: 'hush_migrations',
      migrationLockTableName: 'hush_migrations_lock',
    }).migrateToLatest();
    if (error) throw new Error('migrating to 0007 failed', { cause: error });
  } finally {
    await database.close();
  }
  return { dataDir, databaseUrl };
}

function fieldsOf(orgId: string, seq: number): ChainedFields {
  return {
    id: `${orgId}-e${seq}`,
    orgId,
    seq,
    timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
    eventType: 'CREATE',
    targetType: 'project',
    targetId: null,
    targetName: `p${seq}`,
    change: `created project p${seq}`,
    actor: 'owner@example.com',
    actorId: null,
    tool: 'cli',
    ip: null,
    details: '{}',
  };
}

/**
 * Writes seqs `from..to` of a chain the way the release before keying did: plain SHA-256, and
 * the head row with the columns it had (none of 0008's).
 */
async function writeUnkeyedChain(
  settings: Settings,
  orgId: string,
  from: number,
  to: number,
  prevHash = GENESIS_HASH,
): Promise<void> {
  const database = openDatabase(settings);
  const db = database.db as unknown as Kysely<Record<string, Record<string, unknown>>>;
  try {
    for (let seq = from; seq <= to; seq++) {
      const fields = fieldsOf(orgId, seq);
      const hash = computeEventHash(fields, prevHash);
      await db
        .insertInto('auditEvents')
        .values({ ...fields, prevHash, hash })
        .execute();
      prevHash = hash;
    }
    await db.insertInto('auditHeads').values({ orgId, seq: to, hash: prevHash }).execute();
  } finally {
    await database.close();
  }
}

describe.each(DIALECTS)('upgrading unkeyed audit chains on %s', (dialect) => {
  let app: App | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function upgraded(): Promise<{ app: App; settings: Settings }> {
    const settings = await databaseBeforeKeying(dialect);
    await writeUnkeyedChain(settings, 'old', 1, 5);
    // Purged by a release that kept no anchor: the chain starts at seq 4, its head's anchor is 0.
    await writeUnkeyedChain(settings, 'trimmed', 4, 6, 'c'.repeat(64));
    app = await openApp(settings);
    return { app, settings };
  }

  const verify = (a: App, orgId: string) => a.services.audit.verify(a.database.db, orgId);

  it('verifies a chain written before keying, and keys it from its next event', async () => {
    const { app: a } = await upgraded();
    expect(await verify(a, 'old')).toMatchObject({ ok: true, checked: 5, lastSeq: 5 });
    const head = await a.database.db
      .selectFrom('auditHeads')
      .selectAll()
      .where('orgId', '=', 'old')
      .executeTakeFirstOrThrow();
    expect(Number(head.keyedFromSeq)).toBe(6);
    expect(head.headMac).toMatch(/^[0-9a-f]{64}$/);

    await appendEvents(a, 'old', 3, 6);
    expect(await verify(a, 'old')).toMatchObject({ ok: true, checked: 8, lastSeq: 8 });
    const events = await storedEvents(a.database.db, 'old');
    expect(events.map((e) => plainSha256(e, e.prevHash) === e.hash)).toEqual([
      ...[true, true, true, true, true],
      ...[false, false, false],
    ]);
  });

  it('anchors a chain purged before anchors were kept at its first kept event', async () => {
    const { app: a } = await upgraded();
    expect(await verify(a, 'trimmed')).toMatchObject({ ok: true, checked: 3, lastSeq: 6 });
    const head = await a.database.db
      .selectFrom('auditHeads')
      .select(['anchorSeq', 'anchorHash'])
      .where('orgId', '=', 'trimmed')
      .executeTakeFirstOrThrow();
    expect({ ...head, anchorSeq: Number(head.anchorSeq) }).toEqual({
      anchorSeq: 3,
      anchorHash: 'c'.repeat(64),
    });
  });

  it('still detects an unkeyed event rewritten and re-hashed before keying started', async () => {
    // Old events were only ever as strong as SHA-256; after keying, the first keyed event's
    // link pins them: re-hashing the old ones changes the hash the keyed event links to.
    const { app: a } = await upgraded();
    await appendEvents(a, 'old', 1, 6);
    await rewriteAndRehash(a.database.db, 'old', 2, 'nothing happened', plainSha256);
    expect(await verify(a, 'old')).toMatchObject({
      ok: false,
      brokenAt: { seq: 6, reason: 'unkeyed-event' },
    });
  });

  it('refuses a downgrade of the keyed part: unkeyed events after keying, or keying moved', async () => {
    const { app: a } = await upgraded();
    await appendEvents(a, 'old', 3, 6);
    await rewriteAndRehash(a.database.db, 'old', 7, 'nothing happened', plainSha256);
    expect(await verify(a, 'old')).toMatchObject({
      ok: false,
      checked: 6,
      brokenAt: { seq: 7, reason: 'unkeyed-event' },
    });
    await a.database.db
      .updateTable('auditHeads')
      .set({ keyedFromSeq: 9 })
      .where('orgId', '=', 'old')
      .execute();
    expect(await verify(a, 'old')).toMatchObject({
      ok: false,
      brokenAt: { reason: 'head-seal-mismatch' },
    });
  });

  it('seals the chains only once: a restart keeps the key and refuses an erased seal', async () => {
    const { settings } = await upgraded();
    const [key] = await app!.database.db.selectFrom('auditKeys').selectAll().execute();
    await app!.database.db
      .updateTable('auditHeads')
      .set({ headMac: null })
      .where('orgId', '=', 'old')
      .execute();
    await app!.close();
    app = await openApp(settings);
    expect(await app.database.db.selectFrom('auditKeys').selectAll().execute()).toEqual([key]);
    expect(await verify(app, 'old')).toMatchObject({
      ok: false,
      brokenAt: { reason: 'head-seal-mismatch' },
    });
    expect(await verify(app, 'trimmed')).toMatchObject({ ok: true });
  });
});
