/** What a redacted secret looks like in a job log. */
export const REDACTION_MARK = '[REDACTED]';

// Shorter values are not redacted: a log with every "a" blacked out hides nothing and says
// nothing. It is also the length of the key patterns are indexed by.
const MIN_LENGTH = 4;

// Not one combined RegExp: past a few thousand alternatives V8's irregexp falls off a cliff
// (6,000 patterns: ~12 s for 10 MB) and a 1 MiB file secret is "too large" for it. Instead a
// Rabin-Karp-like filter on each position's first 4 characters, then a small trie: linear in the
// text for ordinary logs whatever the number of patterns. (Text that nearly matches a long value
// at many overlapping positions, like long runs of one character, costs more, as with a RegExp.)
const HASH_MULTIPLIER = 0x9e3779b1;

// When telling which tail may still become a match costs more than this many compared
// characters (plus 4 per character of the tail), the whole tail is held: always safe, only later.
const TAIL_WORK_BUDGET = 1 << 20;

// A held tail longer than this is re-examined only once half as much text again has arrived.
const LONG_TAIL = 4096;

// `xxd -p` writes 30 bytes a line.
const XXD_LINE = 60;

/** Whether `text` has something besides line breaks. */
function hasText(text: string): boolean {
  return /[^\r\n]/.test(text);
}

/**
 * Every form of a value a log may show: as is, base64 (standard, URL-safe), hex (lower and upper
 * case), URL-encoded.
 */
function encodings(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const b64 = bytes.toString('base64');
  const b64url = bytes.toString('base64url');
  const hex = bytes.toString('hex');
  // The line breaks of a match stay in the log: a value of nothing else would hide nothing.
  const forms = hasText(value) ? [value] : [];
  forms.push(b64, b64.replace(/=+$/, ''), b64url, b64url.padEnd(b64.length, '='));
  forms.push(hex, hex.toUpperCase());
  // application/x-www-form-urlencoded: also escapes !'()~ and writes a space as '+'.
  forms.push(new URLSearchParams([['', value]]).toString().slice(1));
  try {
    const uri = encodeURIComponent(value);
    forms.push(uri, uri.replace(/%20/g, '+'));
  } catch {
    // A lone surrogate has no URI encoding, so no log can show one.
  }
  return forms;
}

/**
 * The lines `xxd -p` prints the hex of a value in when the value comes first in its input (as
 * from `printf %s "$V" | xxd -p` or `xxd -p file`), in lower and upper case (`-u`); not a last
 * line of fewer than 4 bytes, which would hide less than the shortest value does. (Where a value
 * starts mid-line, its hex is cut elsewhere: every 30-byte window of it would be needed.)
 */
function xxdLines(hex: string): string[] {
  const lines: string[] = [];
  for (let at = 0; at + 2 * MIN_LENGTH <= hex.length; at += XXD_LINE) {
    const line = hex.slice(at, at + XXD_LINE);
    lines.push(line, line.toUpperCase());
  }
  return lines;
}

/**
 * The strings to hide for the given values: each value, its base64 (standard and URL-safe, with
 * and without padding), hex (of its UTF-8 bytes, lower and upper case, whole and in the lines of
 * `xxd -p`) and URL encodings (`encodeURIComponent`, and form encoding with `+` for a space), and
 * each line of a multi-line value; deduplicated, without values shorter than 4 characters,
 * longest first. A value of nothing but line breaks is there only encoded: the redactor keeps
 * the line breaks a match starts or ends with.
 */
export function redactionPatterns(values: readonly string[]): string[] {
  const patterns = new Set<string>();
  for (const value of values) {
    if (value.length < MIN_LENGTH) continue;
    for (const form of encodings(value)) patterns.add(form);
    // A long hex is printed wrapped, by `xxd -p` for one: each line on its own, like a file's.
    for (const line of xxdLines(Buffer.from(value, 'utf8').toString('hex'))) patterns.add(line);
    // Programs often print a file line by line (and indent it their own way).
    if (/[\r\n]/.test(value)) {
      for (const line of value.split(/\r\n|\r|\n/)) {
        const trimmed = line.trim();
        if (trimmed.length >= MIN_LENGTH) patterns.add(trimmed);
      }
    }
  }
  return [...patterns].sort((a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0));
}

// Patterns sharing their first 4 characters (the lines of one file often do) are told apart by
// a trie with a stride of 4 characters, so that a position is checked against a handful of them.
const STRIDE = MIN_LENGTH;
const LEAF_SIZE = 8;
// Beyond this depth a node stays a list: deep, crowded prefixes are rare and recursion is not free.
const MAX_DEPTH = 4096;

