import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { parse as parseDotenv } from 'dotenv';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

import { CliError } from '../../src/cli/api-client.js';
import { type ExportFormat, formatExport, renderTemplate } from '../../src/cli/export-format.js';
import { type ImportFormat, parseImport } from '../../src/domain/secrets/import-format.js';
import { envNameProblem } from '../../src/domain/secrets/kinds.js';

const SENTINEL = 'hunter2-SENTINEL-7f3a';
const dir = mkdtempSync(join(tmpdir(), 'hush-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const one = (value: string, format: ExportFormat = 'dotenv') =>
  formatExport([{ name: 'A', value }], format);

function cliErrorOf(fn: () => unknown): CliError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CliError);
    return e as CliError;
  }
  throw new Error('expected a CliError');
}

const nameArb = fc
  .stringMatching(/^[A-Z][A-Z0-9_]{0,11}$/)
  .filter((n) => envNameProblem(n) === undefined);
// Dense in what dotenv treats specially, so every quoting rule is hit in a few hundred runs.
const nastyArb = fc.string({
  unit: fc.constantFrom(...'\'"`\\#\n\r \t=anr$:-', '\u2028', 'é', '😀'),
  maxLength: 12,
});
const valueArb = fc
  .oneof(fc.string({ unit: 'binary', maxLength: 40 }), nastyArb)
  .filter((v) => !v.includes('\0'));
const secretsArb = fc.uniqueArray(fc.record({ name: nameArb, value: valueArb }), {
  selector: (e) => e.name,
  maxLength: 8,
});
const byName = (values: { name: string; value: string }[]) =>
  [...values].sort((a, b) => (a.name < b.name ? -1 : 1)).map(({ name, value }) => [name, value]);

/**
 * Whether any simple spelling of `value` comes back from the real dotenv, followed by lines that
 * catch a closing quote dotenv took for an escaped one. A bare value starting with a quote is no
 * spelling: dotenv may read it back (`'\u2028'x` is bare to it), but parseImport refuses a quote
 * that does not close at the end of the value, as the typo it almost always is.
 */
