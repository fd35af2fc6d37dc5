import { describe, expect, it } from 'vitest';

import { sameOriginPath } from '../../console/src/next-path.js';

// The sign-in page's `next`: once a string-prefix check, which `/\evil.test/` passed (a browser
// reads the backslash as a slash: `//evil.test/`, another site).
describe('where the console goes after signing in', () => {
  const origin = 'https://hush.example';

  it('keeps a path of this origin, with its query and fragment', () => {
    expect(sameOriginPath('/orgs/acme/jobs?status=failed#top', origin)).toBe(
      '/orgs/acme/jobs?status=failed#top',
    );
    expect(sameOriginPath('/orgs/acme/../acme/secrets', origin)).toBe('/orgs/acme/secrets');
    expect(sameOriginPath(`${origin}/orgs/acme`, origin)).toBe('/orgs/acme');
  });

  it.each([
    ['/\\evil.test/'],
    ['//evil.test/'],
    ['/\\/evil.test'],
    ['\\\\evil.test'],
    ['https://evil.test/orgs'],
    ['http://hush.example/orgs'],
    ['javascript:alert(1)'],
    ['  //evil.test'],
    ['/\t/evil.test'],
  ])('sends %j home instead', (next) => {
    expect(sameOriginPath(next, origin)).toBe('/');
  });

  it('sends an empty or missing next home', () => {
    expect(sameOriginPath('', origin)).toBe('/');
    expect(sameOriginPath(null, origin)).toBe('/');
    expect(sameOriginPath(undefined, origin)).toBe('/');
  });
});
