import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { hushError } from '../errors.js';
import type { MasterKeyProvider } from './key-provider.js';

interface KeyFile {
  active: string;
  keys: Record<string, string>;
}

function newKeyId(): string {
  return `mk_${randomBytes(4).toString('hex')}`;
}

function wrapWith(key: Buffer, keyId: string, dataKey: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(`hush-dek:${keyId}`));
  const body = Buffer.concat([cipher.update(dataKey), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

function unwrapWith(key: Buffer, keyId: string, wrapped: string, where: string): Buffer {
  const raw = Buffer.from(wrapped, 'base64');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(`hush-dek:${keyId}`));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]);
  } catch (error) {
    throw hushError(
      'KEY_UNAVAILABLE',
      `master key "${keyId}" in ${where} cannot unwrap a data key: wrong master key`,
      undefined,
      error,
    );
  }
}

function decodeKey(base64: string, where: string): Buffer {
  const key = Buffer.from(base64, 'base64');
  if (key.length !== 32)
    throw hushError('KEY_UNAVAILABLE', `${where} must hold base64 of 32 bytes`);
  return key;
}

function readKeyFile(file: string): KeyFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw hushError(
      'KEY_UNAVAILABLE',
      `master key file ${file} cannot be read or is not JSON`,
      undefined,
      error,
    );
  }
  const kf = parsed as Partial<KeyFile> | null;
  if (
    !kf ||
    typeof kf.active !== 'string' ||
    typeof kf.keys !== 'object' ||
    kf.keys === null ||
    !(kf.active in kf.keys)
  ) {
    throw hushError(
      'KEY_UNAVAILABLE',
      `master key file ${file} is malformed (expected {"active", "keys"})`,
    );
  }
  for (const [id, value] of Object.entries(kf.keys))
    decodeKey(String(value), `master key "${id}" in ${file}`);
  return kf as KeyFile;
}

/**
 * Refuses a key file that group or others may read or write (any of mode & 0o077), as ssh
 * refuses a private key: one line naming the file, its mode and the fix. Windows has no such
 * bits (every file reads as 0666), so it is not checked there.
 */
function assertPrivate(file: string): void {
  if (process.platform === 'win32') return;
  let mode: number;
  try {
    mode = fs.statSync(file).mode & 0o777;
  } catch {
    return; // reading it reports the problem, naming the file
  }
  if ((mode & 0o077) !== 0) {
    throw hushError(
      'KEY_UNAVAILABLE',
      `master key file ${file} is accessible by others (mode 0${mode.toString(8).padStart(3, '0')}); run chmod 600 ${file}`,
    );
  }
}

/**
 * Replaces the key file atomically: the new content goes to a temporary file beside it, created
 * exclusively with mode 0600 (never wider, not even for a moment), then renamed over the file.
 */
function writeKeyFile(file: string, content: KeyFile): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    // 'wx': O_CREAT|O_EXCL, so the mode applies (it is ignored for a file that already exists).
    fs.writeFileSync(tmp, JSON.stringify(content, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    // The umask can only have narrowed it; this restores the owner's bits it may have taken.
    fs.chmodSync(tmp, 0o600);
    fs.renameSync(tmp, file);
  } catch (error) {
    fs.rmSync(tmp, { force: true });
    throw error;
  }
}

function providerOver(
  load: () => KeyFile,
  where: string,
  changed: () => boolean = () => false,
): MasterKeyProvider & { reload(): void } {
  let current = load();
  // A rotation (`hush admin master-key add`, or a copy from another node) changes the file.
  const fresh = () => {
    if (changed()) current = load();
    return current;
  };
  const missing = (keyId: string) =>
    hushError('KEY_UNAVAILABLE', `master key "${keyId}" is not available in ${where}`);
  return {
    activeKeyId: () => fresh().active,
    keyIds: () => Object.keys(fresh().keys),
    reload() {
      current = load();
    },
    wrap(dataKey, keyId) {
      const kf = fresh();
      const id = keyId ?? kf.active;
      return new Promise((resolve) => {
        const key = kf.keys[id];
        if (key === undefined) throw missing(id);
        resolve({ wrapped: wrapWith(decodeKey(key, where), id, dataKey), masterKeyId: id });
      });
    },
    unwrap(wrapped, masterKeyId) {
      // Another process may have rotated the key file since we read it: look once more.
      if (!(masterKeyId in current.keys)) current = load();
      const key = current.keys[masterKeyId];
      return new Promise((resolve) => {
        if (key === undefined) throw missing(masterKeyId);
        resolve(unwrapWith(decodeKey(key, where), masterKeyId, wrapped, where));
      });
    },
  };
}

/**
 * Opens the master key file, creating it (mode 0600, atomically) when missing; `created` tells
 * the caller to warn. Throws KEY_UNAVAILABLE naming the file when it is unreadable, malformed,
 * or accessible by group or others.
 */
