// `npm run soak [-- --minutes N] [--keep]`: three `hush serve` nodes and two `hush worker`s on one
// private PostgreSQL cluster behind HAProxy, a load driver (soak-load.ts, its own process) for N
// minutes (default 3), one node killed with SIGKILL and restarted every 20 s, then the checks of
// soak-checks.ts. Exits 0 only when every check holds. Everything listens on 127.0.0.1 and goes
// at the end, on failure or Ctrl-C too (--keep leaves the temporary directory with the logs).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import {
  type Api,
  checkAudit,
  checkCacheAcrossNodes,
  checkJobDirs,
  checkJobs,
  checkWrites,
  type LoadConfig,
  type LoadSummary,
  quantile,
  type Verdict,
} from './soak-checks.js';
import {
  freePort,
  type HushNode,
  hushNode,
  runHush,
  sleep,
  startCollector,
  startHaproxy,
  startPostgres,
} from './soak-cluster.js';

const KILL_EVERY_MS = 20_000;
const KILL_ORDER = ['serve-1', 'worker-1', 'serve-2', 'worker-2', 'serve-3'];
// A job of a worker killed under it fails once its heartbeat is 20 s old, at the next reap (5 s).
const SETTLE_MS = 120_000;
const OWNER = { email: 'soak@example.com', password: 'soak harness password' };
const ORGS = ['soak', 'soak-two'];

const cleanups: (() => unknown)[] = [];
let tearingDown: Promise<void> | null = null;

/** Runs every cleanup once, newest first, whatever each of them throws. */
function teardown(): Promise<void> {
  tearingDown ??= (async () => {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        process.stderr.write(`soak: cleanup: ${(error as Error).message}\n`);
      }
    }
  })();
  return tearingDown;
}

for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.once(signal, () => {
    process.stdout.write(`\nsoak: ${signal}: tearing down\n`);
    void teardown().then(() => process.exit(code));
  });
}

const t0 = Date.now();
const say = (line: string) => {
  const s = Math.floor((Date.now() - t0) / 1000);
  process.stdout.write(
    `[${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}] ${line}\n`,
  );
};

const api: Api = async (url, method, pathname, auth, body) => {
  const r = await fetch(`${url}${pathname}`, {
    method,
    headers: {
      ...(auth ? { authorization: `Bearer ${auth}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${pathname} on ${url}: ${r.status} ${text.slice(0, 300)}`);
  return text ? (JSON.parse(text) as unknown) : null;
};

function parseMinutes(): { minutes: number; keep: boolean } {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '3' },
      keep: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const minutes = Number(values.minutes);
  if (!Number.isFinite(minutes) || minutes <= 0 || minutes > 24 * 60)
    throw new Error(`--minutes: ${values.minutes} is not a number of minutes between 0 and 1440`);
  return { minutes, keep: values.keep };
}

/** Two organizations, each with a project, an environment, the collector's service and a token. */
async function provision(url: string, collectorPort: number) {
  const { token: session } = (await api(url, 'POST', '/api/v1/auth/login', '', OWNER)) as {
    token: string;
  };
  const orgs: LoadConfig['orgs'] = [];
  let probeId = '';
  // The sandbox lets a job write nothing outside itself: it reports its id over TCP instead.
  const command = `bash -c 'sleep 1; echo "$HUSH_JOB_ID" > /dev/tcp/127.0.0.1/${collectorPort}'`;
  for (const slug of ORGS) {
    if (slug !== ORGS[0]) await api(url, 'POST', '/api/v1/orgs', session, { slug });
    const o = `/api/v1/orgs/${slug}`;
    await api(url, 'POST', `${o}/projects`, session, { slug: 'app' });
    await api(url, 'POST', `${o}/projects/app/environments`, session, {
      slug: 'prod',
      type: 'production',
    });
    await api(url, 'POST', `${o}/projects/app/services`, session, {
      name: 'tick',
      environment: 'prod',
      command,
      timeout: 60,
    });
    const { token } = (await api(url, 'POST', `${o}/tokens`, session, {
      name: 'soak-load',
      role: 'devops',
    })) as { token: string };
    orgs.push({ slug, token, project: 'app', env: 'prod', service: 'tick' });
    const [probe] = (await api(url, 'POST', `${o}/secrets`, session, {
      project: 'app',
      env: 'prod',
      secret: { kind: 'env', name: 'SOAK_PROBE', value: 'probe-0' },
    })) as { id: string }[];
    if (slug === ORGS[0]) probeId = probe?.id ?? '';
  }
  return { session, orgs, probeId };
}

/** Starts the load driver as a process of its own; resolves with its exit code. */
function startLoad(
  configFile: string,
  logFile: string,
): { child: ChildProcess; done: Promise<number> } {
  const log = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/soak-load.ts', configFile], {
    stdio: ['pipe', log, log],
  });
  fs.closeSync(log);
  const done = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await done;
  });
  return { child, done };
}

