import fs from 'node:fs';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { type App, createApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import { secretAad } from '../../../src/crypto/envelope.js';
import { addKeyToFile, retireKeysInFile } from '../../../src/crypto/key-file.js';
import { SYSTEM_CONTEXT } from '../../../src/domain/context.js';
import { HushError } from '../../../src/errors.js';
import { DIALECTS, freshDatabase } from '../../helpers/databases.js';
import { track } from '../../helpers/resources.js';

function configOf(settings: { dataDir: string; databaseUrl?: string }) {
  return loadConfig({ dataDir: settings.dataDir, databaseUrl: settings.databaseUrl }, {});
}

async function open(settings: { dataDir: string; databaseUrl?: string }): Promise<App> {
  const app = await createApp(configOf(settings));
  const handle = track('app', () => app.close());
  return { ...app, close: () => handle.close() };
}

function orgRow(app: App, slug: string) {
  return app.database.db
    .selectFrom('organizations')
    .select(['id', 'activeDataKeyId'])
    .where('slug', '=', slug)
    .executeTakeFirstOrThrow();
}

async function rejection(promise: Promise<unknown>): Promise<HushError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HushError);
  return error as HushError;
}

describe.each(DIALECTS)('envelope encryption with stored data keys on %s', (dialect) => {
  let app: App | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start() {
    const settings = await freshDatabase(dialect);
    app = await open(settings);
    await app.services.setup.bootstrap(SYSTEM_CONTEXT, {
      email: 'o@example.com',
      password: 'password 123',
      org: 'acme',
    });
    const org = await orgRow(app, 'acme');
    const sealed = await app.services.keys.seal(
      app.database.db,
      org,
      'sentinel-value',
      secretAad('s1', 1),
    );
    return { settings, org, sealed };
  }

  async function addSecret(on: App, name: string) {
    const [created] = await on.services.secrets.add(SYSTEM_CONTEXT, 'acme', {}, [
      { kind: 'env', name, value: `${name}-value`, sensitivity: 'secret' },
    ]);
    const version = await on.database.db
      .selectFrom('secretVersions')
      .select(['keyId', 'ciphertext'])
      .where('secretId', '=', created!.id)
      .executeTakeFirstOrThrow();
    return { id: created!.id, keyId: version.keyId, ciphertext: version.ciphertext! };
  }

  async function opens(on: App, s: { id: string; keyId: string; ciphertext: string }) {
    const plain = await on.services.keys.open(on.database.db, s, secretAad(s.id, 1));
    return plain.toString();
  }

  it('seals with the key the organization row names, which its first key becomes', async () => {
    const { org, sealed } = await start();
    const keys = await app!.database.db.selectFrom('dataKeys').select('id').execute();
    expect(keys.map((k) => k.id)).toEqual([org.activeDataKeyId]);
    expect(sealed.keyId).toBe(org.activeDataKeyId);
  });

  it('seals new values with a newer data key at once while older values still open', async () => {
    const { org } = await start();
    const before = await addSecret(app!, 'BEFORE');
    const newer = await app!.database.db
      .transaction()
      .execute((trx) => app!.services.keys.createDataKey(trx, org.id));
    const after = await addSecret(app!, 'AFTER');
    expect(before.keyId).toBe(org.activeDataKeyId);
    expect(after.keyId).toBe(newer);
    expect(await opens(app!, before)).toBe('BEFORE-value');
    expect(await opens(app!, after)).toBe('AFTER-value');
  });

  it('uses a data key made through another server on the same database for its next seal', async () => {
    const { settings, org } = await start();
    await addSecret(app!, 'WARM'); // this server has sealed (and unwrapped) with the first key
    const other = await open(settings);
    try {
      const newer = await other.database.db
        .transaction()
        .execute((trx) => other.services.keys.createDataKey(trx, org.id));
      const after = await addSecret(app!, 'AFTER');
      expect(after.keyId).toBe(newer);
      expect(await opens(other, after)).toBe('AFTER-value');
    } finally {
      await other.close();
    }
  });

  it('seals with the newest data key when the organization row names none (made by an older server)', async () => {
    const { org } = await start();
    await app!.database.db
      .updateTable('organizations')
      .set({ activeDataKeyId: null })
      .where('id', '=', org.id)
      .execute();
    const sealed = await addSecret(app!, 'OLD_ROW');
    expect(sealed.keyId).toBe(org.activeDataKeyId);
    expect(await opens(app!, sealed)).toBe('OLD_ROW-value');
  });

  it('generates the key file with mode 0600 on first start', async () => {
    const { settings } = await start();
    expect(app?.createdKeyFile).toBe(path.join(settings.dataDir, 'master.key'));
    expect(fs.statSync(path.join(settings.dataDir, 'master.key')).mode & 0o777).toBe(0o600);
  });

  it('decrypts what it sealed and never stores the plaintext', async () => {
    const { sealed } = await start();
    expect(sealed.ciphertext).not.toContain('sentinel-value');
    expect(
      (await app!.services.keys.open(app!.database.db, sealed, secretAad('s1', 1))).toString(),
    ).toBe('sentinel-value');
  });

  it('opens many values under several data keys at once, and refuses any that was tampered', async () => {
    const { org } = await start();
    const before = await addSecret(app!, 'BEFORE');
    await app!.database.db
      .transaction()
      .execute((trx) => app!.services.keys.createDataKey(trx, org.id));
    const after = await addSecret(app!, 'AFTER');
    expect(after.keyId).not.toBe(before.keyId);
    const item = (x: typeof before) => ({ sealed: x, aad: secretAad(x.id, 1) });
    const plain = await app!.services.keys.openAll(app!.database.db, [
      item(before),
      item(after),
      item(before),
    ]);
    expect(plain.map(String)).toEqual(['BEFORE-value', 'AFTER-value', 'BEFORE-value']);
    const moved = { sealed: after, aad: secretAad(before.id, 1) };
    const error = await rejection(
      app!.services.keys.openAll(app!.database.db, [item(before), moved]),
    );
    expect(error.code).toBe('DECRYPTION_FAILED');
  });

  it('refuses a tampered ciphertext with DECRYPTION_FAILED', async () => {
    const { sealed } = await start();
    const raw = Buffer.from(sealed.ciphertext.slice(3), 'base64url');
    raw[raw.length - 1]! ^= 0x01;
    const tampered = { ...sealed, ciphertext: 'v1.' + raw.toString('base64url') };
    const error = await rejection(
      app!.services.keys.open(app!.database.db, tampered, secretAad('s1', 1)),
    );
    expect(error.code).toBe('DECRYPTION_FAILED');
  });

  it.each([
    ['another secret', 's2', 1],
    ['another version', 's1', 2],
  ])('refuses a ciphertext moved to %s', async (_label, id, version) => {
    const { sealed } = await start();
    const error = await rejection(
      app!.services.keys.open(app!.database.db, sealed, secretAad(id, version)),
    );
    expect(error.code).toBe('DECRYPTION_FAILED');
  });

  it('stops at start with one line naming the key when the master key is wrong', async () => {
    const { settings } = await start();
    await app!.close();
    app = undefined;
    const file = path.join(settings.dataDir, 'master.key');
    const content = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      active: string;
      keys: Record<string, string>;
    };
    content.keys[content.active] = Buffer.alloc(32, 7).toString('base64');
    fs.writeFileSync(file, JSON.stringify(content), { mode: 0o600 });
    const error = await rejection(createApp(configOf(settings)));
    expect(error.code).toBe('KEY_UNAVAILABLE');
    expect(error.message).toContain(content.active);
    expect(error.message).not.toContain('\n');
  });

  it('refuses to start without the key file once data keys exist, instead of making a new key', async () => {
    const { settings } = await start();
    await app!.close();
    app = undefined;
    fs.rmSync(path.join(settings.dataDir, 'master.key'));
    const error = await rejection(createApp(configOf(settings)));
    expect(error.code).toBe('KEY_UNAVAILABLE');
    expect(error.message).toContain('master.key');
    expect(fs.existsSync(path.join(settings.dataDir, 'master.key'))).toBe(false);
  });

  it('reads old values after the master key is rotated and the old key retired', async () => {
    const { settings, sealed } = await start();
    const file = path.join(settings.dataDir, 'master.key');
    const { newKeyId } = addKeyToFile(file);
    // The running app re-wraps online; its cached data keys keep working throughout.
    expect(await app!.services.keys.activateMasterKey(app!.database.db, newKeyId)).toBe(1);
    retireKeysInFile(file, [newKeyId]);
    await app!.close();
    app = await open(settings);
    const keys = await app.database.db.selectFrom('dataKeys').select('masterKeyId').execute();
    expect(keys.map((k) => k.masterKeyId)).toEqual([newKeyId]);
    expect(
      (await app.services.keys.open(app.database.db, sealed, secretAad('s1', 1))).toString(),
    ).toBe('sentinel-value');
  });
});