export function loadOrCreateKeyFile(file: string): {
  provider: MasterKeyProvider & { reload(): void };
  created: boolean;
} {
  let created = false;
  if (!fs.existsSync(file)) {
    const id = newKeyId();
    writeKeyFile(file, { active: id, keys: { [id]: randomBytes(32).toString('base64') } });
    created = true;
  }
  assertPrivate(file);
  let mtime = fs.statSync(file).mtimeMs;
  const changed = () => {
    const now = fs.statSync(file).mtimeMs;
    if (now === mtime) return false;
    mtime = now;
    return true;
  };
  return {
    provider: providerOver(() => readKeyFile(file), `master key file ${file}`, changed),
    created,
  };
}

/** `id:base64` (or bare base64, id `mk_env`, for HUSH_MASTER_KEY only), checked. */
function parseEnvKey(entry: string, where: string, idRequired: boolean): [string, string] {
  const at = entry.indexOf(':');
  if (at < 0 && idRequired)
    throw hushError('KEY_UNAVAILABLE', `${where} must list keys as id:base64, comma-separated`);
  const [id, base64] = at < 0 ? ['mk_env', entry] : [entry.slice(0, at), entry.slice(at + 1)];
  if (!/^[\w.-]{1,64}$/.test(id))
    throw hushError('KEY_UNAVAILABLE', `${where} names a key id that is not [A-Za-z0-9_.-]{1,64}`);
  decodeKey(base64, where);
  return [id, base64];
}

/**
 * A provider over `HUSH_MASTER_KEY` (base64 of 32 bytes, or `id:base64`), the node's default,
 * and `HUSH_MASTER_KEY_PREVIOUS`: more keys as `id:base64`, comma-separated, held during a
 * rotation (see docs/operations.md). Throws KEY_UNAVAILABLE naming the variable when a value is
 * not a 32-byte key or an id repeats.
 */
export function providerFromEnv(value: string, previous?: string): MasterKeyProvider {
  const [id, base64] = parseEnvKey(value.trim(), 'HUSH_MASTER_KEY', false);
  const keys: Record<string, string> = { [id]: base64 };
  for (const entry of (previous ?? '').split(',').map((e) => e.trim())) {
    if (entry === '') continue;
    const [otherId, otherKey] = parseEnvKey(entry, 'HUSH_MASTER_KEY_PREVIOUS', true);
    if (otherId in keys)
      throw hushError('KEY_UNAVAILABLE', `HUSH_MASTER_KEY_PREVIOUS repeats the key id ${otherId}`);
    keys[otherId] = otherKey;
  }
  return providerOver(() => ({ active: id, keys }), 'HUSH_MASTER_KEY');
}

/** A new master key as `id:base64`, for HUSH_MASTER_KEY (nothing is stored). */
export function generateMasterKey(): { id: string; value: string } {
  const id = newKeyId();
  return { id, value: `${id}:${randomBytes(32).toString('base64')}` };
}

/**
 * Adds a master key to the file (a new random one, or `given` as `id:base64` copied from another
 * node) and makes it the file's default; old keys stay until retired. The file stays 0600; one
 * accessible by others is refused (KEY_UNAVAILABLE) before anything is written.
 */
export function addKeyToFile(file: string, given?: string): { newKeyId: string } {
  assertPrivate(file);
  const kf = readKeyFile(file);
  const [id, base64] = given
    ? parseEnvKey(given.trim(), 'the key to add', true)
    : [newKeyId(), randomBytes(32).toString('base64')];
  if (id in kf.keys && kf.keys[id] !== base64)
    throw hushError('KEY_UNAVAILABLE', `${file} holds another key with the id ${id}`);
  writeKeyFile(file, { active: id, keys: { ...kf.keys, [id]: base64 } });
  return { newKeyId: id };
}

/** The key `id` of the file as `id:base64`, to stage it on another node. */
export function exportKeyFromFile(file: string, id: string): string {
  assertPrivate(file);
  const key = readKeyFile(file).keys[id];
  if (key === undefined) throw hushError('KEY_UNAVAILABLE', `${file} holds no key ${id}`);
  return `${id}:${key}`;
}

/**
 * Removes every key not in `keep` from the file (the active key is always kept); the file stays
 * 0600, and one accessible by others is refused like in {@link addKeyToFile}.
 */
export function retireKeysInFile(file: string, keep: string[]): void {
  assertPrivate(file);
  const kf = readKeyFile(file);
  const keys = Object.fromEntries(
    Object.entries(kf.keys).filter(([id]) => id === kf.active || keep.includes(id)),
  );
  writeKeyFile(file, { active: kf.active, keys });
}

/**
 * Removes the key `id` from the file; when it was the file's default, `next` (a key it holds)
 * becomes the default. Refuses to remove the file's last key.
 */
export function removeKeyFromFile(file: string, id: string, next: string): void {
  assertPrivate(file);
  const kf = readKeyFile(file);
  if (!(id in kf.keys)) return;
  const { [id]: _removed, ...keys } = kf.keys;
  const active = kf.active === id ? next : kf.active;
  if (!(active in keys))
    throw hushError('KEY_UNAVAILABLE', `${file} would be left without its default key`);
  writeKeyFile(file, { active, keys });
}
