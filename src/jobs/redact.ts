/** What a redacted secret looks like in a job log. */
export const REDACTION_MARK = '[REDACTED]';

const MIN_LENGTH = 4;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Every string to hide for the given values: each value (and each line of a multi-line value),
 * its base64 (standard and URL-safe, padded or not) and its URL encodings; longest first, values
 * shorter than 4 characters skipped so a log is not redacted letter by letter.
 */
export function redactionPatterns(values: readonly string[]): string[] {
  const out = new Set<string>();
  const addForms = (v: string) => {
    if (v.length < MIN_LENGTH) return;
    out.add(v);
    const b64 = Buffer.from(v, 'utf8').toString('base64');
    out.add(b64);
    out.add(b64.replace(/=+$/, ''));
    const b64url = Buffer.from(v, 'utf8').toString('base64url');
    out.add(b64url);
    out.add(encodeURIComponent(v));
    out.add(encodeURIComponent(v).replace(/%20/g, '+'));
  };
  for (const value of values) {
    addForms(value);
    if (/[\r\n]/.test(value)) for (const line of value.split(/\r?\n/)) addForms(line.trim());
  }
  return [...out].filter((p) => p.length >= MIN_LENGTH).sort((a, b) => b.length - a.length);
}

/**
 * A streaming redactor: `push` returns the text that can no longer be part of a match, holding
 * back at most (longest pattern − 1) characters so a value split across chunks is still caught;
 * `flush` returns the rest.
 */
export function createRedactor(values: readonly string[]): {
  push(chunk: string): string;
  flush(): string;
} {
  const patterns = redactionPatterns(values);
  if (patterns.length === 0) return { push: (c) => c, flush: () => '' };
  const re = new RegExp(patterns.map(escapeRegExp).join('|'), 'g');
  const hold = (patterns[0]?.length ?? 1) - 1;
  let buffer = '';
  return {
    push(chunk) {
      buffer += chunk;
      const redacted = buffer.replace(re, REDACTION_MARK);
      // Keep the tail that might still grow into a match; never cut a redaction mark.
      let cut = Math.max(0, redacted.length - hold);
      const lastMark = redacted.lastIndexOf(REDACTION_MARK);
      if (lastMark !== -1 && lastMark < cut && lastMark + REDACTION_MARK.length > cut)
        cut = lastMark + REDACTION_MARK.length;
      buffer = redacted.slice(cut);
      return redacted.slice(0, cut);
    },
    flush() {
      const rest = buffer.replace(re, REDACTION_MARK);
      buffer = '';
      return rest;
    },
  };
}
