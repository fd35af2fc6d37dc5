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
 * back only a tail that is the start of some pattern, so a value split across chunks is still
 * caught while other output streams at once; `flush` returns the rest.
 */
export function createRedactor(values: readonly string[]): {
  push(chunk: string): string;
  flush(): string;
} {
  const patterns = redactionPatterns(values);
  if (patterns.length === 0) return { push: (c) => c, flush: () => '' };
  const re = new RegExp(patterns.map(escapeRegExp).join('|'), 'g');
  const hold = (patterns[0]?.length ?? 1) - 1;
  // Every proper prefix of every pattern: only a tail that could still grow into a match is
  // held back, so ordinary output streams at once.
  const prefixes = new Set<string>();
  for (const p of patterns) for (let i = 1; i < p.length; i++) prefixes.add(p.slice(0, i));
  const pendingTail = (text: string): number => {
    for (let len = Math.min(hold, text.length); len > 0; len--) {
      if (prefixes.has(text.slice(text.length - len))) return len;
    }
    return 0;
  };
  let buffer = '';
  return {
    push(chunk) {
      buffer += chunk;
      const redacted = buffer.replace(re, REDACTION_MARK);
      const cut = redacted.length - pendingTail(redacted);
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
