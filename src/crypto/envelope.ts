import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

import { hushError } from '../errors.js';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const PREFIX = 'v1.';

/** A fresh random 256-bit data key. */
export function generateDataKey(): Buffer {
  return randomBytes(32);
}

/** Encrypts with AES-256-GCM under `dataKey`, binding the ciphertext to `aad`; returns `v1.<base64url>`. */
export function encryptValue(dataKey: Buffer, plaintext: string | Buffer, aad: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', dataKey, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([
    cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext),
    cipher.final(),
  ]);
  return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

/**
 * Decrypts a value made by {@link encryptValue}. Any failure — tampering, another row's `aad`,
 * another key, a malformed string — throws DECRYPTION_FAILED, naming nothing secret.
 */
export function decryptValue(dataKey: Buffer, ciphertext: string, aad: string): Buffer {
  if (!ciphertext.startsWith(PREFIX))
    throw hushError('DECRYPTION_FAILED', 'unknown ciphertext format');
  const raw = Buffer.from(ciphertext.slice(PREFIX.length), 'base64url');
  if (raw.length < IV_BYTES + TAG_BYTES)
    throw hushError('DECRYPTION_FAILED', 'ciphertext is truncated');
  try {
    const decipher = createDecipheriv('aes-256-gcm', dataKey, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch (error) {
    throw hushError('DECRYPTION_FAILED', 'ciphertext failed authentication', undefined, error);
  }
}

/** The associated data binding a secret version's ciphertext to its row. */
export function secretAad(secretId: string, version: number): string {
  return `secret:${secretId}:v${version}`;
}
