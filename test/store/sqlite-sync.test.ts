import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';

import { ConfigError, loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/store/db.js';
import { tempDir } from '../helpers/databases.js';
import { track } from '../helpers/resources.js';

// SQLite's `synchronous` in WAL mode: 1 is NORMAL (synced at checkpoints), 2 is FULL (every commit).
async function synchronousOf(sqliteSync?: 'normal' | 'full') {
  const opened = openDatabase({ dataDir: tempDir(), sqliteSync });
  const handle = track('database (sqlite)', () => opened.close());
  try {
    const { rows } = await sql<{ synchronous: number }>`pragma synchronous`.execute(opened.db);
    return rows[0]?.synchronous;
  } finally {
    await handle.close();
  }
}

describe('SQLite durability setting', () => {
  it('syncs at checkpoints by default and on every commit with full', async () => {
    expect(await synchronousOf()).toBe(1);
    expect(await synchronousOf('normal')).toBe(1);
    expect(await synchronousOf('full')).toBe(2);
  });

  it('reads HUSH_SQLITE_SYNC and --sqlite-sync, flag over environment', () => {
    expect(loadConfig({}, {}).sqliteSync).toBe('normal');
    expect(loadConfig({}, { HUSH_SQLITE_SYNC: 'full' }).sqliteSync).toBe('full');
    expect(loadConfig({ sqliteSync: 'normal' }, { HUSH_SQLITE_SYNC: 'full' }).sqliteSync).toBe(
      'normal',
    );
  });

  it('refuses another value, naming the variable and the flag', () => {
    const error = (() => {
      try {
        loadConfig({}, { HUSH_SQLITE_SYNC: 'off' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).lines).toEqual([
      expect.stringMatching(
        /^invalid configuration HUSH_SQLITE_SYNC \/ --sqlite-sync: .*normal.*full/,
      ),
    ]);
  });
});
