// The processes of `npm run soak`: a private PostgreSQL cluster, Hush nodes, HAProxy and the job
// collector, each on 127.0.0.1 and each started and stopped by the orchestrator (scripts/soak.ts).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import pg from 'pg';

import { freePort, startPrivateCluster } from '../test/helpers/private-cluster.js';

const HUSH_BIN = path.resolve('bin/hush.js');
const START_TIMEOUT_MS = 60_000;

export { freePort };

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface PgCluster {
  port: number;
  url: string;
  /** One query as the superuser on the Hush database; its rows. */
  query: <Row>(statement: string, values?: unknown[]) => Promise<Row[]>;
  stop(): Promise<void>;
}

/** A private cluster in `dir` (see test/helpers/private-cluster.ts) with database `hush`. */
export async function startPostgres(dir: string): Promise<PgCluster> {
  const cluster = await startPrivateCluster({ dir, settings: { max_connections: 200 } });
  await cluster.admin('create database hush');
  const url = cluster.url('hush');
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  return {
    port: cluster.port,
    url,
    query: async <Row>(statement: string, values: unknown[] = []) =>
      (await pool.query(statement, values)).rows as Row[],
    async stop() {
      await pool.end().catch(() => undefined);
      await cluster.stop();
    },
  };
}

/** Runs `node bin/hush.js ARGS` to its end; throws with its output when it fails. */
export function runHush(args: string[], env: Record<string, string>, stdin = ''): string {
  const r = spawnSync(process.execPath, [HUSH_BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    input: stdin,
    encoding: 'utf8',
    timeout: START_TIMEOUT_MS,
  });
  if (r.status !== 0) throw new Error(`hush ${args.join(' ')} failed: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** One `hush serve` or `hush worker` process, restartable on the same port and data directory. */
export interface HushNode {
  name: string;
  kind: 'serve' | 'worker';
  /** The node's own URL (serve nodes only). */
  url: string | null;
  dataDir: string;
  /** Starts the process; resolves once it says it serves (or runs jobs). */
  start(): Promise<void>;
  /** `kill -9`; resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs: number): Promise<void>;
  running(): boolean;
  /** The running process's id. */
  pid(): number | undefined;
  /** A worker's id as it printed it at its last start (`worker-…`), else null. */
  workerId(): string | null;
  /** How many times the process exited without being asked to (a crash). */
  crashes(): number;
}

/** A Hush node whose output goes to `logFile`; serve nodes listen on `port`. */
export function hushNode(opts: {
  name: string;
  kind: 'serve' | 'worker';
  port: number;
  dataDir: string;
  logFile: string;
  env: Record<string, string>;
}): HushNode {
  const { name, kind, port, dataDir } = opts;
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let expectingExit = false;
  let crashCount = 0;
  let workerId: string | null = null;
  const args =
    kind === 'serve'
      ? ['serve', '--port', String(port), '--data-dir', dataDir]
      : ['worker', '--data-dir', dataDir];
  const readyLine = kind === 'serve' ? /Hush is serving / : /Hush worker \S+ runs up to/;

  async function start(): Promise<void> {
    const log = fs.openSync(opts.logFile, 'a');
    fs.writeSync(log, `--- ${new Date().toISOString()} start ${name}\n`);
    expectingExit = false;
    const proc = spawn(process.execPath, [HUSH_BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...opts.env },
      stdio: ['ignore', 'pipe', log],
    });
    fs.closeSync(log);
    child = proc;
    exited = new Promise((resolve) =>
      proc.once('exit', () => {
        if (!expectingExit) crashCount++;
        if (child === proc) child = null;
        resolve();
      }),
    );
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${name} did not start within 60 s: ${out}`)),
        START_TIMEOUT_MS,
      );
      proc.stdout?.on('data', (d: Buffer) => {
        fs.appendFileSync(opts.logFile, d);
        if (out.length < 10_000) out += d.toString();
        if (readyLine.test(out)) {
          workerId = /Hush worker (\S+) runs/.exec(out)?.[1] ?? null;
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited at start (${code ?? signal ?? ''}); see ${opts.logFile}`));
      });
    });
  }

  async function stopWith(signal: NodeJS.Signals, graceMs: number): Promise<void> {
    const proc = child;
    if (!proc) return;
    expectingExit = true;
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  return {
    name,
    kind,
    url: kind === 'serve' ? `http://127.0.0.1:${port}` : null,
    dataDir,
    start,
    kill: () => stopWith('SIGKILL', 0),
    stop: (graceMs) => stopWith('SIGTERM', graceMs),
    running: () => child !== null,
    pid: () => child?.pid,
    workerId: () => workerId,
    crashes: () => crashCount,
  };
}

/**
 * The HAProxy configuration the soak runs, a starting point for operators: round robin over the
 * serve nodes, each checked on `GET /readyz` every 500 ms (down after 2 failures, up after 1
 * success); a request whose connection fails is retried (twice) on another node. Only connection
 * failures are retried, so a POST that reached a node is never sent twice.
 */
export function haproxyConfig(opts: {
  port: number;
  servers: { name: string; port: number }[];
  statsSocket: string;
}): string {
  const servers = opts.servers.map((s) => `  server ${s.name} 127.0.0.1:${s.port}`).join('\n');
  return `global
  maxconn 2000
  stats socket ${opts.statsSocket} mode 600 level user

defaults
  mode http
  timeout connect 2s
  # Above the 120 s a runtime read may long-poll (hush run --watch).
  timeout client 130s
  timeout server 130s
  timeout http-request 10s
  timeout queue 10s
  timeout check 2s
  retries 2
  retry-on conn-failure
  option redispatch

frontend hush
  bind 127.0.0.1:${opts.port}
  option forwardfor
  default_backend hush_nodes

backend hush_nodes
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server check inter 500ms fall 2 rise 1
${servers}
`;
}

export interface Haproxy {
  url: string;
  /** The backend's counters per server (`show stat`): retries, redispatches, errors. */
  stats(): Promise<Record<string, string>[]>;
  stop(): Promise<void>;
}

/** Starts `haproxy -db -f CFG` in the foreground; resolves once its frontend answers /readyz. */
export async function startHaproxy(
  dir: string,
  servers: { name: string; port: number }[],
  logFile: string,
): Promise<Haproxy> {
  const port = await freePort();
  const statsSocket = path.join(dir, 'haproxy.sock');
  const cfg = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(cfg, haproxyConfig({ port, servers, statsSocket }));
  const check = spawnSync('/usr/sbin/haproxy', ['-c', '-q', '-f', cfg], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`haproxy -c: ${check.stdout}${check.stderr}`);
  const log = fs.openSync(logFile, 'a');
  const proc = spawn('/usr/sbin/haproxy', ['-db', '-f', cfg], { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const ok = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) })
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (proc.exitCode !== null || Date.now() > deadline)
      throw new Error(`haproxy did not become ready; see ${logFile}`);
    await sleep(200);
  }
  return {
    url,
    stats: () => showStat(statsSocket),
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}