function dotenvCanHold(value: string): boolean {
  const escaped = `"${value.replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`;
  const bare = /^['"`]/.test(value) ? [] : [value];
  return [...bare, `'${value}'`, `"${value}"`, escaped, `\`${value}\``].some((form) => {
    const parsed = parseDotenv(`A=${form}\nB=' #'\nC=" #"\nD=\` #\`\nE=x\n`);
    const { A, B, C, D, E } = parsed;
    return A === value && B === ' #' && C === ' #' && D === ' #' && E === 'x';
  });
}

describe('formatExport', () => {
  const values = [
    { name: 'ZETA', value: 'z' },
    { name: 'ALPHA', value: 'it\'s "quoted"' },
  ];

  it.each([
    ['dotenv', 'ALPHA=`it\'s "quoted"`\nZETA=z\n'],
    ['json', '{\n  "ALPHA": "it\'s \\"quoted\\"",\n  "ZETA": "z"\n}\n'],
    ['yaml', 'ALPHA: it\'s "quoted"\nZETA: z\n'],
    ['shell', "export ALPHA='it'\\''s \"quoted\"'\nexport ZETA='z'\n"],
  ] as const)('writes %s sorted by name, ending with a newline', (format, expected) => {
    expect(formatExport(values, format)).toBe(expected);
  });

  it.each([
    ['a plain value bare', 'abc-123_./:@', 'abc-123_./:@'],
    ['an empty value in single quotes', '', "''"],
    ['spaces and # in single quotes', ' pa ss #1 ', "' pa ss #1 '"],
    ['a multi-line value in single quotes', 'line 1\nline 2', "'line 1\nline 2'"],
    ['a value with a quote in double quotes', "it's", '"it\'s"'],
    ['a multi-line value with a quote with \\n escapes', "it's\nok", '"it\'s\\nok"'],
    ['a CR with \\r in double quotes', 'a\r\nb', '"a\\r\\nb"'],
    ['a literal \\n and a quote in backticks', "it's \\n", "`it's \\n`"],
    ['all three quotes bare when nothing else needs quoting', 'a\'b"c`d', 'a\'b"c`d'],
    ['a trailing backslash bare', 'C:\\dir\\', 'C:\\dir\\'],
    [
      'quotes around one line holding all three, for dotenv to strip',
      ' it\'s "a" `b` ',
      "' it's \"a\" `b` '",
    ],
    ['double quotes around one line with \\n escapes', 'it\'s "a"\n`b`', '"it\'s "a"\\n`b`"'],
  ])('writes %s', (_what, value, written) => {
    expect(one(value)).toBe(`A=${written}\n`);
  });

  it.each([
    ['all three quotes, a line break and a \\n', `it's "${SENTINEL}"\n\`b\` \\n`],
    ['all three quotes and a #', `'"\`#${SENTINEL}`],
    ['a trailing backslash and a leading space', ` C:\\${SENTINEL}\\`],
    ['a CR, a double quote and a #', `"${SENTINEL}\r#`],
  ])('refuses %s for dotenv, naming the secret but not the value', (_what, value) => {
    const error = cliErrorOf(() => formatExport([{ name: 'DB_PASSWORD', value }], 'dotenv'));
    expect(error.message).toMatch(/^DB_PASSWORD cannot be written in a \.env file/);
    expect(error.message).toContain('--format json');
    expect(error.message).not.toContain(SENTINEL);
    expect(dotenvCanHold(value)).toBe(false);
  });

  it.each(['dotenv', 'json', 'yaml'] as const)(
    'writes %s that parseImport reads back exactly, and rewrites it byte for byte',
    (format: ImportFormat) => {
      fc.assert(
        fc.property(secretsArb, (secrets) => {
          let text: string;
          try {
            text = formatExport(secrets, format);
          } catch (e) {
            // Only dotenv refuses, and only what no dotenv quoting can hold.
            expect(format).toBe('dotenv');
            expect(e).toBeInstanceOf(CliError);
            const name = (e as CliError).message.split(' ')[0];
            const value = secrets.find((s) => s.name === name)?.value ?? '';
            expect(dotenvCanHold(value)).toBe(false);
            return;
          }
          const back = parseImport(text, format);
          expect(byName(back)).toEqual(byName(secrets));
          expect(formatExport(back, format)).toBe(text);
          if (format === 'yaml')
            expect(parseYaml(text)).toEqual(Object.fromEntries(byName(secrets)));
        }),
        { numRuns: 500 },
      );
    },
  );

  it.each([
    ['printable ASCII', fc.string({ unit: 'grapheme-ascii', maxLength: 40 }), 0.01],
    ['any Unicode', fc.string({ unit: 'binary', maxLength: 40 }), 0.001],
    [
      'multi-line text',
      fc
        .array(fc.string({ unit: 'grapheme-ascii', maxLength: 30 }), { maxLength: 5 })
        .map((l) => l.join('\n')),
      0.02,
    ],
  ])('rarely refuses %s for dotenv', (_what, arb, rate) => {
    const sample = fc.sample(arb, 5000).filter((v) => !v.includes('\0'));
    const refused = sample.filter((value) => {
      try {
        one(value);
        return false;
      } catch {
        return true;
      }
    });
    expect(refused.length / sample.length).toBeLessThan(rate);
    expect(refused.every((v) => !dotenvCanHold(v))).toBe(true);
  });

  it('refuses names a shell or dotenv cannot hold', () => {
    expect(cliErrorOf(() => formatExport([{ name: 'A;rm', value: 'x' }], 'shell')).message).toMatch(
      /not a shell variable name/,
    );
    expect(() => formatExport([{ name: 'A B', value: 'x' }], 'dotenv')).toThrow(CliError);
    expect(() => formatExport([{ name: 'A', value: 'x\0' }], 'shell')).toThrow(/NUL/);
  });
});

const NASTY = [
  "it's",
  "''",
  "'",
  '"double" and \\"escaped\\"',
  `$(touch ${join(dir, 'pwned-subshell')})`,
  `\`touch ${join(dir, 'pwned-backtick')}\``,
  '${HOME} $HOME $1 $$ $?',
  'line 1\nline 2\n\n',
  '\n leading newline',
  'bang! !! !$ history',
  "a\\'b\\",
  '; touch pwned; #',
  '\r\t\u2028 é 😀',
  '',
];

const installed = (cmd: string) => ['/bin', '/usr/bin'].some((d) => existsSync(join(d, cmd)));
// zsh may be missing on a CI runner; bash and sh are not.
const SHELLS = [
  ['bash', ['bash', '-c']],
  ['sh', ['sh', '-c']],
  ['zsh', ['zsh', '-c']],
  ['zsh with RC_QUOTES', ['zsh', '-o', 'rcquotes', '-c']],
] as const;

describe('formatExport to shell', () => {
  it.each(SHELLS.filter(([, [cmd]]) => installed(cmd)))(
    'gives back every value exactly through eval in %s',
    (_shell, [cmd, ...flags]) => {
      const secrets = NASTY.map((value, i) => ({ name: `V${String(i).padStart(2, '0')}`, value }));
      const file = join(dir, `${cmd}-${flags.length}.sh`);
      writeFileSync(file, formatExport(secrets, 'shell'));
      const prints = secrets.map((s) => `printf '%s\\0' "$${s.name}"`).join('; ');
      const out = execFileSync(cmd, [...flags, `eval "$(cat "$1")"; ${prints}`, 'sh', file], {
        cwd: dir,
        encoding: 'utf8',
      });
      expect(out.split('\0').slice(0, -1)).toEqual(NASTY);
      expect(readdirSync(dir).filter((f) => f.startsWith('pwned'))).toEqual([]);
    },
  );
});

describe('renderTemplate', () => {
  const values = new Map([
    ['DB_URL', 'postgres://u:p@h/db'],
    ['QUOTE', 'it\'s "x"\n'],
  ]);

  it('replaces names and applies each filter', () => {
    const template =
      'url={{DB_URL}} {{ DB_URL }}\nsh={{ QUOTE | shell }}\njs={{QUOTE|json}}\nenv={{ QUOTE | dotenv }}\n';
    expect(renderTemplate(template, values)).toBe(
      'url=postgres://u:p@h/db postgres://u:p@h/db\n' +
        "sh='it'\\''s \"x\"\n'\n" +
        'js="it\'s \\"x\\"\\n"\n' +
        'env=`it\'s "x"\n`\n',
    );
  });

  it('writes {{{{ as a literal {{ and copies everything else', () => {
    expect(renderTemplate('{{{{ DB_URL }} }} { } $(x) {{{{{{ DB_URL }}', values)).toBe(
      '{{ DB_URL }} }} { } $(x) {{postgres://u:p@h/db',
    );
    expect(renderTemplate('no placeholders\n', values)).toBe('no placeholders\n');
  });

  it.each([
    ['an unknown name', 'a\nb {{ NOPE }}', /^template line 2: no secret named NOPE$/],
    [
      'an unknown filter',
      'a\n\nb {{ DB_URL | base64 }}',
      /^template line 3: unknown filter base64/,
    ],
    ['an unclosed {{', 'a\n{{ DB_URL\n', /^template line 2: "\{\{" is not closed/],
    ['a malformed placeholder', '{{ DB_URL DB_URL }}', /^template line 1: expected \{\{ NAME \}\}/],
    [
      'a value dotenv cannot hold',
      'x\n{{ BAD | dotenv }}',
      /^template line 2: BAD cannot be written/,
    ],
  ])('refuses %s, naming the line but no value', (_what, template, message) => {
    const all = new Map([...values, ['BAD', `'"\`#\n${SENTINEL}`]]);
    const error = cliErrorOf(() => renderTemplate(template, all));
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain(SENTINEL);
    expect(error.message).not.toContain('postgres://');
  });
});
