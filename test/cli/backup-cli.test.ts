import fs from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import {
  bootstrappedServerEnv,
  runHush,
  signedInCli,
  spawnServer,
  startSecretWriters,
} from '../helpers/cli.js';
import { DIALECTS, tempDir } from '../helpers/databases.js';

// A backup taken while a server is written to holds every write acknowledged before it began,
// restores into a new data directory, and the restored server serves it with a verified chain.
describe.runIf(DIALECTS.includes('sqlite'))('hush admin backup and restore (SQLite)', () => {
  it('backs up under write load and restores every acknowledged write', async () => {
    const { serverEnv, db } = await bootstrappedServerEnv('sqlite');
    const server = await spawnServer(serverEnv);
    const cliEnv = await signedInCli(server.url);
    const ok = async (args: string[], env = cliEnv) => {
      const r = await runHush(args, { env });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r;
    };
    await ok(['project', 'create', 'maps']);
    const { token } = JSON.parse(
      (await ok(['token', 'create', 'writer', '--personal', '--json'])).stdout,
    ) as { token: string };
    const writes = startSecretWriters(server.url, token);
    await writes.until(20);
    const out = path.join(tempDir('hush-backup-'), 'hush-backup.db');
    const began = Date.now();
    const backup = await ok(['admin', 'backup', out], serverEnv);
    expect(backup.stdout).toContain('The master key is not in it');
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
    await new Promise((r) => setTimeout(r, 200));
    await writes.stop();
    await server.stop();
    const before = writes.acked.filter((a) => a.at < began).map((a) => a.name);
    expect(before.length).toBeGreaterThanOrEqual(20);
    expect((await runHush(['admin', 'backup', out], { env: serverEnv })).code).toBe(1);

    // A new data directory with the same master key, copied separately.
    const restored = tempDir('hush-restored-');
    fs.copyFileSync(path.join(db.dataDir, 'master.key'), path.join(restored, 'master.key'));
    const restoredEnv = { HUSH_DATA_DIR: restored };
    await ok(['admin', 'restore', out], restoredEnv);
    const twice = await runHush(['admin', 'restore', out], { env: restoredEnv });
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('exists: stop every hush serve');
    const again = await spawnServer(restoredEnv);
    try {
      const env = await signedInCli(again.url);
      const listed = JSON.parse(
        (await ok(['secret', 'list', '--project', 'maps', '--json'], env)).stdout,
      ) as { name: string }[];
      const names = new Set(listed.map((s) => s.name));
      for (const name of before) expect(names.has(name), name).toBe(true);
      const verify = await ok(['audit', 'verify', '--json'], env);
      expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true });
    } finally {
      await again.stop();
    }
  }, 120_000);

  it('refuses a file that is not a Hush backup, and says how on PostgreSQL', async () => {
    const dir = tempDir('hush-restore-bad-');
    const junk = path.join(dir, 'junk.db');
    fs.writeFileSync(junk, 'not a database');
    const r = await runHush(['admin', 'restore', junk], {
      env: { HUSH_DATA_DIR: path.join(dir, 'data') },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is not a sound Hush backup');
    const pg = await runHush(['admin', 'backup', path.join(dir, 'x.dump')], {
      env: { HUSH_DATA_DIR: dir, HUSH_DATABASE_URL: 'postgres://127.0.0.1/none' },
    });
    expect(pg.code).toBe(1);
    expect(pg.stderr).toContain('pg_dump --format=custom');
  });
});
