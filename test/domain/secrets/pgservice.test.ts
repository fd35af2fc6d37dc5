import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  formatPgServiceConf,
  LIBPQ_KEYWORD_SINCE,
  LIBPQ_KEYWORDS,
  MAX_LINE_BYTES,
  parsePgServiceConf,
  parseSetPairs,
  type PgServiceEntry,
  type PgServiceSettings,
  SSL_MODES,
  validatePgService,
} from '../../../src/domain/secrets/pgservice.js';
import { HushError } from '../../../src/errors.js';
import { tempDir } from '../../helpers/databases.js';

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

type Field = { field: string; message: string; line?: number };
const fieldsOf = (e: HushError) => (e.details?.fields ?? []) as Field[];

describe('parsePgServiceConf', () => {
  it('reads the text a human wrote: indentation, spaces around "=", comments and blank lines', () => {
    expect(parsePgServiceConf('[ninja]\n  host = db.example.com \n# c\n\nport=5432\n')).toEqual([
      { name: 'ninja', settings: { host: 'db.example.com', port: '5432' } },
    ]);
  });

  it.each([
    ['CRLF line ends', '[a]\r\nhost=h\r\nport=5432\r\n'],
    ['tabs around everything', '\t[a]\t\n\thost\t=\th\t\n port =5432'],
    ['a byte-order mark', '\uFEFF[a]\nhost=h\nport=5432\n'],
    ['indented comments and no final newline', '  # top\n[a]\n   # x=y\nhost=h\nport=5432'],
    ['spaces inside the brackets', '[ a ]\nhost=h\nport=5432\n'],
  ])('accepts %s', (_label, text) => {
    expect(parsePgServiceConf(text)).toEqual([
      { name: 'a', settings: { host: 'h', port: '5432' } },
    ]);
  });

  it('returns one entry per section, in order, with values taken literally to the end of line', () => {
    const text = '[a]\nhost=h1\noptions=-c search_path=x,y  \n\n[b.c-d]\npassword=p #1 [x] =y\n';
    expect(parsePgServiceConf(text)).toEqual([
      { name: 'a', settings: { host: 'h1', options: '-c search_path=x,y' } },
      { name: 'b.c-d', settings: { password: 'p #1 [x] =y' } },
    ]);
  });

  it.each([
    ['a duplicate section', 5, '[x]\nhost=a\n[ok]\nhost=b\n[x]\nhost=c\n', 'defined on line 1'],
    ['a key before any section', 1, 'host=a\n[x]\nport=1\n', 'before any [service]'],
    ['a line without "="', 3, '[x]\nhost=a\nhost\n', 'expected key=value'],
    ['a lone "=" key', 2, '[x]\n=a\nhost=a\n', 'expected key=value'],
    [
      'an unknown key',
      3,
      '[x]\nhost=a\ncolour=red\n',
      '"colour" is not a libpq connection keyword',
    ],
    ['a nested service', 2, '[x]\nservice=y\n', 'cannot name another service'],
    ['a repeated key', 4, '[x]\nhost=a\n\nhost=b\n', 'already set on line 2'],
    ['a broken header', 1, '[x\nhost=a\n[y]\nhost=b\n', '[name]'],
    ['text after a header', 1, '[x] # main\nhost=a\n', '[name]'],
  ])('refuses %s, naming line %i', (_label, line, text, fragment) => {
    const e = errorOf(() => parsePgServiceConf(text));
    expect(e.message).toContain(`line ${line}: `);
    expect(e.message).toContain(fragment);
    expect(fieldsOf(e)).toEqual([
      { field: 'text', line, message: expect.stringMatching(new RegExp(`^line ${line}: `)) },
    ]);
  });

  it('refuses an unknown key naming its line, not its value', () => {
    const e = errorOf(() => parsePgServiceConf(`[x]\nhost=a\n\ncolour=${SENTINEL}\n`));
    expect(e.message).toBe('line 4: "colour" is not a libpq connection keyword');
    expect(e.details).toEqual({
      fields: [
        { field: 'text', line: 4, message: 'line 4: "colour" is not a libpq connection keyword' },
      ],
    });
  });

  it.each([
    ['port 70000', '[a]\nhost=a\n[b]\nport=70000\n', '[b].port', 4],
    ['a bogus sslmode', '[a]\nhost=a\nsslmode=sometimes\n', '[a].sslmode', 3],
    ['an empty section', '[a]\n[b]\nhost=x\n', '[a].settings', 1],
    ['a bad service name', '[-a]\nhost=x\n', '[-a].name', 1],
    [
      'a line libpq cannot read',
      `[a]\npassword=${'x'.repeat(MAX_LINE_BYTES)}\n`,
      '[a].password',
      2,
    ],
  ])('refuses %s, naming the setting and its line', (_label, text, field, line) => {
    const e = errorOf(() => parsePgServiceConf(text));
    expect(fieldsOf(e)).toEqual([
      { field, line, message: expect.stringContaining(`line ${line}`) },
    ]);
    expect(e.message).toContain(field);
  });

  it('refuses text without any section', () => {
    expect(errorOf(() => parsePgServiceConf('# nothing\n\n')).message).toContain('no [service]');
  });

  it('lists every problem of every section at once and returns nothing (all or none)', () => {
    const text = '[good]\nhost=a\n[bad]\nport=0\ncolour=red\n[good]\nhost=b\n[c]\nsslmode=no\n';
    const fields = fieldsOf(errorOf(() => parsePgServiceConf(text)));
    expect(fields.map((f) => [f.field, f.line])).toEqual([
      ['text', 5],
      ['text', 6],
      ['[bad].port', 4],
      ['[c].sslmode', 9],
    ]);
  });

  it('round-trips: parse(format(x)) equals x', () => {
    const entries: PgServiceEntry[] = [
      {
        name: 'a',
        settings: {
          sslmode: 'require',
          host: 'h1,h2',
          password: 'p w=x #[y] ü✓ "q"',
          port: '5433,5434',
          application_name: 'x',
          options: '-c statement_timeout=5s',
        },
      },
      { name: 'b.c-d_9', settings: { dbname: 'gis', password: '' } },
    ];
    expect(parsePgServiceConf(formatPgServiceConf(entries))).toEqual(entries);
  });

  it('round-trips any valid services (property)', () => {
    // Keywords whose values are free text (the others have their own tests).
    const keys = ['host', 'hostaddr', 'dbname', 'user', 'password', 'options', 'sslkey'];
    const value = fc
      .string({ unit: 'binary', maxLength: 30 })
      .filter((v) => !/[\n\r\0]|^[ \t\v\f]|[ \t\v\f]$/.test(v))
      .filter(
        (v) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(v),
      );
    const entry = fc.record({
      name: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,20}$/),
      settings: fc.dictionary(fc.constantFrom(...keys), value, { minKeys: 1, maxKeys: 8 }),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(entry, { selector: (e) => e.name, minLength: 1, maxLength: 4 }),
        (entries) => {
          expect(parsePgServiceConf(formatPgServiceConf(entries))).toEqual(entries);
        },
      ),
    );
  });
});

