import fs from 'node:fs';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import type { App } from '../../../src/app.js';
import { addKeyToFile, retireKeysInFile } from '../../../src/crypto/key-file.js';
import { createAuditRetention } from '../../../src/domain/audit/retention.js';
import { HushError } from '../../../src/errors.js';
import { DIALECTS, freshDatabase } from '../../helpers/databases.js';
import {
  appendEvents,
  guessedKey,
  openApp,
  plainSha256,
  rewriteAndRehash,
  type Settings,
  storedEvents,
} from './tamper.js';

const ORG = 'org-keyed';
const ORG_SLUG = { id: ORG, slug: 'keyed' };

describe.each(DIALECTS)('the keyed audit chain in the database on %s', (dialect) => {
  let app: App | undefined;
  let settings: Settings;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start(events = 8): Promise<App> {
    settings = await freshDatabase(dialect);
    app = await openApp(settings);
    await appendEvents(app, ORG, events);
    return app;
  }

  async function reopen(): Promise<App> {
    await app?.close();
    app = await openApp(settings);
    return app;
  }

  const verify = (a: App) => a.services.audit.verify(a.database.db, ORG);
  const setHead = (a: App, values: Record<string, unknown>) =>
    a.database.db.updateTable('auditHeads').set(values).where('orgId', '=', ORG).execute();

  it('hashes every new event with the key and seals its head from seq 1', async () => {
    const a = await start();
    expect(await verify(a)).toMatchObject({ ok: true, checked: 8, lastSeq: 8 });
    const events = await storedEvents(a.database.db, ORG);
    for (const e of events) expect(plainSha256(e, e.prevHash)).not.toBe(e.hash);
    const head = await a.database.db
      .selectFrom('auditHeads')
      .selectAll()
      .where('orgId', '=', ORG)
      .executeTakeFirstOrThrow();
    expect(Number(head.keyedFromSeq)).toBe(1);
    expect(head.headMac).toMatch(/^[0-9a-f]{64}$/);
  });

  it('reports the first missing seq as tail-truncated when the last events are deleted', async () => {
    const a = await start();
    await a.database.db
      .deleteFrom('auditEvents')
      .where('orgId', '=', ORG)
      .where('seq', '>', 5)
      .execute();
    expect(await verify(a)).toEqual({
      ok: false,
      checked: 5,
      brokenAt: { id: null, seq: 6, reason: 'tail-truncated' },
    });
  });

  it.each([
    ['plain SHA-256', plainSha256, 'unkeyed-event'],
    ['a key of its own', guessedKey, 'hash-mismatch'],
  ] as const)(
    'reports an event rewritten with every later hash recomputed with %s',
    async (_label, forge, reason) => {
      const a = await start();
      const target = (await storedEvents(a.database.db, ORG))[3]!;
      await rewriteAndRehash(a.database.db, ORG, 4, 'nothing happened', forge);
      expect(await verify(a)).toEqual({
        ok: false,
        checked: 3,
        brokenAt: { id: target.id, seq: 4, reason },
      });
    },
  );

  it('refuses a downgrade: keying moved past events re-hashed with plain SHA-256', async () => {
    const a = await start();
    await rewriteAndRehash(a.database.db, ORG, 1, 'nothing happened', plainSha256);
    await setHead(a, { keyedFromSeq: 9 });
    expect(await verify(a)).toEqual({
      ok: false,
      checked: 0,
      brokenAt: { id: null, seq: 8, reason: 'head-seal-mismatch' },
    });
    // Erasing the seal (as if the chain predated keying) does not pass either.
    await setHead(a, { headMac: null });
    expect(await verify(a)).toMatchObject({
      ok: false,
      brokenAt: { reason: 'head-seal-mismatch' },
    });
    // Nor does a restart: only the start that creates the audit key seals unsealed heads.
    expect(await verify(await reopen())).toMatchObject({
      ok: false,
      brokenAt: { reason: 'head-seal-mismatch' },
    });
  });

  it('reports events deleted from the front, whether or not the anchor was moved over them', async () => {
    const a = await start();
    const events = await storedEvents(a.database.db, ORG);
    await a.database.db
      .deleteFrom('auditEvents')
      .where('orgId', '=', ORG)
      .where('seq', '<=', 3)
      .execute();
    expect(await verify(a)).toMatchObject({
      ok: false,
      brokenAt: { id: events[3]!.id, seq: 4, reason: 'seq-gap' },
    });
    await setHead(a, { anchorSeq: 3, anchorHash: events[2]!.hash });
    expect(await verify(a)).toMatchObject({
      ok: false,
      brokenAt: { reason: 'head-seal-mismatch' },
    });
  });

  it('reports events whose head row was deleted', async () => {
    const a = await start();
    const [first] = await storedEvents(a.database.db, ORG);
    await a.database.db.deleteFrom('auditHeads').where('orgId', '=', ORG).execute();
    expect(await verify(a)).toEqual({
      ok: false,
      checked: 0,
      brokenAt: { id: first!.id, seq: 1, reason: 'head-missing' },
    });
  });

  it('still verifies after retention purges, re-sealing the moved anchor', async () => {
    const a = await start(6);
    await new Promise((r) => setTimeout(r, 5));
    const cut = new Date();
    await new Promise((r) => setTimeout(r, 5));
    await appendEvents(a, ORG, 2, 7);
    const before = await a.services.audit.checkpoint(a.database.db, ORG_SLUG);
    // The purge task reads the retention from the organization row.
    await a.database.db
      .insertInto('organizations')
      .values({
        ...ORG_SLUG,
        name: 'Keyed',
        plan: 'free',
        auditRetentionDays: 1,
        createdAt: new Date().toISOString(),
        activeDataKeyId: null,
      })
      .execute();
    const retention = createAuditRetention({ db: a.database.db, audit: a.services.audit });
    const [purged] = await retention.purgeExpired(new Date(cut.getTime() + 86_400_000));
    expect(purged).toMatchObject({ orgId: ORG, deleted: 6, anchorSeq: 6 });
    const verdict = await verify(a);
    expect(verdict).toMatchObject({ ok: true, checked: 3, lastSeq: 9 });
    // A checkpoint taken before the purge still holds: its event (seq 8) is kept.
    expect(await a.services.audit.verify(a.database.db, ORG, before)).toMatchObject({
      ok: true,
      checkpoint: { seq: 8, status: 'present' },
    });
    // After a restart the same key is loaded again.
    const b = await reopen();
    expect(await verify(b)).toMatchObject({ ok: true, checked: 3 });
    expect(await b.services.audit.verify(b.database.db, ORG, before)).toMatchObject({ ok: true });
  });

  it('keeps chains and checkpoints verifiable across a master-key rotation', async () => {
    const a = await start();
    const checkpoint = await a.services.audit.checkpoint(a.database.db, ORG_SLUG);
    const file = path.join(settings.dataDir, 'master.key');
    const { newKeyId } = addKeyToFile(file);
    await a.services.keys.activateMasterKey(a.database.db, newKeyId);
    retireKeysInFile(file, [newKeyId]);
    const b = await reopen();
    const keyRow = await b.database.db.selectFrom('auditKeys').selectAll().execute();
    expect(keyRow.map((k) => k.masterKeyId)).toEqual([newKeyId]);
    await appendEvents(b, ORG, 1, 9);
    expect(await verify(b)).toMatchObject({ ok: true, checked: 9 });
    expect(await b.services.audit.verify(b.database.db, ORG, checkpoint)).toMatchObject({
      ok: true,
      checkpoint: { seq: 8, status: 'present' },
    });
  });

  it('refuses to start, rather than make a new audit key, when the key row is gone', async () => {
    const a = await start();
    await a.database.db.deleteFrom('auditKeys').execute();
    await a.close();
    app = undefined;
    const error = await openApp(settings).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HushError);
    expect((error as HushError).code).toBe('KEY_UNAVAILABLE');
    expect((error as HushError).message).toContain('audit_keys');
  });

  it('refuses to start without the master key file once the audit key exists', async () => {
    await start(0);
    await app!.close();
    app = undefined;
    fs.rmSync(path.join(settings.dataDir, 'master.key'));
    const error = await openApp(settings).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as HushError).code).toBe('KEY_UNAVAILABLE');
    expect(fs.existsSync(path.join(settings.dataDir, 'master.key'))).toBe(false);
  });
});
