/**
 * Where to go after signing in: `next` only if it names a page of this origin, parsed as a URL
 * against `origin` the way the browser will (never by string prefix: `/\\evil.test/` and
 * `//evil.test` start with `/` and lead off-site); anything else is `/`.
 *
 * @example
 * sameOriginPath('/orgs/acme?tab=jobs', 'https://hush.example'); // '/orgs/acme?tab=jobs'
 * sameOriginPath('/\\evil.test/', 'https://hush.example'); // '/'
 */
export function sameOriginPath(next: string | null | undefined, origin: string): string {
  if (!next) return '/';
  let url: URL;
  try {
    url = new URL(next, origin);
  } catch {
    return '/';
  }
  if (url.origin !== new URL(origin).origin) return '/';
  return `${url.pathname}${url.search}${url.hash}`;
}
