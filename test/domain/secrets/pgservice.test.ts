import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import {
  formatPgServiceConf,
  parsePgServiceConf,
  parseSetPairs,
  type PgServiceEntry,
  validatePgService,
} from '../../../src/domain/secrets/pgservice.js';
import { HushError } from '../../../src/errors.js';
import { tempDir } from '../../helpers/databases.js';

function errorOf(fn: () => unknown): HushError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HushError);
    return e as HushError;
  }
  throw new Error('expected an error');
}

describe('parsePgServiceConf', () => {
  it('reads comments, blank lines and whitespace as libpq does', () => {
    const text =
      '# services\n\n[ninja]\n  host = db.example.com \n# c\n\nport=5432\n[b]\ndbname=x\n';
    expect(parsePgServiceConf(text)).toEqual([
      { name: 'ninja', settings: { host: 'db.example.com', port: '5432' } },
      { name: 'b', settings: { dbname: 'x' } },
    ]);
  });

  it.each([
    ['a duplicate section', '[x]\nhost=a\n[x]\nhost=b\n', 'line 3'],
    ['a key before any section', 'host=a\n[x]\nport=1\n', 'line 1'],
    ['a line without =', '[x]\nhost\n', 'line 2'],
    ['an unknown key', '[x]\nhost=a\ncolour=red\n', 'line 3'],
    ['a broken header', '[x\nhost=a\n', 'line 1'],
    ['no section at all', '# nothing\n', 'no [service]'],
    ['a bad port in the second section', '[a]\nhost=a\n[b]\nport=70000\n', '[b].port'],
  ])('refuses %s, naming where', (_label, text, fragment) => {
    expect(errorOf(() => parsePgServiceConf(text)).message).toContain(fragment);
  });

  it('never puts a value in an error', () => {
    const secret = 'hunter2-sentinel';
    const e = errorOf(() => parsePgServiceConf(`[x]\npassword=${secret}\nport=${secret}\n`));
    expect(JSON.stringify({ m: e.message, d: e.details })).not.toContain(secret);
  });

  it('round-trips through the formatter', () => {
    const entries: PgServiceEntry[] = [
      {
        name: 'a',
        settings: {
          sslmode: 'require',
          host: 'h',
          password: 'p w=x',
          port: '5433',
          application_name: 'x',
        },
      },
      { name: 'b.c-d', settings: { dbname: 'gis' } },
    ];
    expect(parsePgServiceConf(formatPgServiceConf(entries))).toEqual(entries);
    expect(formatPgServiceConf(entries)).toMatch(
      /^\[a\]\nhost=h\nport=5433\npassword=p w=x\napplication_name=x\nsslmode=require\n/,
    );
  });
});

describe('validatePgService', () => {
  it.each([
    [{ port: '0' }, 'port'],
    [{ port: '65536' }, 'port'],
    [{ sslmode: 'maybe' }, 'sslmode'],
    [{ host: 'a\nb' }, 'newline'],
    [{ service: 'x' }, 'not a libpq connection keyword'],
  ])('refuses %o', (settings, fragment) => {
    expect(errorOf(() => validatePgService({ name: 'x', settings })).message).toContain(fragment);
  });

  it('accepts a port list for several hosts and a bad service name is refused', () => {
    expect(() =>
      validatePgService({ name: 'x', settings: { host: 'a,b', port: '5432,5433' } }),
    ).not.toThrow();
    expect(
      errorOf(() => validatePgService({ name: '-x', settings: { host: 'a' } })).message,
    ).toContain('name');
  });

  it('parses --set pairs, naming a bad one by position', () => {
    expect(parseSetPairs(['connect_timeout=5', 'options=-c a=b'])).toEqual({
      connect_timeout: '5',
      options: '-c a=b',
    });
    expect(errorOf(() => parseSetPairs(['ok=1', 'novalue'])).message).toContain('set[1]');
  });
});

describe('a generated pg_service.conf read by real libpq', () => {
  const reachable = (() => {
    try {
      execFileSync('pg_isready', ['-h', '127.0.0.1', '-q']);
      return true;
    } catch {
      return false;
    }
  })();
  if (!reachable && process.env.HUSH_TEST_REQUIRE_POSTGRES !== '1') {
    console.warn('!!!!! PostgreSQL is not reachable: SKIPPING the psql service-file test !!!!!');
  }

  it.runIf(reachable || process.env.HUSH_TEST_REQUIRE_POSTGRES === '1')(
    'lets psql connect with service=NAME',
    () => {
      const file = path.join(tempDir(), 'pg_service.conf');
      const entries = parsePgServiceConf(
        '[hush_test]\nhost=127.0.0.1\nport=5432\ndbname=postgres\nuser=postgres\nsslmode=disable\napplication_name=hush_test\nconnect_timeout=5\n',
      );
      fs.writeFileSync(file, formatPgServiceConf(entries), { mode: 0o600 });
      const out = execFileSync(
        'psql',
        [
          'service=hush_test',
          '-XAtc',
          "select current_user || '|' || current_setting('application_name')",
        ],
        {
          env: { PATH: process.env.PATH ?? '', PGSERVICEFILE: file },
        },
      );
      expect(out.toString().trim()).toBe('postgres|hush_test');
    },
  );
});
