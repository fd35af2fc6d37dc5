import fs from 'node:fs';
import path from 'node:path';

import { afterEach, describe, expect, it, vi } from 'vitest';

import {
  addKeyToFile,
  generateMasterKey,
  loadOrCreateKeyFile,
  providerFromEnv,
  retireKeysInFile,
} from '../../src/crypto/key-file.js';
import { HushError } from '../../src/errors.js';
import { tempDir } from '../helpers/databases.js';

function modeOf(file: string): number {
  return fs.statSync(file).mode & 0o777;
}

function failure(fn: () => unknown): HushError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(HushError);
    return error as HushError;
  }
  throw new Error('expected a HushError, nothing was thrown');
}

function keysOf(file: string): { active: string; keys: Record<string, string> } {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as {
    active: string;
    keys: Record<string, string>;
  };
}

/** Every file the key file code creates, with its mode right after creation (before any chmod). */
function watchCreatedFiles(): { created: { file: string; mode: number }[] } {
  const created: { file: string; mode: number }[] = [];
  const write = fs.writeFileSync.bind(fs);
  vi.spyOn(fs, 'writeFileSync').mockImplementation((file, data, options) => {
    write(file, data, options);
    created.push({ file: String(file), mode: modeOf(String(file)) });
  });
  return { created };
}

describe('the master key file', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('is generated 0600 in a new 0700 directory', () => {
    const file = path.join(tempDir(), 'keys', 'master.key');
    const { created } = loadOrCreateKeyFile(file);
    expect(created).toBe(true);
    expect(modeOf(file)).toBe(0o600);
    expect(modeOf(path.dirname(file))).toBe(0o700);
  });

  it('is written through a temporary file that is 0600 from its creation, even with umask 0', () => {
    const file = path.join(tempDir(), 'master.key');
    const { created } = watchCreatedFiles();
    const before = process.umask(0);
    try {
      loadOrCreateKeyFile(file);
      addKeyToFile(file);
    } finally {
      process.umask(before);
    }
    expect(created).toHaveLength(2);
    for (const { file: tmp, mode } of created) {
      expect(path.basename(tmp)).toMatch(/^master\.key\..+\.tmp$/);
      expect([tmp, mode]).toEqual([tmp, 0o600]);
    }
    expect(modeOf(file)).toBe(0o600);
    // No temporary file is left beside the key.
    expect(fs.readdirSync(path.dirname(file))).toEqual(['master.key']);
  });

  it('stays 0600 when a key is added and when old keys are retired', () => {
    const file = path.join(tempDir(), 'master.key');
    loadOrCreateKeyFile(file);
    const first = keysOf(file).active;
    const { newKeyId } = addKeyToFile(file);
    expect(modeOf(file)).toBe(0o600);
    expect(Object.keys(keysOf(file).keys).sort()).toEqual([first, newKeyId].sort());
    retireKeysInFile(file, [newKeyId]);
    expect(modeOf(file)).toBe(0o600);
    expect(Object.keys(keysOf(file).keys)).toEqual([newKeyId]);
  });

  it('becomes 0600 again when a read-only (0400) file is rotated', () => {
    const file = path.join(tempDir(), 'master.key');
    loadOrCreateKeyFile(file);
    fs.chmodSync(file, 0o400);
    addKeyToFile(file);
    expect(modeOf(file)).toBe(0o600);
  });

  it.each(['0644', '0640', '0604', '0660', '0606', '0620', '0602'])(
    'is refused with one line naming the file and mode when it is %s',
    (shown) => {
      const file = path.join(tempDir(), 'master.key');
      loadOrCreateKeyFile(file);
      fs.chmodSync(file, Number.parseInt(shown, 8));
      const error = failure(() => loadOrCreateKeyFile(file));
      expect(error.code).toBe('KEY_UNAVAILABLE');
      expect(error.message).toBe(
        `master key file ${file} is accessible by others (mode ${shown}); run chmod 600 ${file}`,
      );
      expect(error.message).not.toContain('\n');
    },
  );

  it('is accepted at 0600 and 0400', () => {
    const file = path.join(tempDir(), 'master.key');
    loadOrCreateKeyFile(file);
    for (const mode of [0o600, 0o400]) {
      fs.chmodSync(file, mode);
      expect(loadOrCreateKeyFile(file).created).toBe(false);
    }
  });

  it('is neither rotated nor retired while others can read it, and is left as it was', () => {
    const file = path.join(tempDir(), 'master.key');
    loadOrCreateKeyFile(file);
    const { newKeyId } = addKeyToFile(file);
    fs.chmodSync(file, 0o644);
    const before = fs.readFileSync(file, 'utf8');
    for (const change of [() => addKeyToFile(file), () => retireKeysInFile(file, [newKeyId])]) {
      const error = failure(change);
      expect(error.code).toBe('KEY_UNAVAILABLE');
      expect(error.message).toContain('(mode 0644); run chmod 600');
    }
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
    expect(modeOf(file)).toBe(0o644);
  });
});

describe('the keyring from HUSH_MASTER_KEY and HUSH_MASTER_KEY_PREVIOUS', () => {
  const b64 = (byte: number) => Buffer.alloc(32, byte).toString('base64');

  it('holds every key, wraps with the one asked for and unwraps with any', async () => {
    const ring = providerFromEnv(`mk_new:${b64(1)}`, ` mk_env:${b64(2)} , mk_old:${b64(3)}`);
    expect(ring.activeKeyId()).toBe('mk_new');
    expect(ring.keyIds().sort()).toEqual(['mk_env', 'mk_new', 'mk_old']);
    const dataKey = Buffer.alloc(32, 9);
    const { wrapped, masterKeyId } = await ring.wrap(dataKey, 'mk_old');
    expect(masterKeyId).toBe('mk_old');
    // A node that holds mk_old only as its own key opens it: the wrap is the key's, not the ring's.
    expect(await providerFromEnv(`mk_old:${b64(3)}`).unwrap(wrapped, 'mk_old')).toEqual(dataKey);
    await expect(ring.wrap(dataKey, 'mk_gone')).rejects.toThrow(
      'master key "mk_gone" is not available in HUSH_MASTER_KEY',
    );
    // A bare key is mk_env.
    expect(providerFromEnv(b64(2)).keyIds()).toEqual(['mk_env']);
  });

  it.each([
    ['a key without its id', b64(2), 'must list keys as id:base64'],
    ['a repeated id', `mk_new:${b64(2)}`, 'repeats the key id mk_new'],
    ['a short key', `mk_x:${Buffer.alloc(16).toString('base64')}`, 'must hold base64 of 32 bytes'],
    ['a bad id', `mk x:${b64(2)}`, 'names a key id that is not'],
  ])(
    'refuses %s in HUSH_MASTER_KEY_PREVIOUS, naming the variable but no key',
    (_what, previous, message) => {
      const error = failure(() => providerFromEnv(`mk_new:${b64(1)}`, previous));
      expect(error.code).toBe('KEY_UNAVAILABLE');
      expect(error.message).toContain(message);
      expect(error.message).not.toContain(b64(2));
    },
  );

  it('generates keys as id:base64 that a ring takes', () => {
    const { id, value } = generateMasterKey();
    expect(value.startsWith(`${id}:`)).toBe(true);
    expect(providerFromEnv(b64(1), value).keyIds()).toContain(id);
  });
});
