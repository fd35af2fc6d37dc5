import { describe, expect, it } from 'vitest';

import {
  previewOf,
  validateEnvName,
  validateEnvValue,
  validateFileSecret,
} from '../../../src/domain/secrets/kinds.js';

describe('secret kinds', () => {
  it.each(['A', 'API_KEY', 'X1_2'])('accepts the env name %s', (name) => {
    expect(() => validateEnvName(name)).not.toThrow();
  });

  it.each([
    ['api_key', 'capitals only'],
    ['1ABC', 'capitals only'],
    ['HUSH_TOKEN', 'reserved'],
    ['LD_PRELOAD', 'reserved'],
    ['PATH', 'reserved'],
    ['HOME', 'reserved'],
    ['PGSERVICEFILE', 'reserved'],
    ['A'.repeat(256), '255'],
  ])('refuses the env name %s', (name, fragment) => {
    expect(() => validateEnvName(name)).toThrow(fragment);
  });

  it('limits env values to 64 KiB of UTF-8 without NUL', () => {
    expect(() => validateEnvValue('é'.repeat(32 * 1024))).not.toThrow();
    expect(() => validateEnvValue('é'.repeat(32 * 1024 + 1))).toThrow('64 KiB');
    expect(() => validateEnvValue('a\0b')).toThrow('NUL');
  });

  it.each(['/etc/x', '../x', 'a/../b', 'a//b', 'a\\b'])('refuses the file name %s', (fileName) => {
    expect(() => validateFileSecret({ name: 'F', fileName, content: Buffer.from('x') })).toThrow();
  });

  it('limits file content to 1 MiB', () => {
    expect(() =>
      validateFileSecret({ name: 'F', fileName: 'a/b.pem', content: Buffer.alloc(1024 * 1024) }),
    ).not.toThrow();
    expect(() =>
      validateFileSecret({ name: 'F', fileName: 'a', content: Buffer.alloc(1024 * 1024 + 1) }),
    ).toThrow('1 MiB');
  });

  it('previews only values of 16 characters or more, first and last 3', () => {
    expect(previewOf('0123456789abcde')).toBeNull();
    expect(previewOf('0123456789abcdef')).toBe('012…def');
  });
});
