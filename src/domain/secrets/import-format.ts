import { parse as parseDotenv } from 'dotenv';
import { isAlias, isMap, isScalar, isSeq, parseDocument } from 'yaml';

import { HushError, hushError, invalid } from '../../errors.js';
import { envNameProblem, validateEnvValue } from './kinds.js';

/** The file formats `hush import` reads. */
export type ImportFormat = 'dotenv' | 'json' | 'yaml';

/** One secret read from an import file; `line` is the 1-based line of its name. */
export interface ImportEntry {
  name: string;
  value: string;
  line: number;
}

/** The most entries one import may hold. */
export const MAX_IMPORT_ENTRIES = 10_000;

/** The largest import text, in UTF-8 bytes (5 MiB). */
export const MAX_IMPORT_BYTES = 5 * 1024 * 1024;

/** The most lines an import text has (10,000 entries with room for comments and multi-line values). */
export const MAX_IMPORT_LINES = 50_000;

function lineCount(text: string): number {
  let lines = 1;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines++;
  return lines;
}

/** How many problems an error lists in `details.fields`; the summary still counts them all. */
const MAX_LISTED = 50;

interface Problem {
  line: number;
  message: string;
}

/** Records a problem found on a line. */
type Report = (line: number, message: string) => void;

/** An entry as found; `value` is undefined when it is no string (a problem says so already). */
interface Found {
  name: string;
  value: string | undefined;
  line: number;
}

/**
 * Parses the text of a dotenv, JSON or YAML file into env entries, in file order, checking every
 * name and value. Throws one VALIDATION_FAILED whose `details.fields` has one `text` entry per
 * problem ("line 3: API-KEY: capitals only…"), naming lines and names, never values.
 *
 * @example parseImport('export API_KEY="s3cret" # prod\n', 'dotenv') // [{ name: 'API_KEY', value: 's3cret', line: 1 }]
 */
export function parseImport(text: string, format: ImportFormat): ImportEntry[] {
  if (text.length > MAX_IMPORT_BYTES || Buffer.byteLength(text, 'utf8') > MAX_IMPORT_BYTES) {
    throw invalid('text', 'must be at most 5 MiB (5,242,880 bytes of UTF-8)');
  }
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  // The YAML parser costs ~3 µs a line whatever the line holds: a line bound keeps one request
  // of blank lines from holding the server for seconds.
  if (lineCount(source) > MAX_IMPORT_LINES)
    throw invalid('text', `has more than ${MAX_IMPORT_LINES.toLocaleString('en')} lines`);
  const problems: Problem[] = [];
  const report: Report = (line, message) => void problems.push({ line, message });
  const found = scan(source, format, report);
  if (found.length > MAX_IMPORT_ENTRIES) {
    throw invalid('text', 'has more than 10,000 entries; import at most 10,000 at once');
  }
  checkEntries(found, report);
  if (problems.length > 0) throw problemsError(format, problems);
  return found.flatMap(({ name, value, line }) =>
    value === undefined ? [] : [{ name, value, line }],
  );
}

function scan(text: string, format: ImportFormat, report: Report): Found[] {
  switch (format) {
    case 'dotenv':
      return scanDotenv(text, report);
    case 'json':
      return scanJson(text, report);
    case 'yaml':
      return scanYaml(text, report);
    default:
      throw invalid('format', 'must be dotenv, json or yaml');
  }
}

function checkEntries(found: Found[], report: Report): void {
  const firstLine = new Map<string, number>();
  for (const { name, value, line } of found) {
    const nameProblem = envNameProblem(name);
    if (nameProblem !== undefined) report(line, `${shown(name)}: ${nameProblem}`);
    const first = firstLine.get(name);
    if (first === undefined) firstLine.set(name, line);
    else report(line, `${shown(name)} is also on line ${first}`);
    if (value === undefined) continue;
    try {
      validateEnvValue(value);
    } catch (error) {
      // validateEnvValue's messages name the rule, never the value.
      const field = (error as HushError).details?.fields as { message: string }[] | undefined;
      report(line, `${shown(name)}: the value ${field?.[0]?.message ?? 'is invalid'}`);
    }
  }
}

/** A name as messages show it: as is when plain, else JSON-quoted and cut (it came from a file). */
function shown(name: string): string {
  if (/^[\w.-]{1,64}$/.test(name)) return name;
  return name.length > 64 ? `${JSON.stringify(name.slice(0, 64))}…` : JSON.stringify(name);
}

function problemsError(format: ImportFormat, problems: Problem[]): HushError {
  const sorted = problems.sort((a, b) => a.line - b.line);
  const fields = sorted
    .slice(0, MAX_LISTED)
    .map((p) => ({ field: 'text', message: `line ${p.line}: ${p.message}` }));
  const count = sorted.length === 1 ? '1 problem' : `${sorted.length} problems`;
  const listed = sorted.length > MAX_LISTED ? ` (the first ${MAX_LISTED} in details)` : '';
  const first = `${fields[0]?.message ?? ''}${sorted.length > 1 ? '; …' : ''}`;
  const summary = `text: ${count} in the ${format} file${listed}: ${first}`;
  return new HushError('VALIDATION_FAILED', summary, { fields });
}