/** Kills one node after another every 20 s while the load runs, each restarted at once. */
async function killLoop(
  nodes: Map<string, HushNode>,
  load: { child: ChildProcess; done: Promise<number> },
  startAt: number,
  endAt: number,
): Promise<{ kills: number; restartMs: number[]; problems: string[] }> {
  let finished = false;
  void load.done.then(() => (finished = true));
  const problems: string[] = [];
  const restartMs: number[] = [];
  const tell = (event: object) => load.child.stdin?.write(`${JSON.stringify(event)}\n`);
  let k = 0;
  for (; ; k++) {
    const at = startAt + KILL_EVERY_MS * (k + 1);
    // The last kill leaves the node time to come back before the load ends.
    if (at > endAt - 10_000) break;
    while (!finished && Date.now() < at) await sleep(Math.min(500, at - Date.now()));
    if (finished) break;
    const node = nodes.get(KILL_ORDER[k % KILL_ORDER.length] ?? '');
    if (!node) break;
    tell({ event: 'kill', node: node.name, at: Date.now() });
    await node.kill();
    const killedAt = Date.now();
    try {
      await node.start();
      tell({ event: 'ready', node: node.name, at: Date.now() });
      restartMs.push(Date.now() - killedAt);
      say(`kill -9 ${node.name}: back in ${((Date.now() - killedAt) / 1000).toFixed(1)} s`);
    } catch (error) {
      problems.push(`${node.name} did not restart: ${(error as Error).message}`);
      say(`kill -9 ${node.name}: DID NOT RESTART`);
    }
  }
  load.child.stdin?.end();
  return { kills: k, restartMs, problems };
}

/**
 * A worker that misses its heartbeats (here: SIGSTOP for longer than the reaper waits) finds its
 * job failed by another worker's reaper when it wakes; that end must stand, not a second one.
 */
async function pauseWorker(
  node: HushNode,
  query: <Row>(s: string, v?: unknown[]) => Promise<Row[]>,
  trigger: () => Promise<unknown>,
): Promise<Verdict> {
  const name = 'a paused worker does not end its reaped job again';
  const pid = node.pid();
  const workerId = node.workerId();
  if (!pid || !workerId) return { name, ok: false, detail: `${node.name} is not running` };
  let jobId: string | undefined;
  for (let attempt = 0; attempt < 20 && !jobId; attempt++) {
    await Promise.all([trigger(), trigger(), trigger(), trigger()]);
    for (let i = 0; i < 50 && !jobId; i++) {
      const [row] = await query<{ id: string }>(
        // Once its process runs, the worker is in no transaction: a worker stopped inside one
        // would hold the organization's audit head lock and stall every other node's writes.
        `select id from jobs where status = 'running' and worker_id = $1
           and process_started_at is not null limit 1`,
        [workerId],
      );
      jobId = row?.id;
      if (jobId) process.kill(pid, 'SIGSTOP');
      else await sleep(50);
    }
  }
  if (!jobId) return { name, ok: false, detail: `no job ran on ${node.name} to pause it under` };
  say(`SIGSTOP ${node.name} while it runs job ${jobId}; SIGCONT once the reaper failed it`);
  // The reaper fails a job whose heartbeat is 20 s old, at its next round (every 5 s).
  let reaped: { status: string } | undefined;
  for (let i = 0; i < 90 && (!reaped || reaped.status === 'running'); i++) {
    await sleep(1000);
    [reaped] = await query<{ status: string }>('select status from jobs where id = $1', [jobId]);
  }
  process.kill(pid, 'SIGCONT');
  await sleep(5000);
  const [after] = await query<{ status: string; error: string | null }>(
    'select status, error from jobs where id = $1',
    [jobId],
  );
  const ok = reaped?.status === 'failed' && after?.status === 'failed';
  return {
    name,
    ok,
    detail: ok
      ? `job ${jobId} was failed by the reaper during the pause and stayed so after SIGCONT`
      : `job ${jobId}: ${reaped?.status ?? '?'} during the pause, then ${after?.status ?? '?'} (${after?.error ?? ''})`,
  };
}

