import fs from 'node:fs';
import path from 'node:path';

import fastifyStatic from '@fastify/static';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Where `npm run build` puts the console (console/ built by Vite); the same from src/ and dist/. */
export const CONSOLE_DIR = path.resolve(import.meta.dirname, '../../dist/console');

/** Whether a request URL (path and query) is under the REST API, which the console never answers. */
export function isApiPath(url: string): boolean {
  const pathname = url.split('?', 1)[0]!;
  return pathname === '/api' || pathname.startsWith('/api/');
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Hush — console not built</title></head>
<body><main><h1>The console is not built</h1>
<p>Run <code>npm run build</code> (or <code>npm start</code>, which builds first), then reload.
The REST API under <code>/api/v1</code> and the CLI work without it.</p></main></body></html>
`;

function sendPage(reply: FastifyReply, html: string) {
  return (
    reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header(
        'content-security-policy',
        "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
      )
      .header('x-frame-options', 'DENY')
      // The setup and invitation links carry one-time tokens in the query: never leak them.
      .header('referrer-policy', 'no-referrer')
      .send(html)
  );
}

/**
 * @fastify/send refuses some asset requests with an HTTP error (a directory such as `/assets/`,
 * a path it deems malicious, a NUL byte): the request names no asset, so it is the API's
 * ordinary 404. A failed precondition or an unsatisfiable range is the client's own condition
 * and gets its status and headers (Content-Range), no body. Anything else is a real failure
 * for the app's error handler (500, logged).
 */
function assetErrorHandler(error: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  const status = error.statusCode;
  if (status === 400 || status === 403 || status === 404) return reply.callNotFound();
  if (status === 412 || status === 416) {
    const headers = (error as { headers?: Record<string, string> }).headers ?? {};
    return reply.code(status).headers(headers).send();
  }
  throw error;
}

/**
 * Serves the web console at `/`: its hashed assets under /assets (cached for good; an unknown
 * asset is a 404) and index.html for every other GET outside /api, since the console routes
 * its pages itself (and shows its own "page not found"). The console is a client of /api/v1
 * like the CLI.
 */
export async function registerConsole(app: FastifyInstance, dir = CONSOLE_DIR): Promise<void> {
  const indexFile = path.join(dir, 'index.html');
  const html = fs.existsSync(indexFile) ? fs.readFileSync(indexFile, 'utf8') : NOT_BUILT;
  // The console's icon (console/public/favicon.svg); browsers also ask for /favicon.ico.
  const iconFile = path.join(dir, 'favicon.svg');
  const icon = fs.existsSync(iconFile) ? fs.readFileSync(iconFile) : undefined;
  for (const url of ['/favicon.svg', '/favicon.ico']) {
    app.get(url, (_request, reply) =>
      icon
        ? reply.type('image/svg+xml').header('cache-control', 'public, max-age=86400').send(icon)
        : reply.callNotFound(),
    );
  }
  app.get('/*', (request, reply) => {
    const pathname = request.url.split('?', 1)[0]!;
    if (isApiPath(pathname) || pathname === '/assets' || pathname.startsWith('/assets/'))
      return reply.callNotFound();
    return sendPage(reply, html);
  });
  const assets = path.join(dir, 'assets');
  if (fs.existsSync(assets)) {
    await app.register(async (scope) => {
      scope.setErrorHandler(assetErrorHandler);
      await scope.register(fastifyStatic, {
        root: assets,
        prefix: '/assets/',
        immutable: true,
        maxAge: '365d',
        index: false,
      });
    });
  }
}
