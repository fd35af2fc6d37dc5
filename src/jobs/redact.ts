/** What a redacted secret looks like in a job log. */
export const REDACTION_MARK = '[REDACTED]';

/**
 * Secret values shorter than this are not redacted (nor are shorter lines of a multi-line
 * value): a value like `1` or `on` would black out every such digit and word of a log, which
 * then says nothing while the value is guessed from the gaps. This is the one place the rule
 * lives; docs/security.md and the console's sensitivity labels say so.
 */
export const MIN_REDACTED_LENGTH = 4;

// It is also the length of the key patterns are indexed by.
const MIN_LENGTH = MIN_REDACTED_LENGTH;

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

// An escape sequence (or control string) not finished within this many characters is taken to be
// its introducer alone, so that an unterminated `ESC ]` cannot hold the rest of a log back.
const SEQUENCE_LIMIT = 4096;

// What a terminal does not show: the C0 controls but BS, TAB, LF, VT, FF and CR (which move the
// cursor and are kept), ESC (an escape sequence's introducer), DEL, the C1 controls (U+009B is
// CSI, U+009D OSC, …) and the invisible format characters of the BMP (soft hyphen, zero-width
// spaces and joiners, bidi controls, word joiner, BOM, …).
const INVISIBLE_CLASS =
  '[\\u0000-\\u0007\\u000e-\\u001f\\u007f-\\u009f\\u00ad\\u061c\\u180e\\u200b-\\u200f' +
  '\\u202a-\\u202e\\u2060-\\u2064\\u2066-\\u206f\\ufeff\\ufff9-\\ufffb]';
const INVISIBLE = new RegExp(INVISIBLE_CLASS);
const NEXT_INVISIBLE = new RegExp(INVISIBLE_CLASS, 'g');

const ESC = 0x1b;
const C1_CSI = 0x9b;

/** Whether `text` has something besides line breaks. */
function hasText(text: string): boolean {
  return /[^\r\n]/.test(text);
}

/** Whether a control string (OSC, DCS, SOS, PM, APC) starts with this character after ESC. */
function isStringIntroducer(code: number): boolean {
  return code === 0x5d || code === 0x50 || code === 0x58 || code === 0x5e || code === 0x5f;
}

/**
 * Where the invisible part of `text` that starts at `at` (an invisible character, see
 * `INVISIBLE_CLASS`) ends: after the whole escape sequence or control string it introduces, else
 * after the character; -1 when more text is needed to tell (unless `final`: then the unfinished
 * sequence runs to the end). It follows ECMA-48 as terminals do: CSI (`ESC [` or U+009B)
 * parameters, intermediates, final byte; control strings up to BEL, ST (`ESC \` or U+009C), CAN
 * or SUB, an ESC that starts another sequence cutting one short; `ESC` intermediates and a final
 * byte; a malformed sequence ends before the character that does not fit, which is read afresh.
 */
function invisibleEnd(text: string, at: number, final: boolean): number {
  const len = text.length;
  const code = text.charCodeAt(at);
  let body: number;
  if (code === ESC) {
    if (at + 1 >= len) return final ? len : -1;
    const next = text.charCodeAt(at + 1);
    body = at + 2;
    if (isStringIntroducer(next)) return stringEnd(text, at, body, final);
    if (next !== 0x5b) {
      // ESC, intermediates (0x20-0x2F), a final byte (0x30-0x7E); ESC alone before anything else.
      let j = at + 1;
      while (j < len && j - at < SEQUENCE_LIMIT && isIntermediate(text.charCodeAt(j))) j++;
      if (j - at >= SEQUENCE_LIMIT) return at + 1;
      if (j >= len) return final ? len : -1;
      const c = text.charCodeAt(j);
      return c >= 0x30 && c <= 0x7e ? j + 1 : j;
    }
  } else if (code === C1_CSI) {
    body = at + 1;
  } else if (code === 0x90 || code === 0x98 || code === 0x9d || code === 0x9e || code === 0x9f) {
    return stringEnd(text, at, at + 1, final);
  } else {
    return at + 1;
  }
  // CSI: parameters (0x30-0x3F), intermediates (0x20-0x2F), a final byte (0x40-0x7E).
  let j = body;
  while (j < len && j - at < SEQUENCE_LIMIT && isParameter(text.charCodeAt(j))) j++;
  while (j < len && j - at < SEQUENCE_LIMIT && isIntermediate(text.charCodeAt(j))) j++;
  if (j - at >= SEQUENCE_LIMIT) return body;
  if (j >= len) return final ? len : -1;
  const c = text.charCodeAt(j);
  return c >= 0x40 && c <= 0x7e ? j + 1 : j;
}

function isParameter(code: number): boolean {
  return code >= 0x30 && code <= 0x3f;
}

