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

function writeKeyFile(file: string, content: KeyFile): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(content, null, 2) + '\n', { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}

function providerOver(
  load: () => KeyFile,
  where: string,
  changed: () => boolean = () => false,
): MasterKeyProvider & { reload(): void } {
  let current = load();
  return {
    activeKeyId: () => current.active,
    reload() {
      current = load();
    },
    wrap(dataKey) {
      // A rotation by `hush admin rotate-master-key` changes the file: wrap with the new key.
      if (changed()) current = load();
      const id = current.active;
      return Promise.resolve({
        wrapped: wrapWith(decodeKey(current.keys[id] ?? '', where), id, dataKey),
        masterKeyId: id,
      });
    },
    unwrap(wrapped, masterKeyId) {
      // Another process may have rotated the key file since we read it: look once more.
      if (!(masterKeyId in current.keys)) current = load();
      const key = current.keys[masterKeyId];
      return new Promise((resolve) => {
        if (key === undefined) {
          throw hushError(
            'KEY_UNAVAILABLE',
            `master key "${masterKeyId}" is not available in ${where}`,
          );
        }
        resolve(unwrapWith(decodeKey(key, where), masterKeyId, wrapped, where));
      });
    },
  };
}

/**
 * Opens the master key file, creating it (mode 0600, atomically) when missing; `created` tells
 * the caller to warn. Throws KEY_UNAVAILABLE naming the file when it is unreadable or malformed.
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

/**
 * A provider over `HUSH_MASTER_KEY` (base64 of 32 bytes, or `id:base64`).
 * Throws KEY_UNAVAILABLE naming HUSH_MASTER_KEY when the value is not a 32-byte key.
 */
export function providerFromEnv(value: string): MasterKeyProvider {
  const [id, base64] = value.includes(':')
    ? (value.split(':', 2) as [string, string])
    : ['mk_env', value];
  decodeKey(base64, 'HUSH_MASTER_KEY');
  return providerOver(() => ({ active: id, keys: { [id]: base64 } }), 'HUSH_MASTER_KEY');
}

/** Adds a new master key to the file and makes it active; old keys stay until retired. */
export function addKeyToFile(file: string): { newKeyId: string } {
  const kf = readKeyFile(file);
  const id = newKeyId();
  writeKeyFile(file, {
    active: id,
    keys: { ...kf.keys, [id]: randomBytes(32).toString('base64') },
  });
  return { newKeyId: id };
}

/** Removes every key not in `keep` from the file (the active key is always kept). */
export function retireKeysInFile(file: string, keep: string[]): void {
  const kf = readKeyFile(file);
  const keys = Object.fromEntries(
    Object.entries(kf.keys).filter(([id]) => id === kf.active || keep.includes(id)),
  );
  writeKeyFile(file, { active: kf.active, keys });
}
