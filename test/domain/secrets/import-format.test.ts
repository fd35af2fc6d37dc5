import { parse as parseDotenv } from 'dotenv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  type ImportFormat,
  MAX_IMPORT_BYTES,
  MAX_IMPORT_ENTRIES,
  MAX_IMPORT_LINES,
  parseImport,
} from '../../../src/domain/secrets/import-format.js';
import { HushError } from '../../../src/errors.js';

const SENTINEL = 'hunter2-SENTINEL-7f3a';

/** The `details.fields` messages of the VALIDATION_FAILED that `parseImport` throws. */
function problemsOf(text: string, format: ImportFormat): string[] {
  try {
    parseImport(text, format);
  } catch (e) {
    expect(e).toBeInstanceOf(HushError);
    const error = e as HushError;
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(`${error.message} ${JSON.stringify(error.details)}`).not.toContain(SENTINEL);
    const fields = (error.details?.fields ?? []) as { field: string; message: string }[];
    expect(fields.every((f) => f.field === 'text')).toBe(true);
    return fields.map((f) => f.message);
  }
  throw new Error('expected a VALIDATION_FAILED error');
}

const pairs = (text: string, format: ImportFormat) =>
  parseImport(text, format).map(({ name, value, line }) => [line, name, value]);

describe('parseImport from dotenv', () => {
  it('reads quotes, multi-line values, export, comments and blank lines, with the line of each name', () => {
    const text = [
      '# the database', // 1
      'export DB_HOST=db.internal', // 2
      '', // 3
      'DB_PASSWORD="pa ss=word # not a comment"', // 4
      "API_KEY='sk-#123'  # a comment", // 5
      'PRIVATE_KEY="-----BEGIN KEY-----', // 6
      'NOT_A_KEY=inside the value', // 7
      '-----END KEY-----"', // 8
      '  SPACED = trimmed value  ', // 9
      'ESCAPED="a\\nb"', // 10
      'TICKS=`it\'s "both"`', // 11
      'EMPTY=', // 12
      'URL=postgres://u@h/db?x=1', // 13
    ].join('\n');
    expect(pairs(text, 'dotenv')).toEqual([
      [2, 'DB_HOST', 'db.internal'],
      [4, 'DB_PASSWORD', 'pa ss=word # not a comment'],
      [5, 'API_KEY', 'sk-#123'],
      [6, 'PRIVATE_KEY', '-----BEGIN KEY-----\nNOT_A_KEY=inside the value\n-----END KEY-----'],
      [9, 'SPACED', 'trimmed value'],
      [10, 'ESCAPED', 'a\nb'],
      [11, 'TICKS', 'it\'s "both"'],
      [12, 'EMPTY', ''],
      [13, 'URL', 'postgres://u@h/db?x=1'],
    ]);
  });

  it('counts lines the same with CRLF line ends', () => {
    expect(pairs('A=1\r\n\r\nB="x\r\ny"\r\nC=3\r\n', 'dotenv')).toEqual([
      [1, 'A', '1'],
      [3, 'B', 'x\ny'],
      [5, 'C', '3'],
    ]);
  });

  it('reports every bad name with its line, not only the first', () => {
    const text = `GOOD=1\napi_key=${SENTINEL}\nOK=2\nDB-HOST=x\nHUSH_TOKEN=y\nPATH=/bin\n`;
    expect(problemsOf(text, 'dotenv')).toEqual([
      'line 2: api_key: capitals only: start with A-Z, then A-Z, 0-9 or _',
      'line 4: DB-HOST: capitals only: start with A-Z, then A-Z, 0-9 or _',
      expect.stringMatching(/^line 5: HUSH_TOKEN: HUSH_TOKEN is reserved/),
      expect.stringMatching(/^line 6: PATH: PATH is reserved/),
    ]);
  });

  it.each([
    ['a bare word', SENTINEL],
    ['a name with a space', `MY KEY=${SENTINEL}`],
    ['a colon without a space', `KEY:${SENTINEL}`],
    ['export without a value', 'export KEY'],
  ])('reports %s, which dotenv silently skips, as "not KEY=value"', (_what, line) => {
    expect(problemsOf(`A=1\n${line}\nB=2\n`, 'dotenv')).toEqual(['line 2: not KEY=value']);
  });

  it.each([
    ['a value on the line after "A="', `A=\n'${SENTINEL}'\nB=2\n`, ['line 2: not KEY=value']],
    ['"A:" taking the next line as its value', 'A:\nB=2\n', ['line 1: not KEY=value']],
    [
      '"=" on the line after the name',
      `A\n=${SENTINEL}\n`,
      ['line 1: not KEY=value', 'line 2: not KEY=value'],
    ],
    ['"export" alone on a line', 'export\nB=2\n', ['line 1: not KEY=value']],
  ])('reports %s, which dotenv joins across the line break', (_what, text, problems) => {
    expect(problemsOf(text, 'dotenv')).toEqual(problems);
  });

  it('refuses more than 50,000 lines before parsing, and reads 50,000 blank ones quickly (dotenv alone is quadratic in them)', () => {
    const started = Date.now();
    for (const format of ['dotenv', 'yaml'] as const)
      expect(() => parseImport(`A=1${'\n'.repeat(MAX_IMPORT_BYTES - 4)}`, format)).toThrow(
        /more than 50,000 lines/,
      );
    expect(parseImport(`A=1${'\n'.repeat(MAX_IMPORT_LINES - 1)}`, 'dotenv')).toHaveLength(1);
    expect(parseImport(`A: '1'${'\n'.repeat(MAX_IMPORT_LINES - 1)}`, 'yaml')).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('refuses an unquoted # right after the value, which dotenv would cut off', () => {
    expect(problemsOf(`A=1\nPASSWORD=${SENTINEL}#rest\n`, 'dotenv')).toEqual([
      'line 2: PASSWORD: "#" starts a comment here; quote the value',
    ]);
    expect(pairs('PASSWORD=abc #comment\n', 'dotenv')).toEqual([[1, 'PASSWORD', 'abc']]);
  });

  it.each([
    ['an unclosed quote', `A="${SENTINEL}\nB=2\n`, '"'],
    ['text after the closing quote', `A='${SENTINEL}' tail\nB=2\n`, "'"],
  ])('refuses %s instead of keeping the quote in the value', (_what, text, quote) => {
    expect(problemsOf(text, 'dotenv')).toEqual([
      `line 1: A: the ${quote} quote must close at the end of the value`,
    ]);
  });

  it('reports a duplicate naming both lines', () => {
    expect(problemsOf(`A=1\nB=2\n\nA=${SENTINEL}\n`, 'dotenv')).toEqual([
      'line 4: A is also on line 1',
    ]);
  });

  it('refuses a NUL in a value without quoting the value', () => {
    expect(problemsOf(`A="${SENTINEL}\0"\n`, 'dotenv')).toEqual([
      'line 1: A: the value must not contain a NUL byte',
    ]);
  });

  it('gives exactly what dotenv.parse gives whenever it accepts a text', () => {
    const piece = fc.constantFrom(
      ...['A=', 'B=', 'C:', 'export ', '=', 'x', 'a-b', '#', ' #c', '\\n', '\\'],
      ...[' ', '\t', '\n', '\n\n', '\r', "'", '"', '`', '\u2028', '\u00a0'],
    );
    let accepted = 0;
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (pieces) => {
        const text = pieces.join('');
        let entries: { name: string; value: string }[];
        try {
          entries = parseImport(text, 'dotenv');
        } catch (e) {
          expect((e as HushError).code).toBe('VALIDATION_FAILED');
          return;
        }
        accepted++;
        expect(Object.fromEntries(entries.map((e) => [e.name, e.value]))).toEqual(
          parseDotenv(text),
        );
      }),
      { numRuns: 3000 },
    );
    expect(accepted).toBeGreaterThan(300);
  });

  it('reads an empty file as no entries', () => {
    expect(parseImport('', 'dotenv')).toEqual([]);
    expect(parseImport('# only a comment\n\n', 'dotenv')).toEqual([]);
  });
});

