import { Scalar, stringify } from 'yaml';

import { CliError } from './api-client.js';

/** The file formats `hush export` writes. */
export type ExportFormat = 'dotenv' | 'json' | 'yaml' | 'shell';

const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DOTENV_NAME = /^[\w.-]+$/;
// Values dotenv reads back unquoted and any .env reader (shells, docker --env-file) agrees on.
const PLAIN = /^[\w./:@+,=%~-]+$/;

/**
 * Writes secrets as a file in `format`, sorted by name, ending with a newline. Each format reads
 * back to exactly the same strings: dotenv through `dotenv.parse`, shell through `eval` in
 * bash/zsh/sh, yaml through any schema. A value dotenv cannot hold (or a NUL for a shell) is a
 * CliError naming the secret, never its value.
 */
export function formatExport(
  values: readonly { name: string; value: string }[],
  format: ExportFormat,
): string {
  const sorted = [...values].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  switch (format) {
    case 'json':
      return `${JSON.stringify(Object.fromEntries(sorted.map((v) => [v.name, v.value])), null, 2)}\n`;
    case 'yaml':
      // lineWidth 0: a long secret stays on one line instead of being folded.
      return stringify(new Map(sorted.map((v) => [v.name, yamlValue(v.value)])), { lineWidth: 0 });
    case 'dotenv':
      return sorted
        .map(({ name, value }) => `${dotenvName(name)}=${dotenvQuoted(name, value)}\n`)
        .join('');
    case 'shell':
      return sorted
        .map(({ name, value }) => `export ${shellName(name)}=${shellQuoted(name, value)}\n`)
        .join('');
    default:
      throw new CliError(`unknown format ${String(format)}: use dotenv, json, yaml or shell`);
  }
}

// yaml 2.9 writes lines of nothing but blanks as a `|+` block and reads back "\n" for " \n".
function yamlValue(value: string): string | Scalar {
  if (!/^[ \t\n]*\n[ \t\n]*$/.test(value)) return value;
  const scalar = new Scalar(value);
  scalar.type = 'QUOTE_DOUBLE';
  return scalar;
}

function dotenvName(name: string): string {
  if (!DOTENV_NAME.test(name)) throw new CliError(`${name} cannot be a name in a .env file`);
  return name;
}

function shellName(name: string): string {
  if (!SHELL_NAME.test(name)) throw new CliError(`${name} is not a shell variable name`);
  return name;
}

/**
 * The value as dotenv writes it so that `dotenv.parse` gives it back exactly, whatever lines come
 * after it: bare when plain, else in the first quotes that hold it; undefined when none can.
 */
function dotenvValue(value: string): string | undefined {
  if (value === '') return "''";
  if (PLAIN.test(value)) return value;
  // dotenv turns every CR into a LF before parsing: only double quotes (as \r) keep one. There it
  // reads \n and \r as escapes, and nothing else.
  const cr = value.includes('\r');
  const escaped = /\\[nr]/.test(value)
    ? undefined
    : value.replace(/\n/g, '\\n').replace(/\r/g, '\\r');
  return (
    (cr ? undefined : quotedIn("'", value)) ??
    (escaped === undefined ? undefined : quotedIn('"', escaped)) ??
    (cr ? undefined : quotedIn('`', value)) ??
    bare(value) ??
    (cr ? undefined : wrapped("'", value)) ??
    (cr ? undefined : wrapped('`', value)) ??
    (escaped === undefined ? undefined : wrapped('"', escaped))
  );
}