describe('validatePgService', () => {
  it.each([
    [{ port: '0' }, 'port', '1 to 65535'],
    [{ port: '65536' }, 'port', '1 to 65535'],
    [{ port: '70000' }, 'port', '1 to 65535'],
    [{ port: '5432,' }, 'port', '1 to 65535'],
    [{ port: ' 5432' }, 'port', 'whitespace'],
    [{ port: '54a' }, 'port', '1 to 65535'],
    [{ sslmode: 'maybe' }, 'sslmode', 'verify-full'],
    [{ gssencmode: 'always' }, 'gssencmode', 'one of'],
    [{ connect_timeout: 'soon' }, 'connect_timeout', 'whole number'],
    [{ host: 'a\nport=1' }, 'host', 'newline'],
    [{ host: 'a\rb' }, 'host', 'newline'],
    [{ host: 'a\0b' }, 'host', 'NUL'],
    [{ password: 'p ' }, 'password', 'whitespace'],
    [{ password: '\tp' }, 'password', 'whitespace'],
    [{ password: 'x'.repeat(MAX_LINE_BYTES) }, 'password', `${MAX_LINE_BYTES} bytes`],
    [{ service: 'x' }, 'service', 'another service'],
    [{ requiressl: '1' }, 'requiressl', 'not a libpq connection keyword'],
    [{ colour: 'red' }, 'colour', 'not a libpq connection keyword'],
    [{ 'Not A Key': 'x' }, 'settings', 'a key is not'],
    [{}, 'settings', 'at least one'],
  ])('refuses %o, naming the field', (settings, field, fragment) => {
    const e = errorOf(() => validatePgService({ name: 'x', settings }));
    expect(fieldsOf(e)).toEqual([{ field, message: expect.stringContaining(fragment) }]);
    expect(e.message).toContain(`${field}: `);
  });

  it.each([
    { host: 'a,b', port: '5432,5433' },
    ...SSL_MODES.map((sslmode) => ({ sslmode })),
    { password: 'é'.repeat((MAX_LINE_BYTES - 'password='.length) / 2) },
    { options: '-c a=b', target_session_attrs: 'read-write', require_auth: 'scram-sha-256' },
  ] as PgServiceSettings[])('accepts %o', (settings: PgServiceSettings) => {
    expect(() => validatePgService({ name: 'x', settings })).not.toThrow();
  });

  it('refuses a bad service name and more than 64 settings, prefixing fields', () => {
    const settings = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']));
    const fields = fieldsOf(errorOf(() => validatePgService({ name: '-x', settings }, 'p.')));
    expect(fields.slice(0, 2).map((f) => f.field)).toEqual(['p.name', 'p.settings']);
    expect(fields[1]?.message).toContain('at most 64');
  });
});

