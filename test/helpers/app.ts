import { Writable } from 'node:stream';

import type { FastifyInstance } from 'fastify';

import { type App, createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { buildServer } from '../../src/http/server.js';
import { createWorkerPool } from '../../src/jobs/worker.js';
import { createLogger } from '../../src/logger.js';
import { freshDatabase, type TestDialect } from './databases.js';
import { track } from './resources.js';

export interface CallResult {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
  headers: Record<string, unknown>;
}

/** A real Hush app (real database, real key file) with its Fastify server, not listening. */
export interface TestServer {
  dialect: TestDialect;
  app: App;
  server: FastifyInstance;
  dataDir: string;
  databaseUrl: string | undefined;
  /** Every line the server logged. */
  logs: string[];
  /** Every response body sent to a client. */
  responses: string[];
  call(
    method: string,
    url: string,
    opts?: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> },
  ): Promise<CallResult>;
  close(): Promise<void>;
}

export async function startTestServer(
  dialect: TestDialect,
  env: Record<string, string> = {},
  opts: { workers?: number } = {},
): Promise<TestServer> {
  const { dataDir, databaseUrl } = await freshDatabase(dialect);
  // Debug: request lines are logged too, so the tests that search the log for leaks see them.
  const config = loadConfig({ dataDir, databaseUrl, logLevel: 'debug' }, env);
  const app = await createApp(config);
  const logs: string[] = [];
  const responses: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger('debug', sink);
  const server = await buildServer(config, { services: app.services, logger });
  const pool = opts.workers
    ? createWorkerPool({
        database: app.database,
        audit: app.services.audit,
        resolve: app.services.resolve,
        sandbox: app.services.sandbox,
        dataDir,
        concurrency: opts.workers,
        logger,
      })
    : null;
  if (pool) {
    await pool.start();
    app.onJobQueued(pool.wake);
  }
  const handle = track(`test server (${dialect})`, async () => {
    await server.close();
    await pool?.stop();
    await app.close();
  });
  return {
    dialect,
    app,
    server,
    dataDir,
    databaseUrl,
    logs,
    responses,
    async call(method, url, opts = {}) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      let payload: string | undefined;
      if (opts.rawBody !== undefined) {
        payload = opts.rawBody;
        headers['content-type'] ??= 'application/json';
      } else if (opts.body !== undefined) {
        payload = JSON.stringify(opts.body);
        headers['content-type'] = 'application/json';
      }
      const res = await server.inject({ method: method as 'GET', url, headers, payload });
      responses.push(res.body);
      let body: unknown;
      try {
        body = res.body ? JSON.parse(res.body) : undefined;
      } catch {
        body = undefined;
      }
      return { status: res.statusCode, body, text: res.body, headers: res.headers };
    },
    close: () => handle.close(),
  };
}

export const OWNER = { email: 'owner@example.com', password: 'correct horse battery', org: 'acme' };

/** Bootstraps the first Owner and signs in; returns the session token. */
export async function bootstrapOwner(t: TestServer): Promise<string> {
  await t.app.services.setup.bootstrap({ actor: { kind: 'system' }, tool: 'cli', ip: null }, OWNER);
  return login(t, OWNER.email, OWNER.password);
}

/** Signs in through REST; returns the session token. */
export async function login(t: TestServer, email: string, password: string): Promise<string> {
  const res = await t.call('POST', '/api/v1/auth/login', { body: { email, password } });
  if (res.status !== 200) throw new Error(`login failed: ${res.text}`);
  return (res.body as { token: string }).token;
}

/** Invites a member with a role and accepts; returns the member's session token. */
export async function addMember(
  t: TestServer,
  ownerToken: string,
  email: string,
  role: string,
  org = OWNER.org,
): Promise<string> {
  const inv = await t.call('POST', `/api/v1/orgs/${org}/invitations`, {
    token: ownerToken,
    body: { email, role },
  });
  if (inv.status !== 201) throw new Error(`invite failed: ${inv.text}`);
  const acc = await t.call('POST', '/api/v1/invitations/accept', {
    body: { token: (inv.body as { token: string }).token, password: 'member password 1' },
  });
  if (acc.status !== 201) throw new Error(`accept failed: ${acc.text}`);
  return (acc.body as { token: string }).token;
}

/** Polls a job until it finishes; returns it. */
export async function waitForJob(
  t: TestServer,
  token: string,
  id: string,
  org = OWNER.org,
  timeoutMs = 20_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await t.call('GET', `/api/v1/orgs/${org}/jobs/${id}`, { token });
    if (['succeeded', 'failed', 'cancelled', 'timed_out'].includes(res.body.status))
      return res.body;
    if (Date.now() > deadline) throw new Error(`job ${id} did not finish: ${res.text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The whole stored log of a job as text. */
export async function jobLog(
  t: TestServer,
  token: string,
  id: string,
  org = OWNER.org,
): Promise<string> {
  const res = await t.call('GET', `/api/v1/orgs/${org}/jobs/${id}/logs`, { token });
  return (res.body.lines as { text: string }[]).map((l) => l.text).join('');
}