type Quote = "'" | '"' | '`';
const UNESCAPED = { "'": /(?:^|[^\\])'/, '"': /(?:^|[^\\])"/, '`': /(?:^|[^\\])`/ };
// What dotenv does to a bare value last: strip quotes around it, or around any line of it (its
// regex has the m flag, and U+2028 and U+2029 end lines there).
const STRIP = /^(['"`])([\s\S]*)\1$/gm;
// dotenv's quoted readings, each followed by the end of a line (U+2028 and U+2029 included).
const CLOSES = {
  "'": /'(?:\\'|[^'])*'\s*(?:#.*)?$/my,
  '"': /"(?:\\"|[^"])*"\s*(?:#.*)?$/my,
  '`': /`(?:\\`|[^`])*`\s*(?:#.*)?$/my,
};

/**
 * `body` in quotes, read as quoted: a quote inside must follow a backslash (dotenv keeps both),
 * and the body must not end in one, or dotenv would take the closing quote for a quote inside
 * and look lines further for another.
 */
function quotedIn(quote: Quote, body: string): string | undefined {
  if (body.endsWith('\\') || UNESCAPED[quote].test(body)) return undefined;
  return `${quote}${body}${quote}`;
}

/** The value bare: dotenv ends it at # or a line end, trims it and strips quotes (see STRIP). */
function bare(value: string): string | undefined {
  if (/[#\r\n]/.test(value) || value.trim() !== value || /^['"`]/.test(value)) return undefined;
  return value.replace(STRIP, '$2') === value ? value : undefined;
}

/**
 * `body` in quotes on one line, read bare: it holds the quote unescaped, so dotenv's quoted reading
 * stops at that inner quote and fails; its bare reading takes the line and strips the quotes.
 */
function wrapped(quote: Quote, body: string): string | undefined {
  if (/[#\r\n]/.test(body) || !UNESCAPED[quote].test(body)) return undefined;
  const line = `${quote}${body}${quote}`;
  CLOSES[quote].lastIndex = 0;
  return CLOSES[quote].test(line) ? undefined : line;
}

function dotenvQuoted(name: string, value: string): string {
  const quoted = dotenvValue(value);
  if (quoted === undefined) throw unrepresentable(name);
  return quoted;
}

function unrepresentable(name: string, where = ''): CliError {
  return new CliError(
    `${where}${name} cannot be written in a .env file that dotenv reads back exactly (no dotenv quoting holds its mix of quotes, backslashes, line breaks and #); use --format json or --format yaml`,
  );
}

/**
 * The value in single quotes for a POSIX shell, each `'` written as `\'` between quoted runs (never
 * an empty `''`, which zsh's RC_QUOTES would read as a quote).
 */
function shellQuoted(name: string, value: string): string {
  if (value.includes('\0'))
    throw new CliError(`${name} holds a NUL byte, which no shell variable can hold`);
  if (value === '') return "''";
  return value
    .split("'")
    .map((run) => (run === '' ? '' : `'${run}'`))
    .join("\\'");
}

const PLACEHOLDER = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\|\s*([\w-]+)\s*)?$/;

/**
 * Fills a template: `{{ NAME }}` becomes the value, `{{ NAME | shell }}`, `| json` and `| dotenv`
 * quote it for that language, `{{{{` is a literal `{{`; everything else is copied. An unknown
 * name or filter, or an unclosed `{{`, is a CliError naming the line.
 *
 * @example renderTemplate('DATABASE_URL={{ DB_URL | shell }}\n', values)
 */
export function renderTemplate(template: string, values: ReadonlyMap<string, string>): string {
  let out = '';
  let at = 0;
  for (;;) {
    const open = template.indexOf('{{', at);
    if (open === -1) return out + template.slice(at);
    out += template.slice(at, open);
    if (template.startsWith('{{{{', open)) {
      out += '{{';
      at = open + 4;
      continue;
    }
    const where = `template line ${lineAt(template, open)}: `;
    const close = template.indexOf('}}', open + 2);
    if (close === -1)
      throw new CliError(`${where}"{{" is not closed by "}}" (write {{{{ for a literal {{)`);
    const match = PLACEHOLDER.exec(template.slice(open + 2, close));
    if (match === null) {
      throw new CliError(
        `${where}expected {{ NAME }} or {{ NAME | filter }} (write {{{{ for a literal {{)`,
      );
    }
    const [, name = '', filter] = match;
    const value = values.get(name);
    if (value === undefined) throw new CliError(`${where}no secret named ${name}`);
    out += filtered(name, value, filter, where);
    at = close + 2;
  }
}

function filtered(name: string, value: string, filter: string | undefined, where: string): string {
  switch (filter) {
    case undefined:
      return value;
    case 'shell':
      return shellQuoted(`${where}${name}`, value);
    case 'json':
      return JSON.stringify(value);
    case 'dotenv': {
      const quoted = dotenvValue(value);
      if (quoted === undefined) throw unrepresentable(name, where);
      return quoted;
    }
    default:
      throw new CliError(`${where}unknown filter ${filter}: use shell, json or dotenv`);
  }
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}
