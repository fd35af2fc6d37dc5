// What a terminal acts on instead of showing: C0 controls (ESC, CR, BS, …), DEL, C1 controls
// (U+0080–U+009F: 8-bit CSI, OSC, …), the bidi controls that reorder what is shown (U+061C,
// U+200E, U+200F, U+202A–U+202E, U+2066–U+2069) and the line and paragraph separators. A log
// keeps LF and TAB (its lines and indentation).
const C0 = '\\u0000-\\u001f';
const C0_BUT_LF_TAB = '\\u0000-\\u0008\\u000b-\\u001f';
const OTHERS = '\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069';
// Invisible in a name, so `owner\u200b@example.com` would read as the Owner: the soft hyphen,
// zero-width space, non-joiner and joiner, word joiner and invisible operators, and the BOM.
// Shown in tables and messages (names), not in job logs (the job's own text; `--raw` aside).
const INVISIBLE = '\u00ad\u200b-\u200d\u2060-\u2064\ufeff';
const CONTROLS = new RegExp(`[${C0}${OTHERS}${INVISIBLE}]`, 'g');
// A log's controls, and CRLF, which only ends a line (CR first, then LF: nothing is overwritten).
const LOG_CONTROLS_OR_CRLF = new RegExp(`\\r\\n|[${C0_BUT_LF_TAB}${OTHERS}]`, 'g');
// What JSON.stringify leaves as it is (it escapes only U+0000–U+001F): written as \uXXXX.
const JSON_CONTROLS = new RegExp(`[${OTHERS}]`, 'g');

const SHORT_ESCAPES: Record<string, string> = {
  '\b': '\\b',
  '\t': '\\t',
  '\n': '\\n',
  '\v': '\\v',
  '\f': '\\f',
  '\r': '\\r',
};

/** A control character as a JavaScript string literal writes it: `\r`, `\x1b`, `\x9b`, `\u202e`. */
function visibleEscape(ch: string): string {
  const short = SHORT_ESCAPES[ch];
  if (short) return short;
  const code = ch.charCodeAt(0);
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * Text from the server (or anywhere else outside the CLI) as it may reach a terminal: every
 * control character the terminal would act on instead of showing (ESC, CR, BS, DEL, C1 controls,
 * bidi controls; see `CONTROLS`) written out as an escape (`\x1b`, `\r`, `\b`, `\x7f`, `\x9b`,
 * `\u202e`), so that a name, a command or an error message cannot move the cursor, erase or
 * repaint lines, set the window title or reorder what is shown. `log` keeps LF and TAB (a job's
 * lines and indentation); otherwise the text stays on one line. A backslash stays as it is: the
 * escapes say what a character is, not how to type it back. Idempotent.
 */
export function printable(text: string, mode: 'line' | 'log' = 'line'): string {
  if (mode === 'line') return text.replace(CONTROLS, visibleEscape);
  return text.replace(LOG_CONTROLS_OR_CRLF, (c) => (c === '\r\n' ? c : visibleEscape(c)));
}

/**
 * Prints a job's log as it arrives, a chunk at a time, on stdout and stderr: {@link printable}
 * in `log` mode, but a CRLF line end stays (a CR at the end of a chunk waits for the next one to
 * tell); `raw` writes the job's text exactly as it is, escape sequences and all.
 */
export function createLogPrinter(raw: boolean): {
  write(stream: 'stdout' | 'stderr', text: string): void;
  end(): void;
} {
  const heldCr = { stdout: false, stderr: false };
  const out = (stream: 'stdout' | 'stderr') =>
    stream === 'stderr' ? process.stderr : process.stdout;
  return {
    write(stream, text) {
      if (raw) {
        if (text) out(stream).write(text);
        return;
      }
      let chunk = heldCr[stream] ? `\r${text}` : text;
      heldCr[stream] = chunk.endsWith('\r');
      if (heldCr[stream]) chunk = chunk.slice(0, -1);
      const safe = printable(chunk, 'log');
      if (safe) out(stream).write(safe);
    },
    end() {
      for (const stream of ['stdout', 'stderr'] as const) {
        if (heldCr[stream]) out(stream).write(visibleEscape('\r'));
        heldCr[stream] = false;
      }
    },
  };
}

/** A template literal whose interpolated values go through {@link printable}; its own text stays. */
export function shown(strings: TemplateStringsArray, ...values: unknown[]): string {
  let text = strings[0] ?? '';
  for (let i = 0; i < values.length; i++)
    text += printable(String(values[i])) + (strings[i + 1] ?? '');
  return text;
}

/** JSON text with the characters JSON.stringify leaves raw that a terminal acts on as `\uXXXX`. */
function jsonText(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(
    JSON_CONTROLS,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * Prints a value as JSON (for --json) on stdout: exact JSON, with the characters JSON.stringify
 * leaves raw that a terminal acts on (DEL, C1 and bidi controls, U+2028/U+2029) as `\uXXXX`
 * escapes, which parse back to the same strings.
 */
export function printJson(value: unknown): void {
  process.stdout.write(jsonText(value, 2) + '\n');
}

/**
 * Prints a value as one line of JSON (NDJSON, for a stream under --json): compact and escaped as
 * {@link printJson} escapes, so that no character of a string, a newline included, ends the line.
 */
export function printJsonLine(value: unknown): void {
  process.stdout.write(jsonText(value) + '\n');
}

/** Prints rows as an aligned table with the given columns, cells {@link printable}; "(none)" when empty. */
export function printTable(rows: Record<string, unknown>[], columns: string[]): void {
  if (rows.length === 0) {
    process.stdout.write('(none)\n');
    return;
  }
  const cell = (v: unknown): string => {
    if (v === null || v === undefined) return '-';
    if (typeof v === 'string') return printable(v);
    return printable(
      typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v),
    );
  };
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  process.stdout.write(line(columns.map((c) => c.toUpperCase())) + '\n');
  for (const row of rows) process.stdout.write(line(columns.map((c) => cell(row[c]))) + '\n');
}

/** Prints either JSON or the table/sentence, by the --json flag. */
export function output(json: boolean, value: unknown, human: () => void): void {
  if (json) printJson(value);
  else human();
}

/** Reads all of standard input as text, without the final newline. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** Asks for a password on the terminal without echoing it. */
export async function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) return readStdin();
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const onData = (data: Buffer) => {
      for (const ch of data.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off('data', onData);
          process.stderr.write('\n');
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          stdin.setRawMode(false);
          reject(new Error('cancelled'));
          return;
        }
        if (ch === '\u007f') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}
