/** The figures users feel over HTTP: a real `hush serve` under autocannon, `hush run`, writes, memory. */
import { spawn } from 'node:child_process';
import http from 'node:http';

import {
  type DatabaseSettings,
  type Dialect,
  type Figures,
  median,
  progress,
  record,
} from './common.js';
import { loadHttp } from './http-load.js';
import { ORG, seed, type SeedSize } from './seed.js';
import { HUSH_BIN, hushEnv, ROOT, startServer } from './server.js';
import { workflowBench } from './workflow-bench.js';

export interface HttpBenchOptions {
  quick: boolean;
  size: SeedSize;
  durationSeconds: number;
}

function runOnce(settings: DatabaseSettings, url: string, token: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        HUSH_BIN,
        'run',
        '--org',
        ORG,
        '--project',
        'env100',
        '--env',
        'prod',
        '--service',
        'api',
        '--',
        'true',
      ],
      {
        cwd: ROOT,
        env: hushEnv(settings, { HUSH_URL: url, HUSH_TOKEN: token }),
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve(Number(process.hrtime.bigint() - t0) / 1e6)
        : reject(new Error(`hush run exited with ${code}`)),
    );
  });
}

export async function httpBench(
  dialect: Dialect,
  settings: DatabaseSettings,
  opts: HttpBenchOptions,
  figures: Figures,
): Promise<void> {
  const seeded = await seed(settings, opts.size);
  const server = await startServer(settings);
  try {
    const headers = { authorization: `Bearer ${seeded.token}` };
    const runtime = (q: string) => `${server.url}/api/v1/orgs/${ORG}/runtime/secrets?${q}`;
    const ctx100 = runtime('project=env100&service=api');
    const ctx1000 = runtime('project=env1000&service=api');
    // Warm up and check every measured context answers with the expected number of names.
    for (const [u, n] of [
      [runtime('project=one'), 1],
      [ctx100, 100],
      [ctx1000, 1000],
    ] as const) {
      const res = await fetch(u, { headers });
      const body = (await res.json()) as unknown[];
      if (res.status !== 200 || body.length !== n)
        throw new Error(`${u}: ${res.status}, ${Array.isArray(body) ? body.length : 'no'} names`);
    }
    await new Promise((r) => setTimeout(r, 1000));
    record(figures, 'server_rss_idle_mb', { dialect, value: server.rssMb(), unit: 'MB' });

    const d = opts.durationSeconds;
    const load = async (key: string, url: string, extra: Record<string, string> = {}) => {
      progress(`${dialect}: ${key}`);
      const r = await loadHttp({
        url,
        connections: 32,
        durationSeconds: d,
        headers: { ...headers, ...extra },
      });
      progress(
        `  ${r.rps} req/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, statuses ${JSON.stringify(r.statuses)}`,
      );
      return r;
    };
    // Steady state, not start-up: an unmeasured load first lets the JIT compile the hot path.
    progress(`${dialect}: warm-up load (not measured)`);
    await loadHttp({ url: runtime('project=one'), connections: 32, durationSeconds: 1, headers });
    const one = await load('read_one', runtime('project=one'));
    record(figures, 'read_one_rps_c32', { dialect, value: one.rps, unit: 'req/s' });
    record(figures, 'read_one_p99_ms_c32', { dialect, value: one.p99Ms, unit: 'ms' });
    const e100 = await load('read_env100', ctx100);
    record(figures, 'read_env100_rps_c32', { dialect, value: e100.rps, unit: 'req/s' });
    record(figures, 'read_env100_p99_ms_c32', { dialect, value: e100.p99Ms, unit: 'ms' });
    const e1000 = await load('read_env1000', ctx1000);
    record(figures, 'read_env1000_rps_c32', { dialect, value: e1000.rps, unit: 'req/s' });
    record(figures, 'read_env1000_p99_ms_c32', { dialect, value: e1000.p99Ms, unit: 'ms' });
    record(figures, 'server_rss_load_mb', { dialect, value: server.rssMb(), unit: 'MB' });

    const etag = (await fetch(ctx1000, { headers })).headers.get('etag');
    if (!etag)
      progress(`${dialect}: the runtime endpoint sends no ETag; the 304 figure measures 200s`);
    const e304 = await load('read_env1000_304', ctx1000, etag ? { 'if-none-match': etag } : {});
    record(figures, 'read_env1000_304_rps_c32', { dialect, value: e304.rps, unit: 'req/s' });

    progress(`${dialect}: run_cli`);
    const runs: number[] = [];
    for (let i = 0; i < (opts.quick ? 6 : 30); i++)
      runs.push(await runOnce(settings, server.url, seeded.token));
    record(figures, 'run_cli_p50_ms', { dialect, value: Math.round(median(runs)), unit: 'ms' });

    progress(`${dialect}: secret_add`);
    const adds = opts.quick ? 100 : 1000;
    // One keep-alive connection through node:http, as `hush` itself speaks: fetch's own cost
    // per request (~1 ms here) would otherwise be a third of what this figure measures.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const add = (name: string, i: number) =>
      new Promise<void>((resolve, reject) => {
        const body = JSON.stringify({
          project: 'one',
          secret: { kind: 'env', name, value: `value-${i}-0123456789abcdef` },
        });
        const req = http.request(
          `${server.url}/api/v1/orgs/${ORG}/secrets`,
          {
            method: 'POST',
            agent,
            headers: {
              ...headers,
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(body),
            },
          },
          (res) => {
            let text = '';
            res.on('data', (d: Buffer) => (text += d.toString()));
            res.on('end', () =>
              res.statusCode === 201
                ? resolve()
                : reject(new Error(`secret add: ${res.statusCode} ${text}`)),
            );
          },
        );
        req.once('error', reject);
        req.end(body);
      });
    // Steady state, as for the reads: a second of unmeasured adds opens the connection,
    // prepares the statements and lets the JIT compile the write path.
    const warmUntil = Date.now() + 1000;
    for (let i = 0; Date.now() < warmUntil; i++) await add(`WARMUP_${i}`, i);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < adds; i++) await add(`ADDED_${i}`, i);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    agent.destroy();
    record(figures, 'secret_add_per_s', {
      dialect,
      value: Math.round(adds / seconds),
      unit: 'adds/s',
    });

    // Sign-in with the shared brake: the per-address count (one upsert), the per-account count
    // (read, compare-and-set, cleared on success), one scrypt check, the session and its LOGIN
    // event. Fewer than the per-address limit of 30 a minute, so none is refused.
    progress(`${dialect}: login`);
    const logins: number[] = [];
    for (let i = 0; i < (opts.quick ? 8 : 25); i++) {
      const t0 = process.hrtime.bigint();
      const res = await fetch(`${server.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: seeded.email, password: seeded.password }),
      });
      await res.text();
      if (res.status !== 200) throw new Error(`login: ${res.status}`);
      logins.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    record(figures, 'login_p50_ms', { dialect, value: +median(logins).toFixed(1), unit: 'ms' });

    await workflowBench(dialect, settings, server, seeded.token, opts.quick, figures);
  } finally {
    await server.stop();
  }
}
