import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { createRedactor, REDACTION_MARK, redactionPatterns } from '../../src/jobs/redact.js';

/** How many generated texts and chunkings each property test runs (quoted in the closing note). */
export const CHUNKING_RUNS = 1000;

const M = REDACTION_MARK;

function redactChunks(values: readonly string[], chunks: readonly string[]): string {
  const r = createRedactor(values);
  return chunks.map((c) => r.push(c)).join('') + r.flush();
}

const redact = (values: readonly string[], text: string) => redactChunks(values, [text]);

/** Cuts `text` into pieces of the given sizes, cycling through them. */
function cut(text: string, sizes: readonly number[]): string[] {
  const chunks: string[] = [];
  for (let at = 0, i = 0; at < text.length; i++) {
    const n = sizes[i % sizes.length] ?? 1;
    chunks.push(text.slice(at, at + n));
    at += n;
  }
  return chunks;
}

/** Redacts `text` whole, checking that every cut into two chunks, and into characters, agrees. */
function redactEverySplit(values: readonly string[], text: string): string {
  const whole = redact(values, text);
  for (let at = 0; at <= text.length; at++) {
    expect(redactChunks(values, [text.slice(0, at), text.slice(at)])).toBe(whole);
  }
  expect(redactChunks(values, [...text])).toBe(whole);
  return whole;
}

/** The lower-case hex of a string's UTF-8 bytes, as `xxd -p` prints it: 60 characters a line. */
function xxdP(text: string): string {
  const hex = Buffer.from(text).toString('hex');
  return hex.replace(/.{1,60}/g, (line) => `${line}\n`);
}

describe('redactionPatterns', () => {
  it('lists a value, its base64 forms and its URL encodings, longest first', () => {
    const value = "it's a p@ss/word~";
    const b64 = Buffer.from(value).toString('base64');
    const patterns = redactionPatterns([value]);
    expect(patterns).toEqual(
      expect.arrayContaining([
        value,
        b64,
        b64.replace(/=+$/, ''),
        Buffer.from(value).toString('base64url'),
        encodeURIComponent(value),
        encodeURIComponent(value).replace(/%20/g, '+'),
        'it%27s+a+p%40ss%2Fword%7E',
        Buffer.from(value).toString('hex'),
        Buffer.from(value).toString('hex').toUpperCase(),
      ]),
    );
    expect(new Set(patterns).size).toBe(patterns.length);
    expect(patterns.map((p) => p.length)).toEqual(
      patterns.map((p) => p.length).sort((a, b) => b - a),
    );
  });

  it('skips empty and very short values, and the short lines of a multi-line value', () => {
    expect(redactionPatterns(['', 'a', 'abc'])).toEqual([]);
    expect(redactionPatterns(['ab\n  cd  \nlonger line'])).toContain('longer line');
    expect(redactionPatterns(['ab\n  cd  \nlonger line'])).not.toContain('cd');
  });

  it('lists the 60-character lines of `xxd -p`, and a last one of 4 bytes or more', () => {
    const value = 'é'.repeat(40) + 'xyzw'; // 84 bytes: hex lines of 60, 60 and 48 characters
    const hex = Buffer.from(value).toString('hex');
    const patterns = redactionPatterns([value]);
    for (const line of [hex.slice(0, 60), hex.slice(60, 120), hex.slice(120)]) {
      expect(patterns).toContain(line);
      expect(patterns).toContain(line.toUpperCase());
    }
    // A last line of 1 to 3 bytes would hide less than the shortest value does.
    const short = redactionPatterns(['x'.repeat(31)]);
    expect(short).toContain('78'.repeat(30));
    expect(short).not.toContain('78');
  });

  it('lists a value of nothing but line breaks only encoded: its breaks stay', () => {
    const patterns = redactionPatterns(['\n\r\n\n']);
    expect(patterns).not.toContain('\n\r\n\n');
    expect(patterns).toContain(Buffer.from('\n\r\n\n').toString('base64'));
  });

  it('keeps a value whose URL encoding does not exist (a lone surrogate)', () => {
    expect(redactionPatterns(['abc\ud800'])).toContain('abc\ud800');
  });
});