describe('parseImport from JSON', () => {
  it('reads an object of strings with the line of each name', () => {
    const text = '{\n  "A": "x",\n  "B": "line\\nbreak", "C": ""\n}\n';
    expect(pairs(text, 'json')).toEqual([
      [2, 'A', 'x'],
      [3, 'B', 'line\nbreak'],
      [3, 'C', ''],
    ]);
  });

  it('names the key and line of every value that is not a string', () => {
    const text = `{\n  "A": "${SENTINEL}",\n  "API_PORT": 5432,\n  "ON": true,\n  "N": null,\n  "O": {"x": "${SENTINEL}"},\n  "L": ["${SENTINEL}"]\n}`;
    expect(problemsOf(text, 'json')).toEqual([
      'line 3: API_PORT: the value must be a string (put the number in double quotes)',
      'line 4: ON: the value must be a string (put the boolean in double quotes)',
      'line 5: N: the value must be a string (write "" for an empty value)',
      'line 6: O: the value must be a string, not a nested object',
      'line 7: L: the value must be a string, not a list',
    ]);
  });

  it('reports duplicates and bad names with their lines', () => {
    const text = `{\n"A": "1",\n"b": "2",\n"A": "${SENTINEL}"\n}`;
    expect(problemsOf(text, 'json')).toEqual([
      'line 3: b: capitals only: start with A-Z, then A-Z, 0-9 or _',
      'line 4: A is also on line 2',
    ]);
  });

  it.each([
    ['a bare word', `{\n"A": "1",\n"B": ${SENTINEL}\n}`, 3, 'expected a "value" in double quotes'],
    ['a missing comma', `{\n"A": "${SENTINEL}"\n"B": "2"\n}`, 3, 'expected "," or "}"'],
    ['a trailing comma', `{\n"A": "${SENTINEL}",\n}`, 3, 'expected a "NAME" in double quotes'],
    ['an unclosed string', `{\n"A": "1",\n"B": "${SENTINEL}`, 3, 'a string is not closed'],
    ['a raw line break in a string', `{\n"A": "${SENTINEL}\nx"}`, 2, 'control character'],
    ['a missing }', `{\n"A": "${SENTINEL}"\n`, 3, 'expected "," or "}"'],
    ['text after the object', `{"A": "1"}\n${SENTINEL}`, 1, 'text after the closing "}"'],
    ['a list', `[\n"${SENTINEL}"\n]`, 1, 'expected one object'],
    ['an empty text', '', 1, 'expected one object'],
  ])('reports %s with its line and without the text', (_what, text, line, fragment) => {
    const [problem, ...rest] = problemsOf(text, 'json');
    expect(rest).toEqual([]);
    expect(problem).toMatch(new RegExp(`^line ${line}: not valid JSON: `));
    expect(problem).toContain(fragment);
  });
});

