import { describe, expect, it } from 'vitest';

import {
  isSecretKind,
  MAX_ENV_VALUE_BYTES,
  MAX_FILE_BYTES,
  previewOf,
  SECRET_KINDS,
  validateEnvName,
  validateEnvValue,
  validateFileSecret,
} from '../../../src/domain/secrets/kinds.js';
import { HushError } from '../../../src/errors.js';

const SENTINEL = 'hunter2-SENTINEL-7f3a';

function errorOf(fn: () => unknown): HushError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HushError);
    expect((e as HushError).code).toBe('VALIDATION_FAILED');
    return e as HushError;
  }
  throw new Error('expected a VALIDATION_FAILED error');
}

type Field = { field: string; message: string };
const fieldsOf = (e: HushError) => (e.details?.fields ?? []) as Field[];

describe('secret kinds', () => {
  it('knows exactly env, pgservice and file', () => {
    expect(SECRET_KINDS).toEqual(['env', 'pgservice', 'file']);
    expect(SECRET_KINDS.every(isSecretKind)).toBe(true);
    expect(isSecretKind('ssh-key')).toBe(false);
  });
});

describe('validateEnvName', () => {
  it.each(['A', 'API_KEY', 'X1_2', 'PATHS', 'HUSHED', 'LDAP_URL', 'HOME_DIR', 'A'.repeat(255)])(
    'accepts %s',
    (name) => {
      expect(() => validateEnvName(name)).not.toThrow();
    },
  );

  it.each([
    ['api_key', 'capitals only'],
    ['Api_Key', 'capitals only'],
    ['1ABC', 'capitals only'],
    ['_ABC', 'capitals only'],
    ['A-B', 'capitals only'],
    ['A B', 'capitals only'],
    ['', 'must not be empty'],
    ['A'.repeat(256), 'at most 255'],
    ['HUSH_TOKEN', 'reserved'],
    ['HUSH_', 'reserved'],
    ['LD_PRELOAD', 'reserved'],
    ['LD_LIBRARY_PATH', 'reserved'],
    ['PATH', 'reserved'],
    ['HOME', 'reserved'],
    ['PGSERVICEFILE', 'reserved'],
  ])('refuses %j: %s', (name, fragment) => {
    const e = errorOf(() => validateEnvName(name));
    expect(fieldsOf(e)).toEqual([{ field: 'name', message: expect.stringContaining(fragment) }]);
  });

  it('says which names are reserved and names the given field', () => {
    const e = errorOf(() => validateEnvName('LD_PRELOAD', 'secret.name'));
    expect(e.message).toMatch(
      /^secret\.name: LD_PRELOAD is reserved: .*HUSH_\*, LD_\*, PATH, HOME/,
    );
  });
});

describe('validateEnvValue', () => {
  it.each([
    ['empty text', ''],
    ['exactly 64 KiB of ASCII', 'x'.repeat(MAX_ENV_VALUE_BYTES)],
    ['exactly 64 KiB of two-byte characters', 'é'.repeat(MAX_ENV_VALUE_BYTES / 2)],
    ['emoji and newlines', 'line 1\nline 2 😀\n'],
  ])('accepts %s', (_label, value) => {
    expect(() => validateEnvValue(value)).not.toThrow();
  });

  it.each([
    ['one byte over 64 KiB', 'x'.repeat(MAX_ENV_VALUE_BYTES + 1), '64 KiB'],
    [
      '64 KiB of characters that take more bytes',
      'é'.repeat(MAX_ENV_VALUE_BYTES / 2 + 1),
      '64 KiB',
    ],
    ['a NUL byte', `${SENTINEL}\0`, 'NUL'],
    ['a lone surrogate', `${SENTINEL}\uD800`, 'UTF-8'],
  ])('refuses %s, never quoting the value', (_label, value, fragment) => {
    const e = errorOf(() => validateEnvValue(value, 'secret.value'));
    expect(fieldsOf(e)).toEqual([
      { field: 'secret.value', message: expect.stringContaining(fragment) },
    ]);
    expect(JSON.stringify({ ...e, message: e.message, stack: e.stack })).not.toContain(SENTINEL);
  });
});

describe('validateFileSecret', () => {
  const ok = { name: 'TLS_CERT', fileName: 'cert.pem', content: Buffer.from('x') };

  it.each(['cert.pem', 'a/b/c.pem', '.env', 'dir.d/..x', 'ü.txt', 'x'.repeat(255)])(
    'accepts the file name %s',
    (fileName) => {
      expect(() => validateFileSecret({ ...ok, fileName })).not.toThrow();
    },
  );

  it.each([
    ['', 'empty'],
    ['x'.repeat(256), 'at most 255'],
    ['/etc/passwd', 'relative'],
    ['../x', '".."'],
    ['a/../b', '".."'],
    ['a/..', '".."'],
    ['./a', '"."'],
    ['a//b', 'empty path segments'],
    ['a/', 'empty path segments'],
    ['a\\b', 'backslash'],
    ['..\\x', 'backslash'],
    ['a\0b', 'NUL'],
    ['a\nb', 'control'],
  ])('refuses the file name %j', (fileName, fragment) => {
    const e = errorOf(() => validateFileSecret({ ...ok, fileName }));
    expect(fieldsOf(e)).toEqual([
      { field: 'fileName', message: expect.stringContaining(fragment) },
    ]);
  });

  it('accepts exactly 1 MiB of content and refuses one byte more', () => {
    expect(() =>
      validateFileSecret({ ...ok, content: Buffer.alloc(MAX_FILE_BYTES) }),
    ).not.toThrow();
    const e = errorOf(() =>
      validateFileSecret({ ...ok, content: Buffer.alloc(MAX_FILE_BYTES + 1) }),
    );
    expect(fieldsOf(e)).toEqual([{ field: 'content', message: expect.stringContaining('1 MiB') }]);
  });

  it('lists every bad field at once, never quoting the content', () => {
    const content = Buffer.concat([Buffer.from(SENTINEL), Buffer.alloc(MAX_FILE_BYTES)]);
    const e = errorOf(() => validateFileSecret({ name: 'cert', fileName: '/x', content }));
    expect(fieldsOf(e).map((f) => f.field)).toEqual(['name', 'fileName', 'content']);
    expect(e.message).toContain('capitals only');
    expect(JSON.stringify({ ...e, message: e.message })).not.toContain(SENTINEL);
  });
});

describe('previewOf', () => {
  it.each([
    ['', null],
    ['short', null],
    ['0123456789abcde', null],
    ['0123456789abcdef', '012…def'],
    ['postgres-password-1', 'pos…d-1'],
    ['😀'.repeat(15), null],
    [`😀😁😂${'x'.repeat(10)}🤣😃😄`, '😀😁😂…🤣😃😄'],
  ])('previews %j as %j (16 code points or more, first and last 3)', (value, preview) => {
    expect(previewOf(value)).toBe(preview);
  });
});