describe('createRedactor', () => {
  const value = 'p@ss word/with+chars';

  it('hides a value, its base64 and its URL encodings', () => {
    const b64 = Buffer.from(value).toString('base64');
    const text = [
      value,
      b64,
      b64.replace(/=+$/, ''),
      Buffer.from(value).toString('base64url'),
      encodeURIComponent(value),
      new URLSearchParams({ v: value }).toString().slice(2),
    ].join(' | ');
    expect(redact([value], `<${text}>`)).toBe(`<${M} | ${M} | ${M} | ${M} | ${M} | ${M}>`);
  });

  it('catches a value split across two chunks', () => {
    expect(redactChunks([value], ['user=p@ss wo', 'rd/with+chars;'])).toBe(`user=${M};`);
  });

  it('catches a value split into single characters', () => {
    expect(redactChunks([value], [...`>>${value}<<`])).toBe(`>>${M}<<`);
  });

  it('streams ordinary output at once instead of holding it back', () => {
    const r = createRedactor([value]);
    expect(r.push('started\n')).toBe('started\n');
    expect(r.push('p@ss')).toBe('');
    expect(r.push(' word/with+chars!')).toBe(`${M}!`);
    expect(r.push('p@sX')).toBe('p@sX');
  });

  it('holds nothing back forever: flush returns the held tail', () => {
    const r = createRedactor([value]);
    expect(r.push('done p@ss w')).toBe('done ');
    expect(r.flush()).toBe('p@ss w');
    expect(r.flush()).toBe('');
  });

  it('passes text through untouched when there is nothing to hide', () => {
    const r = createRedactor(['', 'ab']);
    expect(r.push('ab ab')).toBe('ab ab');
    expect(r.flush()).toBe('');
  });

  it('escapes nothing: regular-expression characters are plain characters', () => {
    expect(redact(['a.*b(c)'], 'xa.*b(c)y axxb(c) a.*b(c')).toBe(`x${M}y axxb(c) a.*b(c`);
    expect(redact(['^$[]{}|\\?+'], 'a ^$[]{}|\\?+ b')).toBe(`a ${M} b`);
  });

  it('redacts each line of a multi-line value on its own', () => {
    const pem = '-----BEGIN KEY-----\n  MIIBOgIBAAJBAKj34GkxFhD9\n-----END KEY-----\n';
    expect(redact([pem], 'line: MIIBOgIBAAJBAKj34GkxFhD9 end')).toBe(`line: ${M} end`);
    expect(redact([pem], `cat: ${pem}.`)).toBe(`cat: ${M}\n.`);
  });

  it('hides the hex of a value, lower and upper case, however it is chunked', () => {
    const hex = Buffer.from(value).toString('hex');
    expect(redactEverySplit([value], `<${hex}|${hex.toUpperCase()}>`)).toBe(`<${M}|${M}>`);
  });

  it('hides a long value printed by `xxd -p` (-u) line by line, however it is chunked', () => {
    const long = `${value} ünïcode ${'0123456789'.repeat(10)}`; // 131 bytes: 5 lines of hex
    const lines = `${M}\n`.repeat(5);
    expect(redactEverySplit([long], `$ xxd -p\n${xxdP(long)}$`)).toBe(`$ xxd -p\n${lines}$`);
    expect(redactEverySplit([long], xxdP(long).toUpperCase())).toBe(lines);
    // `echo "$V" | xxd -p`: the last line also holds the newline's 0a.
    expect(redact([long], xxdP(`${long}\n`))).toBe(`${M}\n`.repeat(4) + `${M}0a\n`);
  });

  it('keeps the line breaks after a file secret printed with cat, before the next line', () => {
    const file = 'line1\nline2\n';
    expect(redactEverySplit([file], `${file}API_KEY=x\n`)).toBe(`${M}\nAPI_KEY=x\n`);
    const crlf = 'line1\r\nline2\r\n';
    expect(redactEverySplit([crlf], `${crlf}API_KEY=x\r\n`)).toBe(`${M}\r\nAPI_KEY=x\r\n`);
  });

  it('keeps the line break echo writes after a value, and a line break the value ends with', () => {
    expect(redactEverySplit(['tok3n'], 'tok3n\nAPI_KEY=x\n')).toBe(`${M}\nAPI_KEY=x\n`);
    expect(redactEverySplit(['tok3n\n'], 'V=tok3n\n\nAPI_KEY=x\n')).toBe(`V=${M}\n\nAPI_KEY=x\n`);
    expect(redactEverySplit(['abc\r\n'], 'abc\r\nAPI_KEY=x')).toBe(`${M}\r\nAPI_KEY=x`);
  });

  it('keeps the line breaks a value starts with', () => {
    expect(redactEverySplit(['\n\nsecret'], 'KEY=\n\nsecret\nnext')).toBe(`KEY=\n\n${M}\nnext`);
    expect(redactEverySplit(['\r\nsecret\r\n'], 'KEY=\r\nsecret\r\n')).toBe(`KEY=\r\n${M}\r\n`);
  });

  it('still hides a value that starts in the line breaks another one ends with', () => {
    expect(redactEverySplit(['abcd\n', '\nwxyz'], 'abcd\nwxyz.')).toBe(`${M}\n${M}.`);
  });

  it('leaves a value of nothing but line breaks alone', () => {
    expect(redactEverySplit(['\n\n\n\n'], 'a\n\n\n\nb')).toBe('a\n\n\n\nb');
  });

  it('prefers the leftmost, then the longest, of overlapping values', () => {
    expect(redact(['abcd', 'cdef'], 'abcdef')).toBe(`${M}ef`);
    expect(redact(['bcde', 'abcdefgh'], 'xabcdefghy')).toBe(`x${M}y`);
    expect(redact(['bcde', 'abcdefgh'], 'xabcdefy')).toBe(`xa${M}fy`);
    expect(redactChunks(['bcde', 'abcdefgh'], ['xabcde', 'fghy'])).toBe(`x${M}y`);
  });

  // Values from a tiny alphabet overlap and repeat a lot; the text mixes them with near misses.
  const alphabet = fc.constantFrom('a', 'b', 'c', '.', '*', '\n', 'é', '%');
  const valueArb = fc.string({ unit: alphabet, minLength: 1, maxLength: 9 });
  const caseArb = fc
    .record({
      values: fc.array(valueArb, { minLength: 1, maxLength: 4 }),
      fillers: fc.array(fc.string({ unit: alphabet, maxLength: 6 }), { maxLength: 8 }),
      sizes: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 8 }),
    })
    .map(({ values, fillers, sizes }) => {
      const text = fillers.map((f, i) => f + (values[i % values.length] ?? '')).join('');
      return { values, text, sizes };
    });

  // Many values sharing a prefix (as the lines of one file do): more than fit in one list of the
  // matcher, so it has to tell crowded patterns apart, including when a chunk ends among them.
  const crowdedArb = fc
    .record({
      prefix: fc.constantFrom('abab', 'ab.ab*ab'),
      suffixes: fc.uniqueArray(fc.string({ unit: fc.constantFrom('a', 'b'), maxLength: 10 }), {
        minLength: 12,
        maxLength: 40,
      }),
      picks: fc.array(fc.tuple(fc.nat(), fc.nat({ max: 20 }), fc.constantFrom('', '-', 'a', 'b')), {
        maxLength: 12,
      }),
      sizes: fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 8 }),
    })
    .map(({ prefix, suffixes, picks, sizes }) => {
      const values = suffixes.map((x) => prefix + x);
      // Whole values and their prefixes (near misses), one after the other.
      const text = picks
        .map(([i, n, noise]) => (values[i % values.length] ?? '').slice(0, n) + noise)
        .join('');
      return { values, text, sizes };
    });

  // Values with line breaks only at their edges (a file's last newline, CRLF too): every line
  // break of the text stays, since only what is between a value's edges gives way to the mark.
  const breaksArb = fc.string({ unit: fc.constantFrom('\n', '\r\n', '\r'), maxLength: 2 });
  const edgesArb = fc
    .record({
      values: fc.array(
        fc
          .tuple(
            breaksArb,
            fc.string({ unit: fc.constantFrom('a', 'b', '.'), minLength: 1, maxLength: 6 }),
            breaksArb,
          )
          .map((parts) => parts.join('')),
        { minLength: 1, maxLength: 4 },
      ),
      fillers: fc.array(fc.string({ unit: alphabet, maxLength: 6 }), { maxLength: 8 }),
      sizes: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 8 }),
    })
    .map(({ values, fillers, sizes }) => {
      const text = fillers.map((f, i) => f + (values[i % values.length] ?? '')).join('');
      return { values, text, sizes };
    });

  it.each([
    ['few values', caseArb],
    ['crowded values', crowdedArb],
    ['values with line breaks at their edges', edgesArb],
  ])(`gives the same output however the text is chunked (%s, ${CHUNKING_RUNS} cases)`, (_, arb) => {
    fc.assert(
      fc.property(arb, ({ values, text, sizes }) => {
        const whole = redact(values, text);
        expect(redactChunks(values, cut(text, sizes))).toBe(whole);
        expect(redactChunks(values, [...text])).toBe(whole);
      }),
      { numRuns: CHUNKING_RUNS },
    );
  });

  it.each([
    ['few values', caseArb],
    ['crowded values', crowdedArb],
    ['values with line breaks at their edges', edgesArb],
  ])(`never lets a value through (%s, ${CHUNKING_RUNS} cases)`, (_, arb) => {
    fc.assert(
      fc.property(arb, ({ values, text, sizes }) => {
        const out = redactChunks(values, cut(text, sizes));
        // A value of nothing but line breaks stays: the line breaks of a match are kept.
        for (const v of values)
          if (v.length >= 4 && /[^\r\n]/.test(v)) expect(out).not.toContain(v);
      }),
      { numRuns: CHUNKING_RUNS },
    );
  });

  it(`keeps every line break no value has inside (${CHUNKING_RUNS} cases)`, () => {
    const breaks = (s: string) => s.replace(/[^\r\n]+/g, '');
    fc.assert(
      fc.property(edgesArb, ({ values, text, sizes }) => {
        expect(breaks(redactChunks(values, cut(text, sizes)))).toBe(breaks(text));
      }),
      { numRuns: CHUNKING_RUNS },
    );
  });

  describe('escape sequences and invisible characters inside a value', () => {
    const secret = 'hunter2-very-secret-value';

    it('catches a value split by a colour (SGR) sequence, and keeps the colours after the mark', () => {
      expect(redactEverySplit([secret], 'hunt\x1b[0mer2-very-secret-value\n')).toBe(
        `${M}\x1b[0m\n`,
      );
      expect(
        redactEverySplit([secret], '\x1b[1;31mhunt\x1b[0mer2\x1b[32m-very-secret-value\x1b[0m!'),
      ).toBe(`\x1b[1;31m${M}\x1b[0m\x1b[32m\x1b[0m!`);
    });

    it('catches a value split by other sequences, control strings and invisible characters', () => {
      const split = [
        'hun\x1b[2Kter2-very-secret-value', // CSI erase line
        'hun\x9b2Kter2-very-secret-value', // 8-bit CSI
        'hun\x1b]8;;https://x.test/\x1b\\ter2-very-secret-value', // OSC hyperlink, ST
        'hun\x1b]0;title\x07ter2-very-secret-value', // OSC title, BEL
        'hun\x1b(Bter2-very-secret-value', // character set
        'hun\x00ter2-very\x7f-secret\x07-value', // NUL, DEL, BEL
        'hun\u200bter2-very\u00ad-secret\u202e-value', // zero-width space, soft hyphen, bidi
      ];
      for (const text of split)
        expect(redactEverySplit([secret], `<${text}>`), text).toBe(`<${M}>`);
    });

    it('catches a value split by colours whole, whatever other values overlap it', () => {
      expect(redactEverySplit([secret, 'very-secret'], 'hunt\x1b[0mer2-very-secret-value.')).toBe(
        `${M}\x1b[0m.`,
      );
      // The lines of a file are values too: a colour in its first line does not cut it up.
      const file = 'first line\nsecond line\nthird line\n';
      expect(
        redactEverySplit([file], `cat: \x1b[1mfirst\x1b[0m line\nsecond line\nthird line\n`),
      ).toBe(`cat: \x1b[1m${M}\x1b[0m\n`);
    });

    it('catches the base64 and hex of a value split by colours', () => {
      const b64 = Buffer.from(secret).toString('base64');
      const hex = Buffer.from(secret).toString('hex');
      const text = `${b64.slice(0, 7)}\x1b[33m${b64.slice(7)} ${hex.slice(0, 9)}\x1b[0m${hex.slice(9)}`;
      expect(redactEverySplit([secret], text)).toBe(`${M}\x1b[33m ${M}\x1b[0m`);
    });

    it('still hides a value as it is inside a control string (a window title)', () => {
      expect(redactEverySplit([secret], `\x1b]0;${secret}\x07 done`)).toBe(`\x1b]0;${M}\x07 done`);
    });

    it('hides a value with an escape sequence in it, as it is and as a terminal shows it', () => {
      const value = 'ab\x1b[1mcdef';
      expect(redactionPatterns([value])).toContain('abcdef');
      expect(redactEverySplit([value], `1 ${value} 2 abcdef 3 ab\x1b[0mcd\x1b[0mef`)).toBe(
        `1 ${M}\x1b[1m 2 ${M} 3 ${M}\x1b[0m\x1b[0m`,
      );
    });

    it('streams colourful output at once and holds back only an unfinished sequence', () => {
      const r = createRedactor([secret]);
      expect(r.push('\x1b[32mok\x1b[0m\n')).toBe('\x1b[32mok\x1b[0m\n');
      expect(r.push('next \x1b[3')).toBe('next ');
      expect(r.push('1mred\x1b[0m\n')).toBe('\x1b[31mred\x1b[0m\n');
      expect(r.push('hunt\x1b[0m')).toBe('');
      expect(r.push('er2-very-secret-value.')).toBe(`${M}\x1b[0m.`);
      expect(r.flush()).toBe('');
    });

    it('does not hold a log back behind an unterminated control string', () => {
      const r = createRedactor([secret]);
      const out = r.push(`\x1b]0;${'x'.repeat(10_000)}`);
      expect(out.length).toBeGreaterThan(9000);
      expect(out + r.flush()).toBe(`\x1b]0;${'x'.repeat(10_000)}`);
    });

    // Raw ESC, C1 and sequence pieces: the parser sees every kind of cut-short, malformed and
    // nested sequence, split anywhere.
    const escAlphabet = fc.constantFrom(
      'a',
      'b',
      'c',
      '\n',
      '\x1b',
      '[',
      ']',
      '0',
      ';',
      'm',
      '\x07',
      '\\',
      '\x9b',
      '\x9c',
      '\x00',
      '\u200b',
      ' ',
    );
    const escCaseArb = fc
      .record({
        values: fc.array(fc.string({ unit: escAlphabet, minLength: 1, maxLength: 9 }), {
          minLength: 1,
          maxLength: 4,
        }),
        fillers: fc.array(fc.string({ unit: escAlphabet, maxLength: 6 }), { maxLength: 8 }),
        sizes: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 8 }),
      })
      .map(({ values, fillers, sizes }) => {
        const text = fillers.map((f, i) => f + (values[i % values.length] ?? '')).join('');
        return { values, text, sizes };
      });

    it(`gives the same output however text with escapes is chunked (${CHUNKING_RUNS} cases)`, () => {
      fc.assert(
        fc.property(escCaseArb, ({ values, text, sizes }) => {
          const whole = redact(values, text);
          expect(redactChunks(values, cut(text, sizes))).toBe(whole);
          expect(redactChunks(values, [...text])).toBe(whole);
        }),
        { numRuns: CHUNKING_RUNS },
      );
    });

    // Whole sequences spliced into values: what a terminal shows is the text without them.
    const SEQUENCES = [
      '\x1b[0m',
      '\x1b[1;32m',
      '\x9b2K',
      '\x1b]0;t\x07',
      '\x1b]8;;u\x1b\\',
      '\x00',
      '\u200b',
    ];
    const SEQUENCE = new RegExp(SEQUENCES.map((q) => q.replace(/[[\]\\]/g, '\\$&')).join('|'), 'g');
    const splicedArb = fc
      .record({
        values: fc.array(valueArb, { minLength: 1, maxLength: 4 }),
        cuts: fc.array(fc.tuple(fc.nat(), fc.nat(), fc.constantFrom(...SEQUENCES)), {
          maxLength: 12,
        }),
        fillers: fc.array(fc.string({ unit: alphabet, maxLength: 6 }), { maxLength: 8 }),
        sizes: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 8 }),
      })
      .map(({ values, cuts, fillers, sizes }) => {
        const printed = values.map((v) => [...v]);
        for (const [which, at, seq] of cuts) {
          const chars = printed[which % printed.length]!;
          const i = at % (chars.length + 1);
          chars.splice(i, 0, seq);
        }
        const text = fillers
          .map((f, i) => f + (printed[i % printed.length] ?? []).join(''))
          .join('');
        return { values, text, sizes };
      });

    it(`never lets a value through, as it is or as a terminal shows it (${CHUNKING_RUNS} cases)`, () => {
      fc.assert(
        fc.property(splicedArb, ({ values, text, sizes }) => {
          const out = redactChunks(values, cut(text, sizes));
          expect(redactChunks(values, [...text])).toBe(out);
          const shown = out.replace(SEQUENCE, '');
          for (const v of values) {
            if (v.length < 4 || !/[^\r\n]/.test(v)) continue;
            expect(out).not.toContain(v);
            expect(shown).not.toContain(v);
          }
        }),
        { numRuns: CHUNKING_RUNS },
      );
    });

    it('redacts 10 MB of colourful log through 1,000 values without a quadratic blow-up', () => {
      const values = Array.from(
        { length: 1000 },
        (_, i) => `secret-${i}-${(i * 7919).toString(36)}`,
      );
      const line =
        '\x1b[32mINFO\x1b[0m 2026-01-01T00:00:00Z worker processed item \x1b[1m123456\x1b[0m ok\n';
      const last = values[999]!;
      const text = `${line.repeat(Math.ceil(10e6 / line.length))}${last.slice(0, 5)}\x1b[0m${last.slice(5)}\n`;
      const started = performance.now();
      const out = redactChunks(values, cut(text, [1 << 16]));
      const elapsed = performance.now() - started;
      expect(out.endsWith(`${M}\x1b[0m\n`)).toBe(true);
      // A guard against quadratic blow-ups (minutes), not a benchmark.
      expect(elapsed).toBeLessThan(10_000);
    });
  });

  it('redacts a 1 MiB file secret printed in 64 KiB chunks', () => {
    const file = Array.from({ length: 16_384 }, (_, i) => `line ${i} ${'x'.repeat(i % 50)}`)
      .join('\n')
      .slice(0, 1 << 20);
    const text = `before\n${file}\nafter\n`;
    expect(redactChunks([file], cut(text, [1 << 16]))).toBe(`before\n${M}\nafter\n`);
  });

  it('redacts a 16,384-line file printed line by line after a prefix without a quadratic blow-up', () => {
    const lines = Array.from({ length: 16_384 }, (_, i) => `    "setting_${i}": "value-${i}",`);
    const text = lines.map((l) => `cat: ${l}\n`).join('');
    const started = performance.now();
    const out = redactChunks([lines.join('\n')], cut(text, [1 << 16]));
    const elapsed = performance.now() - started;
    expect(out).toBe(`cat:     ${M}\n`.repeat(lines.length));
    // A guard against quadratic blow-ups (minutes), not a benchmark: `npm run bench` measures.
    expect(elapsed).toBeLessThan(10_000);
  });

  it('stays exact when telling a long near miss from a match costs too much to refine', () => {
    const value = `${'a'.repeat(2000)}b`;
    const miss = `${'a'.repeat(1999)}c`;
    const text = `${miss.repeat(5)}${value}${miss}`;
    expect(redactChunks([value], cut(text, [500]))).toBe(`${miss.repeat(5)}${M}${miss}`);
  });

  it('redacts a 1 MiB file secret printed in 100-character chunks without a quadratic blow-up', () => {
    const file = Array.from({ length: 16_384 }, (_, i) => `${i} ${'y'.repeat(i % 100)}`)
      .join('\n')
      .slice(0, 1 << 20);
    const started = performance.now();
    const out = redactChunks([file], cut(`>${file}<`, [100]));
    const elapsed = performance.now() - started;
    expect(out).toBe(`>${M}<`);
    // A guard against quadratic blow-ups (minutes), not a benchmark: `npm run bench` measures.
    expect(elapsed).toBeLessThan(10_000);
  });

  it('redacts 10 MB of log through 1,000 values (6,000+ patterns) without a quadratic blow-up', () => {
    const values = Array.from({ length: 1000 }, (_, i) => `secret-${i}-${(i * 7919).toString(36)}`);
    const line = 'INFO 2026-01-01T00:00:00Z worker processed item 123456 with status=ok in 12ms\n';
    const text = `${line.repeat(Math.ceil(10e6 / line.length))}${values[999]}\n`;
    const chunks = cut(text, [1 << 16]);
    const started = performance.now();
    const out = redactChunks(values, chunks);
    const elapsed = performance.now() - started;
    expect(out.endsWith(`${M}\n`)).toBe(true);
    // A guard against quadratic blow-ups (minutes), not a benchmark: `npm run bench` measures.
    expect(elapsed).toBeLessThan(10_000);
  });
});