/** Maps an offset to its 1-based line; CRLF, CR and LF each end a line. */
function lineIndex(text: string): (offset: number) => number {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) starts.push(i + 1);
  }
  return (offset) => {
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((starts[mid] ?? 0) <= offset) low = mid;
      else high = mid - 1;
    }
    return low + 1;
  };
}

// dotenv's line grammar (LINE in its lib/main.js) with match indices, so that each key gets its
// line and each line between matches (which dotenv skips without a word) gets reported. Where
// dotenv lets whitespace run across lines (`A=` then `'x'` on the next line is A=x, `A:` then
// `B=1` is A="B=1"), this only lets it run along one, which also keeps matching linear (dotenv's
// own parse is quadratic in blank lines): those lines come out as errors, never as other values.
const DOTENV_LINE =
  /^[^\S\n]*(?:export[^\S\n]+)?([\w.-]+)([^\S\n]*=[^\S\n]*?|:[^\S\n]+?)([^\S\n]*'(?:\\'|[^'])*'|[^\S\n]*"(?:\\"|[^"])*"|[^\S\n]*`(?:\\`|[^`])*`|[^#\r\n]+)?[^\S\n]*(?:#.*)?$/dgm;

function scanDotenv(text: string, report: Report): Found[] {
  const source = text.replace(/\r\n?/g, '\n'); // as dotenv does first, so offsets agree
  const lineOf = lineIndex(source);
  const found: Found[] = [];
  let end = 0;
  for (const m of source.matchAll(DOTENV_LINE)) {
    if (found.length > MAX_IMPORT_ENTRIES) return found;
    reportSkipped(source.slice(end, m.index), lineOf(end), report);
    end = m.index + m[0].length;
    const [entry, name = '', , raw] = m;
    const line = lineOf(m.indices?.[1]?.[0] ?? m.index);
    const valueEnd = m.indices?.[3]?.[1] ?? m.indices?.[2]?.[1] ?? end;
    const written = raw?.trim() ?? '';
    const quote = written[0];
    if (quote === "'" || quote === '"' || quote === '`') {
      // Bare, dotenv strips quotes only around the whole value: `"abc` or `"a" b` keeps them.
      if (written.length < 2 || !written.endsWith(quote)) {
        report(line, `${shown(name)}: the ${quote} quote must close at the end of the value`);
      }
    } else if (source[valueEnd] === '#' && !/\s/.test(source[valueEnd - 1] ?? ' ')) {
      // dotenv cuts `pa#ss` to `pa`: a secret would lose its end without a word.
      report(line, `${shown(name)}: "#" starts a comment here; quote the value`);
    }
    // One entry at a time: dotenv reads it as it would in the whole text, in linear time.
    const parsed = parseDotenv(entry);
    const value = Object.hasOwn(parsed, name) ? parsed[name] : undefined;
    if (value === undefined && envNameProblem(name) === undefined) {
      throw hushError('INTERNAL', `dotenv did not read the entry on line ${line}`);
    }
    found.push({ name, value, line });
  }
  reportSkipped(source.slice(end), lineOf(end), report);
  return found;
}

/** Reports each line of `gap` (text dotenv matched nothing in) that is neither blank nor a comment. */
function reportSkipped(gap: string, firstLine: number, report: Report): void {
  gap.split('\n').forEach((line, i) => {
    // dotenv's m flag starts lines after U+2028 and U+2029 too: `# x\u2028A:` is no comment.
    const parts = line.split(/[\u2028\u2029]/).map((part) => part.trim());
    if (parts.some((p) => p !== '' && !p.startsWith('#'))) report(firstLine + i, 'not KEY=value');
  });
}

class JsonSyntax extends Error {
  constructor(
    readonly at: number,
    message: string,
  ) {
    super(message);
  }
}

const JSON_WHITESPACE = /[ \t\n\r]*/y;
const JSON_NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const JSON_LITERAL = /true|false|null/y;

// JSON.parse gives no line for a key, and its messages quote the text (a secret): this reads the
// one object itself, leaving each string (and nested value) to JSON.parse.
function scanJson(text: string, report: Report): Found[] {
  const lineOf = lineIndex(text);
  const found: Found[] = [];
  try {
    let i = skipJsonSpace(text, 0);
    if (text[i] !== '{') throw new JsonSyntax(i, 'expected one object {"NAME": "value", …}');
    i = skipJsonSpace(text, i + 1);
    while (text[i] !== '}' && found.length <= MAX_IMPORT_ENTRIES) {
      if (found.length > 0) {
        if (text[i] !== ',') throw new JsonSyntax(i, 'expected "," or "}" after a value');
        i = skipJsonSpace(text, i + 1);
      }
      if (text[i] !== '"') throw new JsonSyntax(i, 'expected a "NAME" in double quotes');
      const line = lineOf(i);
      const keyEnd = jsonValueEnd(text, i);
      const name = jsonParse(text, i, keyEnd) as string;
      i = skipJsonSpace(text, keyEnd);
      if (text[i] !== ':') throw new JsonSyntax(i, 'expected ":" after the name');
      const at = skipJsonSpace(text, i + 1);
      i = jsonValueEnd(text, at);
      const value = jsonParse(text, at, i);
      if (typeof value !== 'string') report(line, `${shown(name)}: ${notString(value)}`);
      found.push({ name, value: typeof value === 'string' ? value : undefined, line });
      i = skipJsonSpace(text, i);
    }
    if (found.length <= MAX_IMPORT_ENTRIES && skipJsonSpace(text, i + 1) < text.length)
      throw new JsonSyntax(i + 1, 'text after the closing "}"');
  } catch (error) {
    if (!(error instanceof JsonSyntax)) throw error;
    report(lineOf(error.at), `not valid JSON: ${error.message}`);
    return [];
  }
  return found;
}

function skipJsonSpace(text: string, i: number): number {
  JSON_WHITESPACE.lastIndex = i;
  JSON_WHITESPACE.test(text);
  return JSON_WHITESPACE.lastIndex;
}

/** Where the JSON value starting at `i` ends (strings and nested values by scanning, not parsing). */
function jsonValueEnd(text: string, i: number): number {
  const c = text[i];
  if (c === '"') {
    let j = i + 1;
    while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
    if (j >= text.length) throw new JsonSyntax(i, 'a string is not closed');
    return j + 1;
  }
  if (c === '{' || c === '[') {
    let depth = 0;
    let j = i;
    do {
      const d = text[j];
      if (d === undefined)
        throw new JsonSyntax(i, `a ${c === '{' ? 'nested object' : 'list'} is not closed`);
      if (d === '"') {
        j = jsonValueEnd(text, j);
        continue;
      }
      if (d === '{' || d === '[') depth++;
      else if (d === '}' || d === ']') depth--;
      j++;
    } while (depth > 0);
    return j;
  }
  for (const token of [JSON_NUMBER, JSON_LITERAL]) {
    token.lastIndex = i;
    if (token.test(text)) return token.lastIndex;
  }
  throw new JsonSyntax(i, 'expected a "value" in double quotes');
}

function jsonParse(text: string, start: number, end: number): unknown {
  try {
    return JSON.parse(text.slice(start, end));
  } catch {
    throw new JsonSyntax(start, 'a bad escape, control character or bracket in this value');
  }
}

function notString(value: unknown): string {
  if (value === null) return 'the value must be a string (write "" for an empty value)';
  if (Array.isArray(value)) return 'the value must be a string, not a list';
  if (typeof value === 'object') return 'the value must be a string, not a nested object';
  return `the value must be a string (put the ${typeof value} in double quotes)`;
}

const YAML_PROBLEMS: Record<string, string> = {
  MULTIPLE_DOCS: 'only one YAML document may be given (remove "---")',
  TAG_RESOLVE_FAILED: 'YAML tags (!!int, !foo, …) are not supported; write the plain value',
  BAD_INDENT: 'bad indentation',
  TAB_AS_INDENT: 'a tab cannot indent YAML',
  MISSING_CHAR: 'a quote, bracket, comma or space after ":" is missing',
  MULTILINE_IMPLICIT_KEY: 'a NAME must be on one line (check indentation and quotes)',
  BLOCK_AS_IMPLICIT_KEY: 'a bare value cannot hold ": " or go on indented below; quote it',
  BAD_DQ_ESCAPE: 'a bad \\ escape in a double-quoted value',
};

function scanYaml(text: string, report: Report): Found[] {
  const lineOf = lineIndex(text);
  const doc = parseDocument(text, { schema: 'failsafe', uniqueKeys: false, prettyErrors: false });
  // Messages of the yaml package may quote the text; only codes are reported.
  for (const { code, pos } of [...doc.errors, ...doc.warnings]) {
    report(lineOf(pos[0]), `not valid YAML: ${YAML_PROBLEMS[code] ?? code}`);
  }
  const root = doc.contents;
  if (doc.errors.length > 0 || root === null) return [];
  if (!isMap(root)) {
    report(lineOf(root.range[0]), 'the YAML must be a map of NAME: value');
    return [];
  }
  const found: Found[] = [];
  for (const { key, value } of root.items.slice(0, MAX_IMPORT_ENTRIES + 1)) {
    if (!isScalar(key) || typeof key.value !== 'string') {
      report(lineOf(key?.range[0] ?? 0), 'a key must be a plain NAME');
      continue;
    }
    const line = lineOf(key.range[0]);
    const node = isAlias(value) ? value.resolve(doc) : value;
    if (node === null || node === undefined || isScalar(node)) {
      found.push({ name: key.value, value: node ? String(node.value) : '', line });
    } else {
      const kind = isSeq(node) ? 'a list' : 'a nested map';
      report(line, `${shown(key.value)}: the value must be a string, not ${kind}`);
      found.push({ name: key.value, value: undefined, line });
    }
  }
  return found;
}
