import fs from 'node:fs';
import path from 'node:path';

import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** Where `npm run build` puts the console (console/ built by Vite); the same from src/ and dist/. */
export const CONSOLE_DIR = path.resolve(import.meta.dirname, '../../dist/console');

/** The console's client-side pages; each answers with index.html and the app routes itself. */
const PAGES = ['/', '/signin', '/setup', '/accept', '/orgs/*'];

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
      .header('x-content-type-options', 'nosniff')
      // The setup and invitation links carry one-time tokens in the query: never leak them.
      .header('referrer-policy', 'no-referrer')
      .send(html)
  );
}

/**
 * Serves the web console at `/`: its hashed assets under /assets (cached for good) and
 * index.html for each client-side page. The console is a client of /api/v1 like the CLI.
 */
export async function registerConsole(app: FastifyInstance, dir = CONSOLE_DIR): Promise<void> {
  const indexFile = path.join(dir, 'index.html');
  const html = fs.existsSync(indexFile) ? fs.readFileSync(indexFile, 'utf8') : NOT_BUILT;
  for (const url of PAGES) app.get(url, (_request, reply) => sendPage(reply, html));
  const assets = path.join(dir, 'assets');
  if (fs.existsSync(assets)) {
    await app.register(fastifyStatic, {
      root: assets,
      prefix: '/assets/',
      immutable: true,
      maxAge: '365d',
      index: false,
    });
  }
}