/** `show stat` over the stats socket, as one record per line of its CSV. */
function showStat(socket: string): Promise<Record<string, string>[]> {
  return new Promise((resolve, reject) => {
    let text = '';
    const conn = net.connect(socket, () => conn.write('show stat\n'));
    conn.setTimeout(5000, () => conn.destroy(new Error('haproxy stats socket timed out')));
    conn.on('data', (d: Buffer) => (text += d.toString()));
    conn.on('error', reject);
    conn.on('end', () => {
      const [header = '', ...lines] = text.trim().split('\n');
      const names = header.replace(/^# /, '').split(',');
      resolve(
        lines.map((line) => {
          const cells = line.split(',');
          return Object.fromEntries(names.map((n, i) => [n, cells[i] ?? '']));
        }),
      );
    });
  });
}

export interface Collector {
  port: number;
  file: string;
  close(): Promise<void>;
}

/**
 * A TCP server on loopback to which every soak job sends its `$HUSH_JOB_ID`: each connection's
 * text is appended to `file` as one line, outside Hush and outside the sandbox.
 */
export async function startCollector(file: string): Promise<Collector> {
  fs.writeFileSync(file, '');
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    let text = '';
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on('data', (d: Buffer) => {
      if (text.length < 1000) text += d.toString();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      const id = text.trim();
      if (id) fs.appendFileSync(file, `${id}\n`);
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
  return {
    port,
    file,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