/** Patterns sharing their first `depth` characters. */
interface Node {
  depth: number;
  /** Longest first: every pattern of a leaf, else those too short to have a child key. */
  short: string[];
  /** By the `STRIDE` characters after `depth`. */
  children: Map<string, Node> | null;
  /** Every 1- to 3-character prefix of a child key. */
  childHeads: Set<string>;
}

interface Matcher {
  /** Patterns by their first 4 characters. */
  buckets: Map<string, Node>;
  /** Non-zero where the rolling value of some bucket key hashes to. */
  filter: Uint8Array;
  shift: number;
  /** Every 1- to 3-character prefix of a pattern. */
  heads: Set<string>;
  maxLength: number;
}

function groupBy(patterns: readonly string[], from: number): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const p of patterns) {
    const key = p.slice(from, from + STRIDE);
    const group = groups.get(key);
    if (group) group.push(p);
    else groups.set(key, [p]);
  }
  return groups;
}

function headsOf(keys: Iterable<string>): Set<string> {
  const heads = new Set<string>();
  for (const key of keys) for (let n = 1; n < STRIDE; n++) heads.add(key.slice(0, n));
  return heads;
}

/** `patterns` share their first `depth` characters and are sorted longest first. */
function createNode(patterns: string[], depth: number): Node {
  if (patterns.length <= LEAF_SIZE || depth >= MAX_DEPTH) {
    return { depth, short: patterns, children: null, childHeads: new Set() };
  }
  const groups = groupBy(
    patterns.filter((p) => p.length >= depth + STRIDE),
    depth,
  );
  const children = new Map<string, Node>();
  for (const [key, group] of groups) children.set(key, createNode(group, depth + STRIDE));
  const short = patterns.filter((p) => p.length < depth + STRIDE);
  return { depth, short, children, childHeads: headsOf(groups.keys()) };
}

/** The low bytes of the last 4 characters, shifted in one character at a time. */
function roll(previous: number, code: number): number {
  return (previous << 8) | (code & 0xff);
}

function slot(m: Matcher, rolled: number): number {
  return Math.imul(rolled, HASH_MULTIPLIER) >>> m.shift;
}

function createMatcher(patterns: string[]): Matcher {
  const groups = groupBy(patterns, 0);
  const bits = Math.min(22, Math.max(12, Math.ceil(Math.log2(groups.size * 16))));
  const m: Matcher = {
    buckets: new Map(),
    filter: new Uint8Array(1 << bits),
    shift: 32 - bits,
    heads: headsOf(groups.keys()),
    maxLength: patterns[0]?.length ?? 0,
  };
  for (const [key, group] of groups) {
    m.buckets.set(key, createNode(group, STRIDE));
    let rolled = 0;
    for (let i = 0; i < STRIDE; i++) rolled = roll(rolled, key.charCodeAt(i));
    m.filter[slot(m, rolled)] = 1;
  }
  return m;
}

/** The length of the longest pattern under `node` at `start` of `text`, or 0. */
function longestAt(node: Node, text: string, start: number): number {
  if (node.children) {
    const at = start + node.depth;
    const child = node.children.get(text.slice(at, at + STRIDE));
    // A child's patterns are all longer than this node's short ones.
    const found = child ? longestAt(child, text, start) : 0;
    if (found > 0) return found;
  }
  for (const p of node.short) if (text.startsWith(p, start)) return p.length;
  return 0;
}

/** Whether the tail of `text` from `start` is a proper prefix of a pattern under `node`. */
function extendsAt(node: Node, text: string, start: number, work: { left: number }): boolean {
  const tail = text.length - start;
  if (node.children) {
    const at = start + node.depth;
    const part = text.slice(at, at + STRIDE);
    if (part.length < STRIDE) {
      if (part.length === 0 ? node.children.size > 0 : node.childHeads.has(part)) return true;
    } else {
      const child = node.children.get(part);
      if (child && extendsAt(child, text, start, work)) return true;
    }
  }
  for (const p of node.short) {
    if (p.length <= tail) break;
    let k = node.depth;
    while (k < tail && text.charCodeAt(start + k) === p.charCodeAt(k)) k++;
    if (k === tail) return true;
    work.left -= k - node.depth + 1;
  }
  return false;
}