function isIntermediate(code: number): boolean {
  return code >= 0x20 && code <= 0x2f;
}

/** The end of a control string whose text starts at `body` (see {@link invisibleEnd}). */
function stringEnd(text: string, at: number, body: number, final: boolean): number {
  const len = text.length;
  for (let j = body; j < len; j++) {
    if (j - at >= SEQUENCE_LIMIT) return body;
    const c = text.charCodeAt(j);
    if (c === 0x07 || c === 0x9c || c === 0x18 || c === 0x1a) return j + 1;
    if (c === ESC) {
      if (j + 1 >= len) return final ? len : -1;
      return text.charCodeAt(j + 1) === 0x5c ? j + 2 : j;
    }
  }
  return final ? len : -1;
}

/** Whether an invisible part `text[start, end)` is an SGR sequence (colours, bold, …). */
function isSgr(text: string, start: number, end: number): boolean {
  // A malformed or cut short CSI does not end in its final byte: `m` is none of the others.
  const code = text.charCodeAt(start);
  return (
    (code === C1_CSI || (code === ESC && text.charCodeAt(start + 1) === 0x5b)) &&
    end - start >= 2 &&
    text.charCodeAt(end - 1) === 0x6d
  );
}

/** The text a terminal shows, with where its characters are in the raw text. */
interface Shown {
  text: string;
  /** Runs of shown characters: pairs of where each starts in `text` and in the raw text. */
  runs: number[];
  /** What is not shown (see {@link invisibleEnd}): [start, end) pairs of raw positions. */
  invisibles: number[];
  /** Where an unfinished sequence starts at the end of the raw text, else its length. */
  complete: number;
}

/**
 * `raw` without what a terminal does not show (escape sequences, control strings, invisible
 * controls and format characters; see {@link invisibleEnd}). Without `final`, an unfinished
 * sequence at the end is left out and named by `complete`.
 */
function shownText(raw: string, final: boolean): Shown {
  const parts: string[] = [];
  const runs: number[] = [];
  const invisibles: number[] = [];
  let shown = 0;
  let complete = raw.length;
  for (let i = 0; i < raw.length;) {
    NEXT_INVISIBLE.lastIndex = i;
    const found = NEXT_INVISIBLE.exec(raw);
    const stop = found ? found.index : raw.length;
    if (stop > i) {
      parts.push(raw.slice(i, stop));
      runs.push(shown, i);
      shown += stop - i;
    }
    if (!found) break;
    const end = invisibleEnd(raw, stop, final);
    if (end < 0) {
      complete = stop;
      break;
    }
    invisibles.push(stop, end);
    i = end;
  }
  runs.push(shown, complete);
  return { text: parts.join(''), runs, invisibles, complete };
}

/** Raw positions of shown characters, asked for in increasing order (see {@link Shown}). */
function rawPositions(runs: readonly number[]): (shown: number) => number {
  let k = 0;
  return (shown) => {
    while (runs[k + 2]! <= shown) k += 2;
    return runs[k + 1]! + (shown - runs[k]!);
  };
}