/** Waits (bounded) until no job is queued or running. */
async function settleJobs(query: <Row>(s: string) => Promise<Row[]>): Promise<number> {
  const start = Date.now();
  for (;;) {
    const [row] = await query<{ n: string }>(
      "select count(*) as n from jobs where status in ('queued', 'running')",
    );
    const open = Number(row?.n ?? 0);
    if (open === 0 || Date.now() - start > SETTLE_MS) return open;
    await sleep(1000);
  }
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function report(
  summary: LoadSummary,
  statuses: Record<string, number>,
  proxy: Record<string, string>[],
  restartMs: number[],
) {
  const reads = summary.requests['runtime-read']?.ok ?? 0;
  const writes =
    (summary.requests['secret-add']?.ok ?? 0) + (summary.requests['secret-rotate']?.ok ?? 0);
  const jobs = Object.values(statuses).reduce((a, b) => a + b, 0);
  const seconds = (summary.endedAt - summary.startedAt) / 1000;
  const ended = Object.entries(statuses)
    .map(([s, n]) => `${n} ${s}`)
    .join(', ');
  const sorted = [...restartMs].sort((a, b) => a - b);
  const back = (p: number) => (quantile(sorted, p) / 1000).toFixed(1);
  process.stdout.write(
    `\nLoad: ${seconds.toFixed(0)} s; ${reads} runtime reads (${(reads / seconds).toFixed(1)}/s), ` +
      `${writes} secret writes (${(writes / seconds).toFixed(1)}/s), ${jobs} jobs (${ended}); ` +
      `${summary.kills.length} nodes killed, back in ${back(0.5)} s (median), ${back(1)} s (slowest)\n\n`,
  );
  const rows = [['request', 'ok', 'failed', 'p50 ms', 'p99 ms', 'max ms']];
  for (const [kind, c] of Object.entries(summary.requests).sort()) {
    const l = summary.latencyMs[kind];
    rows.push([
      kind,
      String(c.ok),
      String(c.failed),
      l ? l.p50.toFixed(1) : '-',
      l ? l.p99.toFixed(1) : '-',
      l ? l.max.toFixed(0) : '-',
    ]);
  }
  process.stdout.write(`${table(rows)}\n\n`);
  const causes = Object.entries(summary.failuresByCause);
  if (causes.length > 0) {
    const failureRows = [['failed request: cause', 'after a kill', 'other']];
    for (const [cause, n] of causes) failureRows.push([cause, String(n.nearKill), String(n.other)]);
    process.stdout.write(`${table(failureRows)}\n\n`);
  } else process.stdout.write('No request failed.\n\n');
  const backend = proxy.filter((s) => s.pxname === 'hush_nodes');
  if (backend.length > 0) {
    const proxyRows = [
      [
        'haproxy',
        'sessions',
        'retries',
        'redispatches',
        '5xx',
        'conn errors',
        'resp errors',
        'downs',
      ],
    ];
    for (const s of backend)
      proxyRows.push([
        s.svname ?? '',
        s.stot ?? '',
        s.wretr ?? '',
        s.wredis ?? '',
        s.hrsp_5xx ?? '',
        s.econ ?? '',
        s.eresp ?? '',
        s.chkdown ?? '',
      ]);
    process.stdout.write(`${table(proxyRows)}\n\n`);
  }
}

/** The last lines of every log, for a failed run whose directory goes away. */
function printLogTails(logs: string): void {
  for (const name of fs.readdirSync(logs).sort()) {
    const lines = fs.readFileSync(path.join(logs, name), 'utf8').trimEnd().split('\n');
    process.stdout.write(`\n--- ${name} (last lines; --keep keeps the logs)\n`);
    process.stdout.write(`${lines.slice(-8).join('\n')}\n`);
  }
}

async function main(): Promise<number> {
  const { minutes, keep } = parseMinutes();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hush-soak-'));
  // PostgreSQL runs as its own OS user and must reach its directory inside.
  fs.chmodSync(root, 0o711);
  cleanups.push(() => {
    if (keep) process.stdout.write(`soak: kept ${root}\n`);
    else fs.rmSync(root, { recursive: true, force: true });
  });
  const logs = path.join(root, 'logs');
  const out = path.join(root, 'load');
  fs.mkdirSync(logs);
  fs.mkdirSync(out);
  say(`soak for ${minutes} min in ${root}`);

  fs.mkdirSync(path.join(root, 'pg'));
  const pg = await startPostgres(path.join(root, 'pg'));
  cleanups.push(() => pg.stop());
  say(`PostgreSQL 15 on 127.0.0.1:${pg.port}`);
  const env = {
    HUSH_DATABASE_URL: pg.url,
    HUSH_MASTER_KEY: randomBytes(32).toString('base64'),
    HUSH_LOG_LEVEL: 'warn',
    HUSH_LOG_FORMAT: 'json',
    HUSH_SHUTDOWN_GRACE_SECONDS: '5',
  };
  const adminDir = path.join(root, 'admin');
  runHush(['admin', 'migrate', '--data-dir', adminDir], env);
  runHush(
    [
      'admin',
      'bootstrap',
      '--email',
      OWNER.email,
      '--org',
      ORGS[0] ?? '',
      '--password-stdin',
      '--data-dir',
      adminDir,
    ],
    env,
    `${OWNER.password}\n`,
  );

  const nodes = new Map<string, HushNode>();
  const servePorts: { name: string; port: number }[] = [];
  for (const i of [1, 2, 3]) {
    const name = `serve-${i}`;
    const port = await freePort();
    servePorts.push({ name, port });
    nodes.set(
      name,
      hushNode({
        name,
        kind: 'serve',
        port,
        dataDir: path.join(root, name),
        logFile: path.join(logs, `${name}.log`),
        env: { ...env, HUSH_WORKERS: '0', HUSH_TRUST_PROXY: 'true' },
      }),
    );
  }
  for (const i of [1, 2]) {
    const name = `worker-${i}`;
    nodes.set(
      name,
      hushNode({
        name,
        kind: 'worker',
        port: 0,
        dataDir: path.join(root, name),
        logFile: path.join(logs, `${name}.log`),
        env: { ...env, HUSH_WORKERS: '2' },
      }),
    );
  }
  cleanups.push(() => Promise.all([...nodes.values()].map((n) => n.stop(8000))));
  await Promise.all([...nodes.values()].map((n) => n.start()));
  const serveUrls = servePorts.map((s) => `http://127.0.0.1:${s.port}`);
  say(`3 hush serve (${servePorts.map((s) => s.port).join(', ')}) and 2 hush worker running`);

  const collector = await startCollector(path.join(root, 'collector.txt'));
  cleanups.push(() => collector.close());
  const proxy = await startHaproxy(root, servePorts, path.join(logs, 'haproxy.log'));
  cleanups.push(() => proxy.stop());
  say(`HAProxy on ${proxy.url}; job collector on 127.0.0.1:${collector.port}`);

  const { session, orgs, probeId } = await provision(serveUrls[0] ?? '', collector.port);
  const verdicts: Verdict[] = [
    await checkCacheAcrossNodes(api, serveUrls, session, orgs[0]!, probeId, 'before the load'),
  ];

  const config: LoadConfig = { url: proxy.url, minutes, outDir: out, owner: OWNER, orgs };
  const configFile = path.join(root, 'load.json');
  fs.writeFileSync(configFile, JSON.stringify(config), { mode: 0o600 });
  const load = startLoad(configFile, path.join(logs, 'load.log'));
  const loadStart = Date.now();
  say(
    `load driver started (pid ${load.child.pid}); a node is killed every ${KILL_EVERY_MS / 1000} s`,
  );
  const kills = await killLoop(nodes, load, loadStart, loadStart + minutes * 60_000);
  for (const p of kills.problems) verdicts.push({ name: 'node restart', ok: false, detail: p });
  const loadTimeout = setTimeout(() => load.child.kill('SIGTERM'), 90_000);
  const loadCode = await load.done;
  clearTimeout(loadTimeout);
  verdicts.push({
    name: 'load driver',
    ok: loadCode === 0,
    detail:
      loadCode === 0
        ? 'ran to its end'
        : `exited with ${loadCode}; see ${path.join(logs, 'load.log')}`,
  });
  say(`load done; waiting for queued and running jobs to end (at most ${SETTLE_MS / 1000} s)`);
  for (const node of nodes.values()) if (!node.running()) await node.start();
  const org = orgs[0];
  if (org) {
    const trigger = () =>
      api(serveUrls[0] ?? '', 'POST', `/api/v1/orgs/${org.slug}/jobs`, org.token, {
        project: org.project,
        service: org.service,
      });
    // A worker of its own, running one job at a time: stopped while that job's process runs, it
    // is in no transaction (one running a second job could be stopped holding the audit head
    // lock of the organization, and stall the other workers' reapers with it).
    const paused = hushNode({
      name: 'worker-paused',
      kind: 'worker',
      port: 0,
      dataDir: path.join(root, 'worker-paused'),
      logFile: path.join(logs, 'worker-paused.log'),
      env: { ...env, HUSH_WORKERS: '1' },
    });
    nodes.set(paused.name, paused);
    await paused.start();
    verdicts.push(await pauseWorker(paused, pg.query, trigger));
  }
  const open = await settleJobs(pg.query);
  if (open > 0) say(`${open} jobs still queued or running`);

  const summaryFile = path.join(out, 'summary.json');
  const summary = fs.existsSync(summaryFile)
    ? (JSON.parse(fs.readFileSync(summaryFile, 'utf8')) as LoadSummary)
    : null;
  verdicts.push(await checkWrites(api, proxy.url, session, orgs, out));
  const jobs = await checkJobs(pg.query, collector.file, out);
  verdicts.push(...jobs.verdicts);
  verdicts.push(...(await checkAudit(api, serveUrls.slice(1), session, pg.query)));
  verdicts.push(
    await checkCacheAcrossNodes(api, serveUrls, session, orgs[0]!, probeId, 'after the load'),
  );
  verdicts.push(checkJobDirs([...nodes.values()].map((n) => n.dataDir)));
  const crashed = [...nodes.values()].filter((n) => n.crashes() > 0);
  verdicts.push({
    name: 'no node died on its own',
    ok: crashed.length === 0,
    detail:
      crashed.length > 0
        ? crashed.map((n) => `${n.name} (${n.crashes()})`).join(', ')
        : `${kills.kills} kills, no other exit`,
  });
  if (summary) {
    const other = Object.entries(summary.failuresByCause).filter(([, n]) => n.other > 0);
    const near = Object.values(summary.failuresByCause).reduce((a, n) => a + n.nearKill, 0);
    verdicts.push({
      name: 'failures only right after a kill',
      ok: other.length === 0,
      detail:
        other.length > 0
          ? other.map(([c, n]) => `${n.other} × ${c}`).join('; ')
          : `${near} failed requests, all within ${5} s of a kill`,
    });
    verdicts.push({
      name: 'no stale runtime read',
      ok: summary.staleReads.length === 0,
      detail:
        summary.staleReads.length > 0
          ? summary.staleReads
              .slice(0, 3)
              .map((s) => `${s.org}/${s.name}: ${s.detail}`)
              .join('; ')
          : 'every read through HAProxy had every write acknowledged before it began',
    });
    report(summary, jobs.statuses, await proxy.stats().catch(() => []), kills.restartMs);
  } else
    verdicts.push({ name: 'load summary', ok: false, detail: `${summaryFile} was not written` });

  for (const v of verdicts)
    process.stdout.write(`${v.ok ? 'ok  ' : 'FAIL'} ${v.name}: ${v.detail}\n`);
  const failed = verdicts.filter((v) => !v.ok);
  if (failed.length > 0 && !keep) printLogTails(logs);
  process.stdout.write(
    failed.length === 0
      ? '\nsoak: every check holds\n'
      : `\nsoak: ${failed.length} checks failed\n`,
  );
  return failed.length === 0 ? 0 : 1;
}

void main()
  .catch((error: unknown) => {
    process.stderr.write(`soak: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  })
  .then(async (code) => {
    await teardown();
    process.exit(code);
  });