/** The leftmost match starting in [from, limit), the longest one at that position. */
function findMatch(m: Matcher, text: string, from: number, limit: number): [number, number] | null {
  const end = Math.min(limit, text.length - MIN_LENGTH + 1) + MIN_LENGTH - 1;
  let rolled = 0;
  for (let i = from; i < end; i++) {
    rolled = roll(rolled, text.charCodeAt(i));
    const start = i - MIN_LENGTH + 1;
    if (start < from || m.filter[slot(m, rolled)] === 0) continue;
    const bucket = m.buckets.get(text.slice(start, i + 1));
    const length = bucket ? longestAt(bucket, text, start) : 0;
    if (length > 0) return [start, length];
  }
  return null;
}

/**
 * Where the text stops being final: the first position whose tail is a proper prefix of a
 * pattern, so that more text could still make a (longer, or earlier) match there.
 */
function pendingStart(m: Matcher, text: string): number {
  const len = text.length;
  const from = Math.max(0, len - (m.maxLength - 1));
  const work = { left: TAIL_WORK_BUDGET + MIN_LENGTH * (len - from) };
  let rolled = 0;
  for (let i = from; i < len; i++) {
    rolled = roll(rolled, text.charCodeAt(i));
    const start = i - MIN_LENGTH + 1;
    if (start < from || m.filter[slot(m, rolled)] === 0) continue;
    const bucket = m.buckets.get(text.slice(start, i + 1));
    if (bucket && extendsAt(bucket, text, start, work)) return start;
    if (work.left < 0) return from;
  }
  for (let start = Math.max(from, len - MIN_LENGTH + 1); start < len; start++) {
    if (m.heads.has(text.slice(start))) return start;
  }
  return len;
}

function isLineBreak(code: number): boolean {
  return code === 10 || code === 13;
}

/**
 * The part of the match `text[start, end)` the mark replaces: without the line breaks it starts
 * and ends with (a file's last newline, say), which stay so that the next line is not glued to
 * the mark. A pattern always has something else (see `encodings`).
 */
function markedPart(text: string, start: number, end: number): [number, number] {
  while (start < end && isLineBreak(text.charCodeAt(start))) start++;
  while (end > start && isLineBreak(text.charCodeAt(end - 1))) end--;
  return [start, end];
}

/** Redacts what is final in `text`; returns it and the raw rest to carry over. */
function drain(m: Matcher, text: string, final: boolean): { out: string; rest: string } {
  const hold = final ? text.length : pendingStart(m, text);
  const parts: string[] = [];
  let pos = 0;
  for (let hit = findMatch(m, text, 0, hold); hit; hit = findMatch(m, text, pos, hold)) {
    const [from, to] = markedPart(text, hit[0], hit[0] + hit[1]);
    parts.push(text.slice(pos, from), REDACTION_MARK);
    // The kept trailing line breaks are text like any other: another value may start in them.
    pos = to;
  }
  // A match that started before `hold` may end beyond it: scanning resumes after its mark.
  const end = Math.max(pos, hold);
  parts.push(text.slice(pos, end));
  return { out: parts.join(''), rest: text.slice(end) };
}

/**
 * A streaming redactor over {@link redactionPatterns}: `push` returns every character that can
 * no longer be part of a match, holding back only a tail that could still grow into one (so a
 * value split across chunks is caught while other output streams at once), and `flush` returns
 * the rest; any chunking gives the same output as redacting the whole text at once, where the
 * leftmost match wins and, at one position, the longest. The mark replaces a match but for the
 * line breaks it starts or ends with, which stay (one log line is not glued to the next).
 *
 * @example
 * const r = createRedactor(['s3cret']);
 * r.push('pass: s3') + r.push('cret\n') + r.flush(); // 'pass: [REDACTED]\n'
 */
export function createRedactor(values: readonly string[]): {
  push(chunk: string): string;
  flush(): string;
} {
  const patterns = redactionPatterns(values);
  if (patterns.length === 0) return { push: (chunk) => chunk, flush: () => '' };
  const matcher = createMatcher(patterns);
  let pending = '';
  let held = 0;
  return {
    push(chunk) {
      pending += chunk;
      // Re-reading a long held tail (a big file being printed) for every small chunk would be
      // quadratic: wait until the new text is a fair share of it. Merging chunks changes nothing.
      if (held > LONG_TAIL && pending.length - held < held / 2) return '';
      const { out, rest } = drain(matcher, pending, false);
      pending = rest;
      held = rest.length;
      return out;
    },
    flush() {
      const { out } = drain(matcher, pending, true);
      pending = '';
      held = 0;
      return out;
    },
  };
}