/** A pattern as a terminal shows it (see {@link shownText}). */
function shownForm(text: string): string {
  return INVISIBLE.test(text) ? shownText(text, true).text : text;
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
 * each line of a multi-line value, and what a terminal shows of those with escape sequences or
 * invisible characters in them; deduplicated, without values shorter than 4 characters,
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
  // What a terminal shows of a value with escape sequences or invisible characters in it.
  for (const pattern of [...patterns]) {
    const form = shownForm(pattern);
    if (form !== pattern && form.length >= MIN_LENGTH && hasText(form)) patterns.add(form);
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

/** Where redacted text goes: the text around matches, a mark for each match. */
interface Sink {
  /**
   * Text as it is. `invisibles`: where its escape sequences, control strings and invisible
   * characters are, as [start, end) pairs, for the as-is pass; the shown pass, which feeds it,
   * gives them all (an empty list: there are none), the as-is pass itself none.
   */
  text(text: string, invisibles: readonly number[]): void;
  mark(): void;
  /** The SGR sequences of a match, after its mark: not text of the log, only its colours. */
  colours(text: string): void;
}

const NONE: readonly number[] = [];

/**
 * Redacts what is final in `text` (which has nothing invisible) into `sink`; returns the rest.
 */
function drain(m: Matcher, text: string, final: boolean, sink: Sink): string {
  const hold = final ? text.length : pendingStart(m, text);
  let pos = 0;
  for (let hit = findMatch(m, text, 0, hold); hit; hit = findMatch(m, text, pos, hold)) {
    const [from, to] = markedPart(text, hit[0], hit[0] + hit[1]);
    if (from > pos) sink.text(text.slice(pos, from), NONE);
    sink.mark();
    // The kept trailing line breaks are text like any other: another value may start in them.
    pos = to;
  }
  // A match that started before `hold` may end beyond it: scanning resumes after its mark.
  const end = Math.max(pos, hold);
  if (end > pos) sink.text(text.slice(pos, end), NONE);
  return text.slice(end);
}

/**
 * {@link drain} over what a terminal shows of `raw` (see {@link shownText}): a match there
 * replaces the raw text from its first to its last shown character, escape sequences in it
 * included, and the mark is followed by the SGR sequences of that stretch (so that colours after
 * it stay as the job set them). The raw rest starts where a terminal starts afresh: at a shown
 * character or at an unfinished sequence.
 */
function drainShown(m: Matcher, raw: string, final: boolean, sink: Sink): string {
  if (!INVISIBLE.test(raw)) return drain(m, raw, final, sink);
  const { text, runs, invisibles, complete } = shownText(raw, final);
  const rawAt = rawPositions(runs);
  const hold = final ? text.length : pendingStart(m, text);
  let pos = 0;
  let rawPos = 0;
  let next = 0; // the first of `invisibles` not yet passed on
  const passOn = (to: number) => {
    const from = next;
    while (next < invisibles.length && invisibles[next]! < to) next += 2;
    const own = invisibles.slice(from, next);
    for (let k = 0; k < own.length; k++) own[k]! -= rawPos;
    sink.text(raw.slice(rawPos, to), own);
  };
  for (let hit = findMatch(m, text, 0, hold); hit; hit = findMatch(m, text, pos, hold)) {
    const [from, to] = markedPart(text, hit[0], hit[0] + hit[1]);
    const rawFrom = rawAt(from);
    const rawTo = rawAt(to - 1) + 1;
    if (rawFrom > rawPos) passOn(rawFrom);
    sink.mark();
    let colours = '';
    for (; next < invisibles.length && invisibles[next]! < rawTo; next += 2) {
      const [start, end] = [invisibles[next]!, invisibles[next + 1]!];
      if (isSgr(raw, start, end)) colours += raw.slice(start, end);
    }
    if (colours) sink.colours(colours);
    rawPos = rawTo;
    pos = to;
  }
  const end = Math.max(pos, hold);
  // What comes before the first character still held is final, escape sequences included.
  const rawEnd = end < text.length ? rawAt(end) : complete;
  if (rawEnd > rawPos) passOn(rawEnd);
  return raw.slice(rawEnd);
}

// Stretches of text to read closer than this are read as one: a call per escape sequence of a
// colourful log would cost more than reading the few characters between them.
const READ_GAP = 32;

/**
 * The as-is pass over the text between the shown pass's matches (see `createRedactor`): finds
 * what the shown pass cannot see, values as they are inside escape sequences and control strings
 * (a window title) and values with invisible characters in them. Every other match it could find
 * is text a terminal shows as it is, which the shown pass has taken, so only positions in or
 * just before something invisible (`invisibles`, as in {@link Sink}; one may start before 0, cut
 * by the previous drain) are read; `hidden` has the patterns with invisible characters, null when
 * there are none. Text without anything invisible is passed on at once, held only where one of
 * those may start. Returns the rest and, as positions in it, the invisibles it has.
 */
function drainAsIs(
  all: Matcher,
  hidden: Matcher | null,
  text: string,
  invisibles: readonly number[],
  final: boolean,
  sink: Sink,
): { rest: string; invisibles: number[] } {
  if (invisibles.length === 0) {
    const hold = final || !hidden ? text.length : pendingStart(hidden, text);
    if (hold > 0) sink.text(text.slice(0, hold), NONE);
    return { rest: text.slice(hold), invisibles: [] };
  }
  // Where a match may start: in something invisible, or close enough before it to reach it.
  const reach = hidden ? hidden.maxLength - 1 : 0;
  const starts: number[] = [];
  for (let k = 0; k < invisibles.length; k += 2) {
    const from = Math.max(0, invisibles[k]! - reach);
    const to = invisibles[k + 1]!;
    if (starts.length > 0 && from <= starts[starts.length - 1]! + READ_GAP)
      starts[starts.length - 1] = to;
    else starts.push(from, to);
  }
  const hold = final ? text.length : pendingStart(all, text);
  let pos = 0;
  for (let k = 0; k < starts.length; k += 2) {
    const limit = Math.min(starts[k + 1]!, hold);
    let from = Math.max(starts[k]!, pos);
    for (let hit; from < limit && (hit = findMatch(all, text, from, limit)); from = pos) {
      const [start, to] = markedPart(text, hit[0], hit[0] + hit[1]);
      if (start > pos) sink.text(text.slice(pos, start), NONE);
      sink.mark();
      pos = to;
    }
  }
  const end = Math.max(pos, hold);
  if (end > pos) sink.text(text.slice(pos, end), NONE);
  // The rest may start inside an escape sequence (a match ended in a window title): kept, so
  // that its end is still read as one.
  const rest: number[] = [];
  for (let k = 0; k < invisibles.length; k += 2) {
    if (invisibles[k + 1]! > end) rest.push(invisibles[k]! - end, invisibles[k + 1]! - end);
  }
  return { rest: text.slice(end), invisibles: rest };
}

/** A streaming pass of a drain: holds what it returns, re-reading a long held tail sparingly. */
function createPass(drainText: (text: string, final: boolean, sink: Sink) => string) {
  let pending = '';
  let held = 0;
  return {
    push(chunk: string, sink: Sink): void {
      pending += chunk;
      // Re-reading a long held tail (a big file being printed) for every small chunk would be
      // quadratic: wait until the new text is a fair share of it. Merging chunks changes nothing.
      if (held > LONG_TAIL && pending.length - held < held / 2) return;
      pending = drainText(pending, false, sink);
      held = pending.length;
    },
    end(sink: Sink): void {
      const text = pending;
      pending = '';
      held = 0;
      drainText(text, true, sink);
    },
  };
}

/** {@link createPass} for {@link drainAsIs}, which also keeps where the held text's invisibles are. */
function createAsIsPass(all: Matcher, hidden: Matcher | null) {
  let pending = '';
  let invisibles: number[] = [];
  let held = 0;
  const drainText = (final: boolean, sink: Sink) => {
    const drained = drainAsIs(all, hidden, pending, invisibles, final, sink);
    pending = final ? '' : drained.rest;
    invisibles = final ? [] : drained.invisibles;
    held = pending.length;
  };
  return {
    push(chunk: string, chunkInvisibles: readonly number[], sink: Sink): void {
      for (const at of chunkInvisibles) invisibles.push(at + pending.length);
      pending += chunk;
      if (held > LONG_TAIL && pending.length - held < held / 2) return;
      drainText(false, sink);
    },
    end(sink: Sink): void {
      drainText(true, sink);
    },
  };
}

/**
 * A streaming redactor over {@link redactionPatterns}: `push` returns every character that can
 * no longer be part of a match, holding back only a tail that could still grow into one (so a
 * value split across chunks is caught while other output streams at once), and `flush` returns
 * the rest; any chunking gives the same output as redacting the whole text at once, where the
 * leftmost match wins and, at one position, the longest. The mark replaces a match but for the
 * line breaks it starts or ends with, which stay (one log line is not glued to the next).
 *
 * Values are caught in what a terminal shows and in the text as it is, so that escape sequences
 * (colours: `hunt\x1b[0mer2`), control strings and invisible characters inside a value do not
 * let it through, nor does a value hidden inside an escape sequence. Two passes in a row, each as
 * above. The first, over what a terminal shows (escape sequences, control strings and invisible
 * characters left out, see `shownText`), replaces a match from its first shown character to its
 * last and puts the colours (SGR sequences) of that stretch after the mark; text without
 * anything invisible is simply the text. The second reads the text between the first one's
 * marks as it is, each stretch on its own (see `drainAsIs`): nearly free where nothing is
 * invisible. A value interleaved with escape sequences is thus caught whatever other values
 * overlap it. Limits: a terminal's cursor movements (CR, BS, CSI cursor moves) are not replayed,
 * so a value printed in pieces that overwrite one another on the screen is not caught whole; nor
 * is one cut by a control character inside an escape sequence (which a terminal executes).
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
  const all = createMatcher(patterns);
  // What a terminal shows of each pattern is a pattern too (see redactionPatterns).
  const visible = patterns.filter((p) => !INVISIBLE.test(p));
  const invisible = patterns.filter((p) => INVISIBLE.test(p));
  const shown = invisible.length === 0 ? all : createMatcher(visible);
  const hidden = invisible.length === 0 ? null : createMatcher(invisible);
  const asIs = createAsIsPass(all, hidden);
  const first = createPass((text, final, sink) => drainShown(shown, text, final, sink));
  let out: string[] = [];
  const output: Sink = {
    text: (text) => void out.push(text),
    mark: () => void out.push(REDACTION_MARK),
    colours: (text) => void out.push(text),
  };
  // The as-is pass reads the text between the first one's marks, each stretch on its own.
  const between: Sink = {
    text: (text, invisibles) => asIs.push(text, invisibles, output),
    mark: () => {
      asIs.end(output);
      out.push(REDACTION_MARK);
    },
    colours: (text) => void out.push(text),
  };
  const taken = () => {
    const text = out.length === 1 ? out[0]! : out.join('');
    out = [];
    return text;
  };
  return {
    push(chunk) {
      first.push(chunk, between);
      return taken();
    },
    flush() {
      first.end(between);
      asIs.end(output);
      return taken();
    },
  };
}
