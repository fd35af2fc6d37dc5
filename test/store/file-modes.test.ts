import fs from 'node:fs';
import path from 'node:path';

import SqliteDatabase from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { type App, createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { HushError } from '../../src/errors.js';
import { main } from '../../src/main.js';
import { DIALECTS, freshDatabase, tempDir } from '../helpers/databases.js';
import { track } from '../helpers/resources.js';

function modeOf(file: string): number {
  return fs.statSync(file).mode & 0o777;
}

function configOf(settings: { dataDir: string; databaseUrl?: string }) {
  return loadConfig({ dataDir: settings.dataDir, databaseUrl: settings.databaseUrl }, {});
}

async function rejection(promise: Promise<unknown>): Promise<HushError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HushError);
  return error as HushError;
}

/** Runs `fn` with the process umask set to `mask` (test files run in their own process). */
async function withUmask<T>(mask: number, fn: () => Promise<T>): Promise<T> {
  const before = process.umask(mask);
  try {
    return await fn();
  } finally {
    process.umask(before);
  }
}

describe.each(DIALECTS)('file modes of what the server keeps on disk on %s', (dialect) => {
  const apps: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0).reverse()) await app.close();
  });

  async function open(settings: { dataDir: string; databaseUrl?: string }): Promise<App> {
    const app = await createApp(configOf(settings));
    const handle = track('app', () => app.close());
    apps.push(handle);
    return app;
  }

  /** Settings whose data directory does not exist yet (a first start). */
  async function firstStart() {
    const { databaseUrl } = await freshDatabase(dialect);
    return { dataDir: path.join(tempDir(), 'data'), databaseUrl };
  }

  it('creates the data directory 0700 and the database, its WAL and the master key 0600', async () => {
    const settings = await firstStart();
    const app = await open(settings);
    expect(app.createdKeyFile).toBe(path.join(settings.dataDir, 'master.key'));
    expect(modeOf(settings.dataDir)).toBe(0o700);
    expect(modeOf(path.join(settings.dataDir, 'master.key'))).toBe(0o600);
    const db = path.join(settings.dataDir, 'hush.db');
    if (dialect === 'sqlite') {
      for (const file of [db, `${db}-wal`, `${db}-shm`])
        expect([file, modeOf(file)]).toEqual([file, 0o600]);
    } else {
      expect(fs.existsSync(db)).toBe(false);
    }
  });

  it('keeps them private under a permissive umask, without changing the umask', async () => {
    const settings = await firstStart();
    await withUmask(0, async () => {
      await open(settings);
      expect(process.umask()).toBe(0);
    });
    expect(modeOf(settings.dataDir)).toBe(0o700);
    expect(modeOf(path.join(settings.dataDir, 'master.key'))).toBe(0o600);
    if (dialect === 'sqlite') {
      const db = path.join(settings.dataDir, 'hush.db');
      for (const file of [db, `${db}-wal`, `${db}-shm`])
        expect([file, modeOf(file)]).toEqual([file, 0o600]);
    }
  });

  it('tightens a data directory created 0755 to 0700 at start', async () => {
    const settings = await firstStart();
    fs.mkdirSync(settings.dataDir, { mode: 0o755 });
    fs.chmodSync(settings.dataDir, 0o755);
    await open(settings);
    expect(modeOf(settings.dataDir)).toBe(0o700);
  });

  it('refuses to start with one line naming the file and mode when the master key is 0644', async () => {
    const settings = await firstStart();
    const app = await open(settings);
    await apps.pop()!.close();
    expect(app.createdKeyFile).not.toBeNull();
    const file = path.join(settings.dataDir, 'master.key');
    fs.chmodSync(file, 0o644);
    const error = await rejection(createApp(configOf(settings)));
    expect(error.code).toBe('KEY_UNAVAILABLE');
    expect(error.message).toBe(
      `master key file ${file} is accessible by others (mode 0644); run chmod 600 ${file}`,
    );
    // Refused, not repaired behind the operator's back.
    expect(modeOf(file)).toBe(0o644);
  });

  it('refuses a master key file that its group can read (0640)', async () => {
    const settings = await firstStart();
    await open(settings);
    await apps.pop()!.close();
    const file = path.join(settings.dataDir, 'master.key');
    fs.chmodSync(file, 0o640);
    const error = await rejection(createApp(configOf(settings)));
    expect(error.code).toBe('KEY_UNAVAILABLE');
    expect(error.message).toBe(
      `master key file ${file} is accessible by others (mode 0640); run chmod 600 ${file}`,
    );
  });

  it('starts with a master key file of mode 0600 or 0400', async () => {
    const settings = await firstStart();
    await open(settings);
    await apps.pop()!.close();
    const file = path.join(settings.dataDir, 'master.key');
    for (const mode of [0o600, 0o400]) {
      fs.chmodSync(file, mode);
      const app = await open(settings);
      expect(app.createdKeyFile).toBeNull();
      await apps.pop()!.close();
      expect(modeOf(file)).toBe(mode);
    }
  });
});

describe.each(DIALECTS.filter((d) => d === 'sqlite'))('SQLite files on %s', (dialect) => {
  it('gives the -wal and -shm files the mode of the database file (SQLite copies it)', async () => {
    const file = path.join(tempDir(), 'copied.db');
    fs.writeFileSync(file, '', { mode: 0o640 });
    fs.chmodSync(file, 0o640);
    const sqlite = new SqliteDatabase(file);
    const handle = track('database (sqlite)', () => sqlite.close());
    try {
      sqlite.pragma('journal_mode = WAL');
      sqlite.exec('create table t (a)');
      expect(modeOf(`${file}-wal`)).toBe(0o640);
      expect(modeOf(`${file}-shm`)).toBe(0o640);
    } finally {
      await handle.close();
    }
  });

  it('tightens a database, WAL and shared-memory file left 0644 to 0600 at start', async () => {
    const { dataDir } = await freshDatabase(dialect);
    const file = path.join(dataDir, 'hush.db');
    // As an older version (or another tool) left them: 0644, and a WAL still in use.
    fs.writeFileSync(file, '', { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    const other = new SqliteDatabase(file);
    const otherHandle = track('database (sqlite)', () => other.close());
    try {
      other.pragma('journal_mode = WAL');
      other.exec('create table leftover (a)');
      expect(modeOf(`${file}-wal`)).toBe(0o644);
      const app = await createApp(configOf({ dataDir }));
      const handle = track('app', () => app.close());
      try {
        for (const f of [file, `${file}-wal`, `${file}-shm`])
          expect([f, modeOf(f)]).toEqual([f, 0o600]);
      } finally {
        await handle.close();
      }
    } finally {
      await otherHandle.close();
    }
  });

  it('hush serve prints the one-line refusal and exits non-zero for a 0644 master key', async () => {
    const { dataDir } = await freshDatabase(dialect);
    const app = await createApp(configOf({ dataDir }));
    await app.close();
    const file = path.join(dataDir, 'master.key');
    fs.chmodSync(file, 0o644);
    const written: string[] = [];
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    const exitCode = process.exitCode;
    try {
      await main(['node', 'hush', 'serve', '--data-dir', dataDir, '--port', '0']);
      expect(process.exitCode).toBe(1);
    } finally {
      process.exitCode = exitCode;
      stderr.mockRestore();
    }
    expect(written).toEqual([
      `hush: master key file ${file} is accessible by others (mode 0644); run chmod 600 ${file}\n`,
    ]);
  });
});
