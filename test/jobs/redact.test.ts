import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { createRedactor, REDACTION_MARK, redactionPatterns } from '../../src/jobs/redact.js';

function redactAll(values: string[], chunks: string[]): string {
  const r = createRedactor(values);
  return chunks.map((c) => r.push(c)).join('') + r.flush();
}

describe('log redaction', () => {
  const value = 'p@ss word/with+chars';

  it('hides a value, its base64 and its URL encodings', () => {
    const text = `a ${value} b ${Buffer.from(value).toString('base64')} c ${encodeURIComponent(value)} d ${encodeURIComponent(value).replace(/%20/g, '+')}`;
    expect(redactAll([value], [text])).toBe(
      `a ${REDACTION_MARK} b ${REDACTION_MARK} c ${REDACTION_MARK} d ${REDACTION_MARK}`,
    );
  });

  it('catches a value split into single characters', () => {
    const out = redactAll([value], [...`>>${value}<<`]);
    expect(out).toBe(`>>${REDACTION_MARK}<<`);
  });

  it('streams ordinary output at once instead of holding it back', () => {
    const r = createRedactor([value]);
    expect(r.push('started\n')).toBe('started\n');
    expect(r.push('p@ss')).toBe('');
    expect(r.push(' word/with+chars!')).toBe(`${REDACTION_MARK}!`);
  });

  it('escapes regular-expression characters and redacts each line of a multi-line value', () => {
    expect(redactAll(['a.*b(c)'], ['xa.*b(c)y axxb(c)'])).toBe(`x${REDACTION_MARK}y axxb(c)`);
    expect(redactAll(['first-line\nsecond-line'], ['second-line only'])).toBe(
      `${REDACTION_MARK} only`,
    );
  });

  it('skips values too short to redact safely', () => {
    expect(redactionPatterns(['abc', ''])).toEqual([]);
  });

  it('gives the same output however the text is chunked', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ minLength: 4, maxLength: 12 }), { minLength: 1, maxLength: 3 }),
        fc.array(fc.string({ maxLength: 8 }), { maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 20 }),
        (values, fillers, cuts) => {
          const text = fillers.map((f, i) => f + (values[i % values.length] ?? '')).join('');
          const chunks: string[] = [];
          let rest = text;
          for (let i = 0; rest.length > 0; i++) {
            const n = cuts[i % cuts.length] ?? 1;
            chunks.push(rest.slice(0, n));
            rest = rest.slice(n);
          }
          expect(redactAll(values, chunks)).toBe(redactAll(values, [text]));
        },
      ),
      { numRuns: 500 },
    );
  });
});
