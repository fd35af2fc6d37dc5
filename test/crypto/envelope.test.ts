import { describe, expect, it } from 'vitest';

import {
  decryptValue,
  encryptValue,
  generateDataKey,
  secretAad,
} from '../../src/crypto/envelope.js';
import { HushError } from '../../src/errors.js';

const SENTINEL = 'sentinel-Zq9-value';

function failure(fn: () => unknown): HushError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(HushError);
    return error as HushError;
  }
  throw new Error('expected a HushError, nothing was thrown');
}

function flipByte(ciphertext: string, index: number): string {
  const raw = Buffer.from(ciphertext.slice('v1.'.length), 'base64url');
  raw[index < 0 ? raw.length + index : index]! ^= 0x01;
  return 'v1.' + raw.toString('base64url');
}

describe('envelope encryption', () => {
  const key = generateDataKey();
  const aad = secretAad('sec_1', 1);

  it('generates distinct 32-byte data keys', () => {
    const other = generateDataKey();
    expect(key).toHaveLength(32);
    expect(other).toHaveLength(32);
    expect(other.equals(key)).toBe(false);
  });

  it('decrypts what it encrypted, for strings and binary values', () => {
    const binary = Buffer.from([0, 255, 1, 254, 0]);
    expect(decryptValue(key, encryptValue(key, SENTINEL, aad), aad).toString('utf8')).toBe(
      SENTINEL,
    );
    expect(decryptValue(key, encryptValue(key, binary, aad), aad).equals(binary)).toBe(true);
    expect(decryptValue(key, encryptValue(key, '', aad), aad)).toHaveLength(0);
    expect(decryptValue(key, encryptValue(key, 'üñí ✓ 🔑', aad), aad).toString()).toBe('üñí ✓ 🔑');
  });

  it('round-trips values larger than its scratch buffer', () => {
    const big = Buffer.alloc(100_000, 7);
    const bigAad = secretAad('x'.repeat(5_000), 1);
    expect(decryptValue(key, encryptValue(key, big, bigAad), bigAad).equals(big)).toBe(true);
  });

  it('returns a compact v1 string that never contains the plaintext', () => {
    const ciphertext = encryptValue(key, SENTINEL, aad);
    expect(ciphertext).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(ciphertext).not.toContain(SENTINEL);
    expect(Buffer.from(ciphertext.slice(3), 'base64url')).toHaveLength(12 + 16 + SENTINEL.length);
  });

  it('uses a fresh IV for every encryption of the same value', () => {
    expect(encryptValue(key, SENTINEL, aad)).not.toBe(encryptValue(key, SENTINEL, aad));
  });

  it.each([
    ['the IV', 0],
    ['the tag', 12],
    ['the ciphertext', -1],
  ])('refuses a ciphertext with a flipped byte in %s with DECRYPTION_FAILED', (_part, index) => {
    const tampered = flipByte(encryptValue(key, SENTINEL, aad), index);
    expect(failure(() => decryptValue(key, tampered, aad)).code).toBe('DECRYPTION_FAILED');
  });

  it.each([
    ['another secret', secretAad('sec_2', 1)],
    ['another version', secretAad('sec_1', 2)],
  ])('refuses a ciphertext moved to another row (%s)', (_row, otherAad) => {
    const ciphertext = encryptValue(key, SENTINEL, aad);
    expect(failure(() => decryptValue(key, ciphertext, otherAad)).code).toBe('DECRYPTION_FAILED');
  });

  it('refuses a ciphertext under the wrong data key', () => {
    const ciphertext = encryptValue(key, SENTINEL, aad);
    const error = failure(() => decryptValue(generateDataKey(), ciphertext, aad));
    expect(error.code).toBe('DECRYPTION_FAILED');
  });

  it.each([
    ['no version prefix', 'abc'],
    ['an unknown version', 'v2.' + Buffer.alloc(40).toString('base64url')],
    ['a truncated body', 'v1.' + Buffer.alloc(20).toString('base64url')],
    ['an empty body', 'v1.'],
  ])('refuses a malformed ciphertext (%s) with DECRYPTION_FAILED', (_case, ciphertext) => {
    expect(failure(() => decryptValue(key, ciphertext, aad)).code).toBe('DECRYPTION_FAILED');
  });

  it('refuses a data key of the wrong length with DECRYPTION_FAILED', () => {
    const ciphertext = encryptValue(key, SENTINEL, aad);
    const error = failure(() => decryptValue(key.subarray(0, 16), ciphertext, aad));
    expect(error.code).toBe('DECRYPTION_FAILED');
  });

  it('names neither the key, the plaintext nor the ciphertext when it fails', () => {
    const ciphertext = encryptValue(key, SENTINEL, aad);
    const error = failure(() => decryptValue(key, flipByte(ciphertext, -1), aad));
    for (const secret of [SENTINEL, key.toString('base64'), key.toString('hex'), ciphertext])
      expect(error.message).not.toContain(secret);
    expect(error.message).not.toContain('\n');
  });

  it('binds a ciphertext to the secret id and version', () => {
    expect(secretAad('sec_1', 3)).toBe('secret:sec_1:v3');
    expect(secretAad('sec_1', 3)).not.toBe(secretAad('sec_1', 30));
  });
});