describe('no value ever reaches an error', () => {
  it.each([
    ['a bad port', () => parsePgServiceConf(`[x]\npassword=${SENTINEL}\nport=${SENTINEL}\n`)],
    ['an unknown key', () => parsePgServiceConf(`[x]\ncolour=${SENTINEL}\n`)],
    ['a value on its own line', () => parsePgServiceConf(`[x]\npassword=a\n${SENTINEL}\n`)],
    ['a value as a key', () => parsePgServiceConf(`[x]\n${SENTINEL}=1\n`)],
    ['a key before a section', () => parsePgServiceConf(`password=${SENTINEL}\n[x]\n`)],
    ['a long line', () => parsePgServiceConf(`[x]\npassword=${SENTINEL.repeat(80)}\n`)],
    ['a bad sslmode', () => validatePgService({ name: 'x', settings: { sslmode: SENTINEL } })],
    ['a newline', () => validatePgService({ name: 'x', settings: { password: `${SENTINEL}\n` } })],
    [
      'a trailing space',
      () => validatePgService({ name: 'x', settings: { password: `${SENTINEL} ` } }),
    ],
    [
      'a value as a key (settings)',
      () => validatePgService({ name: 'x', settings: { [SENTINEL]: 'x' } }),
    ],
    [
      'formatting an injection',
      () => formatPgServiceConf([{ name: 'x', settings: { password: `${SENTINEL}\nhost=evil` } }]),
    ],
    ['a --set pair without "="', () => parseSetPairs([`password:${SENTINEL}`])],
  ])('not for %s', (_label, fn) => {
    const e = errorOf(fn);
    expect(JSON.stringify({ ...e, message: e.message, stack: e.stack })).not.toContain(SENTINEL);
  });
});

describe('formatPgServiceConf', () => {
  it('writes host, hostaddr, port, dbname, user, password first, the rest alphabetically, a blank line between services', () => {
    const text = formatPgServiceConf([
      {
        name: 'a',
        settings: {
          sslmode: 'require',
          password: 'p',
          user: 'u',
          application_name: 'x',
          host: 'h',
          port: '1',
        },
      },
      { name: 'b', settings: { dbname: 'd', connect_timeout: '5', hostaddr: '10.0.0.1' } },
    ]);
    expect(text).toBe(
      '[a]\nhost=h\nport=1\nuser=u\npassword=p\napplication_name=x\nsslmode=require\n\n[b]\nhostaddr=10.0.0.1\ndbname=d\nconnect_timeout=5\n',
    );
  });

  it('writes nothing for no services', () => {
    expect(formatPgServiceConf([])).toBe('');
  });

  it('refuses a repeated service and an invalid one rather than write a file libpq misreads', () => {
    const fields = fieldsOf(
      errorOf(() =>
        formatPgServiceConf([
          { name: 'a', settings: { host: 'h' } },
          { name: 'a', settings: { host: 'h\nport=1' } },
        ]),
      ),
    );
    expect(fields.map((f) => f.field)).toEqual(['entries[1].name', 'entries[1].host']);
  });
});

describe('parseSetPairs', () => {
  it('turns key=value pairs into settings, keeping "=" in values', () => {
    expect(parseSetPairs(['connect_timeout=5', 'options=-c a=b', 'password='])).toEqual({
      connect_timeout: '5',
      options: '-c a=b',
      password: '',
    });
  });

  it.each([
    [['ok=1', 'novalue'], 'set[1]', 'key=value'],
    [['=x'], 'set[0]', 'key=value'],
    [['host=a', 'port=1', 'host=b'], 'set[2]', 'set[0]'],
  ])('refuses %o, naming the pair by position', (pairs, field, fragment) => {
    expect(fieldsOf(errorOf(() => parseSetPairs(pairs)))).toEqual([
      { field, message: expect.stringContaining(fragment) },
    ]);
  });

  it('keeps "__proto__" as a plain key, so validation refuses it', () => {
    const settings = parseSetPairs(['__proto__=x']);
    expect(Object.keys(settings)).toEqual(['__proto__']);
    expect(() => validatePgService({ name: 'x', settings })).toThrow(
      'not a libpq connection keyword',
    );
  });
});

