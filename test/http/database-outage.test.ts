import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CLI_OWNER, runHush, spawnServer } from '../helpers/cli.js';
import { DIALECTS, tempDir } from '../helpers/databases.js';
import { type PrivateCluster, startPrivateCluster } from '../helpers/private-cluster.js';

type Server = Awaited<ReturnType<typeof spawnServer>>;

interface Answer {
  status: number;
  code?: string;
  retryAfter: string | null;
  text: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const O = `/api/v1/orgs/${CLI_OWNER.org}`;
// A V8 stack frame, as a 500 that leaked its error would show it.
const STACK = /at .*\.js:\d+|"stack"/;

/** One request to a real server; a refused connection is status 0 (the server died). */
async function call(url: string, method: string, route: string, token?: string, body?: unknown) {
  try {
    const r = await fetch(`${url}${route}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : null,
    });
    const text = await r.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const code = (json as { error?: { code?: string } } | undefined)?.error?.code;
    return { status: r.status, code, retryAfter: r.headers.get('retry-after'), text, json };
  } catch (error) {
    return { status: 0, retryAfter: null, text: String(error), json: undefined, code: undefined };
  }
}

/** Bootstraps the Owner offline with `env`, starts `hush serve`, signs in, creates `maps`. */
async function serveWithOwner(env: Record<string, string>) {
  const boot = await runHush(
    ['admin', 'bootstrap', '--email', CLI_OWNER.email, '--org', CLI_OWNER.org, '--password-stdin'],
    { env, stdin: `${CLI_OWNER.password}\n` },
  );
  if (boot.code !== 0) throw new Error(`bootstrap failed: ${boot.stderr}`);
  const server = await spawnServer(env);
  const login = await call(server.url, 'POST', '/api/v1/auth/login', undefined, {
    email: CLI_OWNER.email,
    password: CLI_OWNER.password,
  });
  const token = (login.json as { token: string }).token;
  const project = await call(server.url, 'POST', `${O}/projects`, token, { slug: 'maps' });
  if (project.status !== 201) throw new Error(`project create: ${project.text}`);
  return { server, token };
}

/** Adds env secret `name` to project `maps`. */
const addSecret = (url: string, token: string, name: string, value = 'v') =>
  call(url, 'POST', `${O}/secrets`, token, {
    project: 'maps',
    secret: { kind: 'env', name, value },
  });

async function secretNames(url: string, token: string): Promise<string[]> {
  const r = await call(url, 'GET', `${O}/secrets?project=maps`, token);
  expect(r.status, r.text).toBe(200);
  return (r.json as { name: string }[]).map((s) => s.name);
}

/**
 * Writers adding secrets as fast as they are answered (50 ms apart after a refusal), each at
 * most `max` times, until `stop()`: every answer with when its request was sent.
 */
function startWriters(url: string, token: string, writers: number, max: number) {
  const answers: (Answer & { name: string; sent: number })[] = [];
  let writing = true;
  const running = Array.from({ length: writers }, async (_, w) => {
    for (let i = 0; writing && i < max; i++) {
      const name = `W_${w}_${i}`;
      const sent = Date.now();
      const a = await addSecret(url, token, name);
      answers.push({ ...a, name, sent });
      await sleep(a.status === 201 ? 5 : 50);
    }
  });
  const acked = () => answers.filter((a) => a.status === 201).map((a) => a.name);
  return {
    answers,
    acked,
    /** Resolves once a write sent after `since` is acknowledged; throws after `ms`. */
    async ackedAfter(since: number, ms: number): Promise<number> {
      const deadline = Date.now() + ms;
      for (;;) {
        const first = answers.find((a) => a.sent >= since && a.status === 201);
        if (first) return first.sent - since;
        if (Date.now() > deadline) throw new Error(`no write acknowledged within ${ms} ms`);
        await sleep(50);
      }
    },
    async stop(): Promise<void> {
      writing = false;
      await Promise.all(running);
    },
  };
}

async function waitFor<T>(
  what: string,
  ms: number,
  probe: () => T | null | Promise<T | null>,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(200);
  }
}

const databaseCheck = (json: unknown) =>
  (json as { checks: { check: string; ok: boolean; reason?: string }[] }).checks.find(
    (c) => c.check === 'database',
  );

// PostgreSQL itself stops (pg_ctl stop -m fast) under a real hush serve taking writes, stays down,
// and starts again: the node answers 503 DATABASE_UNAVAILABLE meanwhile, never a 500, and serves
// and runs jobs again afterwards by itself, having lost no acknowledged write.
describe.runIf(DIALECTS.includes('postgres'))('PostgreSQL stopped and started under load', () => {
  let cluster: PrivateCluster;
  let server: Server | undefined;

  beforeAll(async () => {
    cluster = await startPrivateCluster();
    await cluster.admin('create database hush');
  }, 60_000);
  afterAll(async () => {
    try {
      await server?.stop();
    } finally {
      await cluster?.stop();
    }
  });

  it('answers 503 while it is down and recovers without a restart, losing no write', async () => {
    const started = await serveWithOwner({
      HUSH_DATA_DIR: tempDir(),
      HUSH_DATABASE_URL: cluster.url('hush'),
      HUSH_WORKERS: '2',
    });
    server = started.server;
    const { url } = server;
    const { token } = started;
    // Ready, the sandbox included: a job triggered after the outage can run.
    await waitFor('readiness', 60_000, async () =>
      (await call(url, 'GET', '/readyz')).status === 200 ? true : null,
    );
    const writes = startWriters(url, token, 3, 3000);
    await waitFor('20 writes', 15_000, () => (writes.acked().length >= 20 ? true : null));

    await cluster.halt();
    const down = Date.now();
    const probes: { ready: Answer & { json: unknown }; health: number }[] = [];
    while (Date.now() - down < 15_000) {
      probes.push({
        ready: await call(url, 'GET', '/readyz'),
        health: (await call(url, 'GET', '/healthz')).status,
      });
      expect(server.child.exitCode, server.output()).toBeNull();
      await sleep(1000);
    }
    const up = Date.now();
    await cluster.resume();
    const resumed = Date.now();

    const during = writes.answers.filter((a) => a.sent >= down && a.sent < up);
    expect(during.length).toBeGreaterThan(50);
    expect(during.filter((a) => a.status !== 503 || a.code !== 'DATABASE_UNAVAILABLE')).toEqual([]);
    expect(during.every((a) => a.retryAfter === '5')).toBe(true);
    expect(probes.length).toBeGreaterThanOrEqual(10);
    for (const { ready, health } of probes) {
      expect(health).toBe(200);
      expect(ready.status).toBe(503);
      expect(databaseCheck(ready.json)).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/^postgres unreachable/) as unknown,
      });
    }

    const recoveredIn = await writes.ackedAfter(resumed, 20_000);
    await waitFor('readiness after the outage', 20_000, async () =>
      (await call(url, 'GET', '/readyz')).status === 200 ? true : null,
    );
    const before = writes.acked().length;
    await waitFor('20 more writes', 15_000, () =>
      writes.acked().length >= before + 20 ? true : null,
    );
    await writes.stop();

    const job = await call(url, 'POST', `${O}/jobs`, token, {
      project: 'maps',
      command: ['sh', '-c', 'echo after the outage'],
    });
    expect(job.status, job.text).toBe(201);
    const id = (job.json as { id: string }).id;
    const finished = await waitFor('the job to finish', 60_000, async () => {
      const r = await call(url, 'GET', `${O}/jobs/${id}`, token);
      const status = (r.json as { status?: string }).status;
      return status && !['queued', 'running'].includes(status) ? status : null;
    });
    expect(finished).toBe('succeeded');

    expect(server.child.exitCode).toBeNull();
    const all = writes.answers;
    expect(all.filter((a) => a.status !== 201 && a.status !== 503)).toEqual([]);
    expect(all.filter((a) => STACK.test(a.text))).toEqual([]);
    expect(server.output()).not.toMatch(/unexpected error|unhandled|uncaught/i);
    const names = new Set(await secretNames(url, token));
    expect(writes.acked().filter((n) => !names.has(n))).toEqual([]);
    const verify = await call(url, 'GET', `${O}/audit/verify`, token);
    expect(verify.json).toMatchObject({ ok: true });
    console.log(
      `postgres outage: ${during.length} writes refused in ${up - down} ms, first write ` +
        `acknowledged ${recoveredIn} ms after pg_ctl start, ${writes.acked().length} acknowledged`,
    );
  }, 110_000);
});

// SQLite on a real filesystem that fills up (a small tmpfs), not a page limit: a write that does
// not fit is 507 STORAGE_FULL and rolled back whole, reads go on, the file stays intact, and
// writes succeed again once there is room, all without a restart.
describe.runIf(DIALECTS.includes('sqlite'))('SQLite on a full disk', () => {
  let mountDir = '';
  let mounted: string | null = null;
  let server: Server | undefined;

  beforeAll(() => {
    mountDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hush-full-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0700', 'tmpfs', mountDir], {
        stdio: 'pipe',
      });
      mounted = mountDir;
    } catch (error) {
      // Root can mount one here and in CI: there a refusal is a failure, not a skip.
      if (process.getuid?.() === 0) throw error;
      console.warn(`cannot mount a tmpfs (${String(error)}): skipping the full-disk test`);
    }
  });
  afterAll(async () => {
    try {
      await server?.stop();
    } finally {
      if (mounted) execFileSync('umount', ['-l', mounted]);
      if (mountDir) fs.rmSync(mountDir, { recursive: true, force: true });
    }
  });

  it('answers 507 when the disk is full, keeps reading, and writes again once there is room', async (ctx) => {
    if (!mounted) ctx.skip('not root: cannot mount a tmpfs (max_page_count covers SQLITE_FULL)');
    const dataDir = path.join(mountDir, 'data');
    const started = await serveWithOwner({ HUSH_DATA_DIR: dataDir, HUSH_WORKERS: '0' });
    server = started.server;
    const { url } = server;
    const { token } = started;
    const acked: string[] = [];
    const write = async (name: string) => {
      const r = await addSecret(url, token, name, 'x'.repeat(4000));
      if (r.status === 201) acked.push(name);
      return r;
    };
    for (let i = 0; i < 10; i++) expect((await write(`BEFORE_${i}`)).status).toBe(201);

    // Leave 256 KiB: a few writes fit, then the WAL cannot grow.
    const filler = path.join(mountDir, 'filler');
    const { bavail, bsize } = fs.statfsSync(mountDir);
    fs.writeFileSync(filler, Buffer.alloc(Math.max(0, bavail * bsize - 256 * 1024)));
    const refused: (Answer & { name: string })[] = [];
    for (let i = 0; i < 300 && refused.length < 5; i++) {
      const r = await write(`FILL_${i}`);
      if (r.status !== 201) refused.push({ ...r, name: `FILL_${i}` });
    }
    expect(refused.length, 'no write was refused with the disk full').toBe(5);
    for (const r of refused) {
      expect(r.status, r.text).toBe(507);
      expect(r.code).toBe('STORAGE_FULL');
      expect(r.text).not.toMatch(STACK);
    }
    // Reads go on, and hold every acknowledged write and nothing of a refused one.
    const whileFull = new Set(await secretNames(url, token));
    expect(acked.filter((n) => !whileFull.has(n))).toEqual([]);
    expect(refused.filter((r) => whileFull.has(r.name))).toEqual([]);
    expect((await call(url, 'GET', '/healthz')).status).toBe(200);
    const integrity = () => {
      const db = new Database(path.join(dataDir, 'hush.db'), { readonly: true });
      try {
        return db.pragma('integrity_check', { simple: true }) as string;
      } finally {
        db.close();
      }
    };
    expect(integrity()).toBe('ok');

    fs.rmSync(filler);
    for (let i = 0; i < 10; i++) {
      const r = await write(`AFTER_${i}`);
      expect(r.status, r.text).toBe(201);
    }
    const names = new Set(await secretNames(url, token));
    expect(acked.filter((n) => !names.has(n))).toEqual([]);
    const verify = await call(url, 'GET', `${O}/audit/verify`, token);
    expect(verify.json).toMatchObject({ ok: true });
    expect(server.child.exitCode).toBeNull();
    expect(server.output()).not.toMatch(/unexpected error|unhandled|uncaught/i);
    await server.stop();
    expect(integrity()).toBe('ok');
    console.log(
      `sqlite full disk: ${acked.length} acknowledged, first refusal ${refused[0]?.code}`,
    );
  }, 60_000);
});
