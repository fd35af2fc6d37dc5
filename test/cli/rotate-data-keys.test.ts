import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';

import { decryptValue, secretAad } from '../../src/crypto/envelope.js';
import { loadOrCreateKeyFile } from '../../src/crypto/key-file.js';
import {
  bootstrappedServerEnv,
  runHush,
  signedInCli,
  spawnServer,
  startSecretWriters,
} from '../helpers/cli.js';
import { DIALECTS, tempDir } from '../helpers/databases.js';

const BIN = path.resolve('bin/hush.js');

interface VersionRow {
  secret_id: string;
  version: number;
  key_id: string;
  ciphertext: string | null;
}
interface DataKeyRow {
  id: string;
  wrapped_key: string;
  master_key_id: string;
}

/** Reads the database behind a server the way an attacker with a copy of it would. */
async function rows<T>(db: { dataDir: string; databaseUrl?: string }, query: string): Promise<T[]> {
  if (!db.databaseUrl) {
    const sqlite = new Database(path.join(db.dataDir, 'hush.db'), { readonly: true });
    try {
      return sqlite.prepare(query).all() as T[];
    } finally {
      sqlite.close();
    }
  }
  const client = new pg.Client({ connectionString: db.databaseUrl });
  await client.connect();
  try {
    return (await client.query(query)).rows as T[];
  } finally {
    await client.end();
  }
}

const VERSIONS = 'select secret_id, version, key_id, ciphertext from secret_versions';
const DATA_KEYS = 'select id, wrapped_key, master_key_id from data_keys';

/** How many of `versions` the data keys of `keys`, unwrapped with the key file `keyFile`, open. */
async function opened(keyFile: string, keys: DataKeyRow[], versions: VersionRow[]) {
  const { provider } = loadOrCreateKeyFile(keyFile);
  const unwrapped = await Promise.all(
    keys.map((k) => provider.unwrap(k.wrapped_key, k.master_key_id)),
  );
  return versions.filter(
    (v) =>
      v.ciphertext !== null &&
      unwrapped.some((key) => {
        try {
          decryptValue(key, v.ciphertext!, secretAad(v.secret_id, v.version));
          return true;
        } catch {
          return false;
        }
      }),
  ).length;
}

// `hush admin rotate-data-keys` while a server takes writes: it is killed mid-way and resumed,
// no writer gets a 500 or loses a write, every value ends sealed with the new data key and the
// old keys are deleted; then an old backup of the keys plus the old master key open nothing.
describe.each(DIALECTS)('data-key rotation under write load on %s', (dialect) => {
  it('re-encrypts every value online, resumes after a kill, and leaves old keys useless', async () => {
    const { db, serverEnv } = await bootstrappedServerEnv(dialect);
    const server = await spawnServer(serverEnv);
    try {
      const cli = await signedInCli(server.url);
      const ok = async (args: string[], env = cli) => {
        const r = await runHush(args, { env });
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
        return r.stdout;
      };
      await ok(['project', 'create', 'maps']);
      await ok([
        'service',
        'create',
        'check',
        '--project',
        'maps',
        '--command',
        'test "$W_0_0" = v0 && test "$W_1_39" = v39 && echo read-ok',
      ]);
      const { token } = JSON.parse(
        await ok(['token', 'create', 'writer', '--personal', '--json']),
      ) as { token: string };
      const seed = startSecretWriters(server.url, token, 2, 40);
      await seed.until(80);
      await seed.stop();

      // The "old backup": the data keys as they are now, and the master key file.
      const oldKeyFile = path.join(tempDir('hush-oldkey-'), 'master.key');
      fs.copyFileSync(path.join(db.dataDir, 'master.key'), oldKeyFile);
      fs.chmodSync(oldKeyFile, 0o600);
      const oldKeys = await rows<DataKeyRow>(db, DATA_KEYS);
      const before = await rows<VersionRow>(db, VERSIONS);
      expect(before.length).toBeGreaterThanOrEqual(80);
      expect(await opened(oldKeyFile, oldKeys, before)).toBe(before.length); // the check bites

      // A run killed after its first batches leaves values under both keys.
      const killed = spawn(
        process.execPath,
        [BIN, 'admin', 'rotate-data-keys', '--batch-size', '1'],
        { env: { PATH: process.env.PATH ?? '', ...serverEnv }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      await new Promise<void>((resolve, reject) => {
        let err = '';
        killed.stderr.on('data', (d: Buffer) => {
          err += d.toString();
          if (/acme: [1-9]\d*\/\d+ values/.test(err)) {
            killed.kill('SIGKILL');
            resolve();
          }
        });
        killed.once('exit', () =>
          reject(new Error(`rotate-data-keys ended before the kill: ${err}`)),
        );
      });
      await new Promise((r) => killed.once('exit', r));
      const [org] = await rows<{ active_data_key_id: string }>(
        db,
        "select active_data_key_id from organizations where slug = 'acme'",
      );
      const newKey = org!.active_data_key_id;
      const halfway = await rows<VersionRow>(db, VERSIONS);
      expect(halfway.some((v) => v.key_id === newKey)).toBe(true);
      expect(halfway.some((v) => v.key_id !== newKey)).toBe(true);

      // Resumed while writers write: same new key, no 500, nothing lost.
      const writes = startSecretWriters(server.url, token, 3, 400);
      await writes.until(10);
      const resumed = JSON.parse(
        await ok(['admin', 'rotate-data-keys', '--batch-size', '7', '--json'], serverEnv),
      ) as { organization: string; dataKeyId: string; resumed: boolean; reencrypted: number }[];
      await writes.until(writes.acked.length + 10);
      await writes.stop();
      expect(resumed.find((r) => r.organization === 'acme')).toMatchObject({
        dataKeyId: newKey,
        resumed: true,
      });
      expect(writes.statuses.filter((s) => s >= 500 && s !== 503)).toEqual([]);
      const listed = JSON.parse(await ok(['secret', 'list', '--project', 'maps', '--json'])) as {
        name: string;
      }[];
      const names = new Set(listed.map((s) => s.name));
      for (const a of writes.acked) expect(names.has(a.name), a.name).toBe(true);

      const after = await rows<VersionRow>(db, VERSIONS);
      expect(after.filter((v) => v.key_id !== newKey)).toEqual([]);
      const keysNow = await rows<DataKeyRow>(db, DATA_KEYS);
      expect(keysNow.map((k) => k.id)).toEqual([newKey]);

      // Then the master key: old backup + old master key open nothing of today's database.
      await ok(['admin', 'rotate-master-key', '--retire-old', '--json'], serverEnv);
      const today = await rows<VersionRow>(db, VERSIONS);
      expect(await opened(oldKeyFile, oldKeys, today)).toBe(0);
      await expect(
        opened(oldKeyFile, await rows<DataKeyRow>(db, DATA_KEYS), today),
      ).rejects.toThrow(/not available/);
      // And the server still reads every value with the new keys.
      const audit = JSON.parse(await ok(['audit', 'verify', '--json'])) as { ok: boolean };
      expect(audit.ok).toBe(true);
      const run = await ok(['job', 'run', '--project', 'maps', '--service', 'check']);
      expect(run).toContain('read-ok');
    } finally {
      await server.stop();
    }
  }, 180_000);
});