describe('parseImport from YAML', () => {
  it('keeps every scalar as the exact string written (failsafe schema)', () => {
    const text = [
      'PORT: 05432',
      'DEBUG: true',
      'NOTHING: null',
      'TILDE: ~',
      'FLOAT: 1e3',
      'QUOTED: "05432"',
      'EMPTY:',
      'KEY: |',
      '  -----BEGIN-----',
      '  abc',
      'ANCHORED: &a shared',
      'ALIASED: *a',
    ].join('\n');
    expect(pairs(text, 'yaml')).toEqual([
      [1, 'PORT', '05432'],
      [2, 'DEBUG', 'true'],
      [3, 'NOTHING', 'null'],
      [4, 'TILDE', '~'],
      [5, 'FLOAT', '1e3'],
      [6, 'QUOTED', '05432'],
      [7, 'EMPTY', ''],
      [8, 'KEY', '-----BEGIN-----\nabc\n'],
      [11, 'ANCHORED', 'shared'],
      [12, 'ALIASED', 'shared'],
    ]);
  });

  it('names the key and line of nested values, duplicates and bad names', () => {
    const text = `A: ${SENTINEL}\nMAP:\n  x: ${SENTINEL}\nLIST: [${SENTINEL}]\nlower: 1\nA: 2\n`;
    expect(problemsOf(text, 'yaml')).toEqual([
      'line 2: MAP: the value must be a string, not a nested map',
      'line 4: LIST: the value must be a string, not a list',
      'line 5: lower: capitals only: start with A-Z, then A-Z, 0-9 or _',
      'line 6: A is also on line 1',
    ]);
  });

  it.each([
    ['a line indented below a value', `A: 1\nB: 2\n  C: ${SENTINEL}\n`, 2],
    ['a bare value holding ": "', `A: 1\nB: x: ${SENTINEL}\n`, 2],
    ['a tab as indentation', `A: 1\n\tB: ${SENTINEL}\n`, 2],
    ['an unclosed quote', `A: 1\nB: "${SENTINEL}\n`, 3],
    ['a tag', `A: 1\nB: !!int ${SENTINEL}\n`, 2],
    ['two documents', `A: 1\n---\nB: ${SENTINEL}\n`, 2],
  ])('reports %s with its line and without the text', (_what, text, line) => {
    const [problem] = problemsOf(text, 'yaml');
    expect(problem).toMatch(new RegExp(`^line ${line}: not valid YAML: `));
  });

  it('refuses a document that is not a map', () => {
    expect(problemsOf(`- ${SENTINEL}\n`, 'yaml')).toEqual([
      'line 1: the YAML must be a map of NAME: value',
    ]);
    expect(parseImport('# nothing\n', 'yaml')).toEqual([]);
  });
});

describe('parseImport limits', () => {
  it('refuses a text over 5 MiB', () => {
    expect(() => parseImport('A=1\n'.padEnd(MAX_IMPORT_BYTES + 1, '#'), 'dotenv')).toThrow(
      /text: must be at most 5 MiB/,
    );
  });

  it.each([
    ['dotenv', (i: number) => `K${i}=v`, '\n', ['', '']],
    ['json', (i: number) => `"K${i}": "v"`, ',', ['{', '}']],
    ['yaml', (i: number) => `K${i}: v`, '\n', ['', '']],
  ] as const)(
    'refuses more than 10,000 entries of %s',
    (format, entry, separator, [open, close]) => {
      const text = (n: number) =>
        open + Array.from({ length: n }, (_, i) => entry(i)).join(separator) + close;
      expect(() => parseImport(text(MAX_IMPORT_ENTRIES + 1), format)).toThrow(
        /more than 10,000 entries/,
      );
      expect(parseImport(text(MAX_IMPORT_ENTRIES), format)).toHaveLength(MAX_IMPORT_ENTRIES);
    },
  );

  it('lists at most 50 problems and counts them all in the summary', () => {
    const text = Array.from({ length: 120 }, (_, i) => `bad${i}=${SENTINEL}`).join('\n');
    try {
      parseImport(text, 'dotenv');
      expect.unreachable();
    } catch (e) {
      const error = e as HushError;
      expect(error.message).toMatch(/^text: 120 problems in the dotenv file \(the first 50/);
      expect(error.details?.fields).toHaveLength(50);
      expect(error.message).not.toContain(SENTINEL);
    }
  });
});