describe('a generated pg_service.conf read by real libpq (psql)', () => {
  const requirePostgres = process.env.HUSH_TEST_REQUIRE_POSTGRES === '1';
  const reachable = (() => {
    try {
      execFileSync('pg_isready', ['-h', '127.0.0.1', '-q'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  if (!reachable && !requirePostgres) {
    console.warn(
      '\n!!!!! PostgreSQL on 127.0.0.1 is not reachable (pg_isready): SKIPPING the real-libpq pg_service.conf tests !!!!!\n',
    );
  }
  const live = it.runIf(reachable || requirePostgres);

  function writeConf(entries: PgServiceEntry[]): string {
    const file = path.join(tempDir(), 'pg_service.conf');
    fs.writeFileSync(file, formatPgServiceConf(entries), { mode: 0o600 });
    return file;
  }
  function psql(file: string, service: string, sql: string) {
    return spawnSync('psql', [`service=${service}`, '-XAtc', sql], {
      env: { PATH: process.env.PATH ?? '', PGSERVICEFILE: file },
      encoding: 'utf8',
      timeout: 20_000,
    });
  }
  const local = {
    host: '127.0.0.1',
    port: '5432',
    dbname: 'postgres',
    user: 'postgres',
    sslmode: 'disable',
  };

  live('lets psql connect with service=NAME', () => {
    expect(reachable, 'HUSH_TEST_REQUIRE_POSTGRES=1 but pg_isready -h 127.0.0.1 fails').toBe(true);
    const file = writeConf([
      { name: 'other', settings: { host: 'db.invalid', password: SENTINEL } },
      {
        name: 'hush_test',
        settings: { ...local, application_name: 'hush_test', connect_timeout: '5' },
      },
    ]);
    const out = execFileSync(
      'psql',
      ['service=hush_test', '-XAtc', "select current_user, current_setting('application_name')"],
      {
        env: { PATH: process.env.PATH ?? '', PGSERVICEFILE: file },
        encoding: 'utf8',
        timeout: 20_000,
      },
    );
    expect(out.trim()).toBe('postgres|hush_test');
  });

  live('passes a value with spaces, "=", "#" and the longest line libpq reads verbatim', () => {
    const name = `hush ${'= #'.repeat(10)} [x]`;
    const file = writeConf([
      {
        name: 'tricky',
        settings: {
          ...local,
          application_name: name,
          password: 'x'.repeat(MAX_LINE_BYTES - 'password='.length),
        },
      },
    ]);
    const res = psql(file, 'tricky', "select current_setting('application_name')");
    expect(res.stderr).toBe('');
    expect(res.stdout.trim()).toBe(name);
  });

  live('accepts every PostgreSQL 15 keyword, and refuses newer ones only on an older libpq', () => {
    const major = Number(
      /(\d+)/.exec(execFileSync('psql', ['--version'], { encoding: 'utf8' }))?.[1],
    );
    const refused: string[] = [];
    const dir = tempDir();
    for (const keyword of LIBPQ_KEYWORDS) {
      // An invalid port stops libpq right after it has read the service file: no connection.
      const file = path.join(dir, `${keyword}.conf`);
      const body = keyword === 'port' ? 'port=notaport\n' : `port=notaport\n${keyword}=x\n`;
      fs.writeFileSync(file, `[k]\n${body}`);
      if (psql(file, 'k', 'select 1').stderr.includes('syntax error in service file')) {
        refused.push(keyword);
      }
    }
    const newer = Object.entries(LIBPQ_KEYWORD_SINCE).filter(([, since]) => since > major);
    expect(refused.sort()).toEqual(newer.map(([k]) => k).sort());
  });

  live(
    'reads one service even when another in the same file uses a keyword this libpq lacks',
    () => {
      const file = writeConf([
        {
          name: 'new',
          settings: { ...local, sslnegotiation: 'postgres', require_auth: 'password' },
        },
        { name: 'old', settings: local },
      ]);
      expect(psql(file, 'old', 'select 42').stdout.trim()).toBe('42');
    },
  );
});
