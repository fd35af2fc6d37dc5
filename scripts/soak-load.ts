// The load driver of `npm run soak`, a process of its own: `tsx scripts/soak-load.ts CONFIG.json`.
// It talks only to HAProxy, drives runtime reads, secret adds and rotations, job triggers, audit
// queries and logins for the configured minutes, and writes what happened to its output folder:
// writes.jsonl (every acknowledged write, and every write whose outcome is unknown), jobs.jsonl
// (every acknowledged trigger), failures.jsonl (every failed request with its cause) and
// summary.json (counts and latencies). The orchestrator sends kill times on standard input, one
// JSON line each (`{"event":"kill","node":"serve-1","at":…}` then `{"event":"ready",…}`), and
// `stop` to end early.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

import {
  digestOf,
  type FailureRecord,
  type KillEvent,
  killNear,
  type LoadConfig,
  type LoadSummary,
  quantile,
  type RequestKind,
  type WriteRecord,
} from './soak-checks.js';

const REQUEST_TIMEOUT_MS = 20_000;
const SECRETS_PER_WRITER = 20;
const MAX_SAMPLES = 200_000;
const MAX_FAILURES = 100_000;

type Answer = { ok: true; status: number; body: unknown } | { ok: false; cause: string };

function main(): Promise<void> {
  const config = JSON.parse(fs.readFileSync(process.argv[2] ?? '', 'utf8')) as LoadConfig;
  const started = Date.now();
  let deadline = started + config.minutes * 60_000;
  const kills: KillEvent[] = [];
  const samples = new Map<RequestKind, number[]>();
  const counts = new Map<RequestKind, { ok: number; failed: number }>();
  const failures: { kind: RequestKind; cause: string; at: number }[] = [];
  const staleReads: LoadSummary['staleReads'] = [];
  const writes = fs.openSync(path.join(config.outDir, 'writes.jsonl'), 'a');
  const jobs = fs.openSync(path.join(config.outDir, 'jobs.jsonl'), 'a');

  readline.createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() === 'stop') {
      deadline = Date.now();
      return;
    }
    const event = JSON.parse(line) as { event: 'kill' | 'ready'; node: string; at: number };
    if (event.event === 'kill') kills.push({ node: event.node, at: event.at, readyAt: null });
    else {
      const kill = kills.findLast((k) => k.node === event.node && k.readyAt === null);
      if (kill) kill.readyAt = event.at;
    }
  });
  process.once('SIGTERM', () => (deadline = Date.now()));
  const running = () => Date.now() < deadline;

  async function request(
    kind: RequestKind,
    method: string,
    url: string,
    auth: string | null,
    body?: unknown,
  ): Promise<Answer> {
    const t0 = performance.now();
    let answer: Answer;
    try {
      const r = await fetch(`${config.url}${url}`, {
        method,
        headers: {
          ...(auth ? { authorization: `Bearer ${auth}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          'x-hush-tool': 'api',
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await r.text();
      let parsed: unknown = null;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        parsed = null;
      }
      if (r.status >= 200 && r.status < 300) answer = { ok: true, status: r.status, body: parsed };
      else {
        const code = (parsed as { error?: { code?: string } } | null)?.error?.code;
        // An answer without Hush's error body came from HAProxy (502, 503, 504).
        answer = { ok: false, cause: `HTTP ${r.status} ${code ?? '(proxy)'}` };
      }
    } catch (error) {
      const e = error as Error & { cause?: { code?: string; message?: string } };
      const cause =
        e.name === 'TimeoutError'
          ? 'client timeout'
          : (e.cause?.code ?? e.cause?.message ?? e.name);
      answer = { ok: false, cause: `connection: ${cause}` };
    }
    const ms = performance.now() - t0;
    const count = counts.get(kind) ?? { ok: 0, failed: 0 };
    counts.set(kind, count);
    if (answer.ok) {
      count.ok++;
      const list = samples.get(kind) ?? [];
      samples.set(kind, list);
      if (list.length < MAX_SAMPLES) list.push(ms);
    } else {
      count.failed++;
      if (failures.length < MAX_FAILURES)
        failures.push({ kind, cause: answer.cause, at: Date.now() });
    }
    return answer;
  }

  // Whether a failed write may still have been committed: Hush answered nothing (the node died
  // with the request, or HAProxy gave up on it), as opposed to an error Hush rolled back.
  const outcomeUnknown = (a: Answer) => !a.ok && !/^HTTP \d+ [A-Z_]+$/.test(a.cause);

  // What the readers check against: every value written per name, in order, and the index of
  // the last acknowledged one with its time. A read that starts after a write was acknowledged
  // must return that value or a later one, whichever node answers.
  const history = new Map<string, { digests: string[]; acked: { index: number; at: number }[] }>();
  const historyOf = (org: string, name: string) => {
    const key = `${org}/${name}`;
    let h = history.get(key);
    if (!h) history.set(key, (h = { digests: [], acked: [] }));
    return h;
  };
  const session = { token: '' };

  async function writer(w: number): Promise<void> {
    const org = config.orgs[w % config.orgs.length];
    if (!org) return;
    const secrets: { name: string; id: string; version: number }[] = [];
    let added = 0;
    const record = (r: WriteRecord) => fs.writeSync(writes, `${JSON.stringify(r)}\n`);
    while (running()) {
      const value = `w${w}-${randomBytes(9).toString('base64url')}`;
      const digest = digestOf(value);
      const target =
        secrets.length < SECRETS_PER_WRITER
          ? null
          : secrets[Math.floor(Math.random() * secrets.length)];
      const name = target?.name ?? `SOAK_W${w}_${added++}`;
      const h = historyOf(org.slug, name);
      h.digests.push(digest);
      const a = target
        ? await request(
            'secret-rotate',
            'POST',
            `/api/v1/orgs/${org.slug}/secrets/${target.id}/rotate`,
            session.token,
            { kind: 'env', value },
          )
        : await request('secret-add', 'POST', `/api/v1/orgs/${org.slug}/secrets`, session.token, {
            project: org.project,
            env: org.env,
            secret: { kind: 'env', name, value },
          });
      const base = { op: target ? 'rotate' : 'add', org: org.slug, name, digest } as const;
      if (a.ok) {
        const body = (Array.isArray(a.body) ? a.body[0] : a.body) as {
          id: string;
          version: number;
        };
        h.acked.push({ index: h.digests.length - 1, at: Date.now() });
        record({ ...base, outcome: 'acked', id: body.id, version: body.version, at: Date.now() });
        if (target) target.version = body.version;
        else secrets.push({ name, id: body.id, version: body.version });
      } else if (outcomeUnknown(a)) {
        // Written or not, nobody knows: this name is left alone from now on, and the end check
        // accepts either its last acknowledged value or this one.
        const version = target ? target.version + 1 : 1;
        record({ ...base, outcome: 'unknown', id: target?.id ?? null, version, at: Date.now() });
        if (target) secrets.splice(secrets.indexOf(target), 1);
      }
      await sleep(40);
    }
  }

  async function reader(r: number): Promise<void> {
    const org = config.orgs[r % config.orgs.length];
    if (!org) return;
    const query = `project=${org.project}&env=${org.env}`;
    while (running()) {
      const t0 = Date.now();
      const a = await request(
        'runtime-read',
        'GET',
        `/api/v1/orgs/${org.slug}/runtime/secrets?${query}`,
        org.token,
      );
      if (a.ok) checkFresh(org.slug, t0, a.body as { name: string; value?: string }[]);
      await sleep(20);
    }
  }

  function checkFresh(org: string, startedAt: number, values: { name: string; value?: string }[]) {
    const seen = new Map(values.map((v) => [v.name, v.value ?? '']));
    for (const [key, h] of history) {
      if (!key.startsWith(`${org}/`)) continue;
      const last = h.acked.findLast((x) => x.at < startedAt);
      if (!last) continue;
      const name = key.slice(org.length + 1);
      const value = seen.get(name);
      const index = value === undefined ? -1 : h.digests.lastIndexOf(digestOf(value));
      if (index < last.index && staleReads.length < 100)
        staleReads.push({
          at: startedAt,
          org,
          name,
          detail:
            value === undefined
              ? 'missing from the read'
              : `value #${index + 1} of ${h.digests.length} where #${last.index + 1} was acknowledged`,
        });
    }
  }

  async function jobTrigger(): Promise<void> {
    while (running()) {
      for (const org of config.orgs) {
        const a = await request('job-trigger', 'POST', `/api/v1/orgs/${org.slug}/jobs`, org.token, {
          project: org.project,
          service: org.service,
        });
        if (a.ok) {
          const { id } = a.body as { id: string };
          fs.writeSync(jobs, `${JSON.stringify({ org: org.slug, id, at: Date.now() })}\n`);
        }
      }
      await sleep(1500);
    }
  }

  async function auditor(): Promise<void> {
    for (let i = 0; running(); i++) {
      const org = config.orgs[i % config.orgs.length];
      if (!org) return;
      if (i % 40 === 39)
        await request(
          'audit-verify',
          'GET',
          `/api/v1/orgs/${org.slug}/audit/verify`,
          session.token,
        );
      else
        await request(
          'audit-list',
          'GET',
          `/api/v1/orgs/${org.slug}/audit?limit=50`,
          session.token,
        );
      await sleep(750);
    }
  }

  async function login(): Promise<boolean> {
    const a = await request('login', 'POST', '/api/v1/auth/login', null, config.owner);
    if (a.ok) session.token = (a.body as { token: string }).token;
    return a.ok;
  }

  async function loginLoop(): Promise<void> {
    // 15 a minute: under the sign-in limit of 30 a minute per client address (HAProxy's).
    while (running()) {
      await sleep(4000);
      if (running()) await login();
    }
  }

  async function run(): Promise<void> {
    for (let i = 0; i < 10 && !(await login()); i++) await sleep(1000);
    if (!session.token) throw new Error('the owner could not sign in through HAProxy');
    const loops = [
      writer(0),
      writer(1),
      writer(2),
      reader(0),
      reader(1),
      jobTrigger(),
      auditor(),
      loginLoop(),
    ];
    await Promise.all(loops);
    writeOutputs();
  }

  function writeOutputs(): void {
    const byCause: LoadSummary['failuresByCause'] = {};
    const lines = failures.map((f) => {
      const kill = killNear(kills, f.at);
      const entry = (byCause[`${f.kind}: ${f.cause}`] ??= { nearKill: 0, other: 0 });
      if (kill) entry.nearKill++;
      else entry.other++;
      return JSON.stringify({ ...f, nearKill: kill?.node ?? null } satisfies FailureRecord);
    });
    fs.writeFileSync(
      path.join(config.outDir, 'failures.jsonl'),
      lines.map((l) => `${l}\n`).join(''),
    );
    const latencyMs: LoadSummary['latencyMs'] = {};
    for (const [kind, list] of samples) {
      const sorted = [...list].sort((a, b) => a - b);
      latencyMs[kind] = {
        count: sorted.length,
        p50: quantile(sorted, 0.5),
        p99: quantile(sorted, 0.99),
        max: sorted.at(-1) ?? 0,
      };
    }
    const summary: LoadSummary = {
      startedAt: started,
      endedAt: Date.now(),
      requests: Object.fromEntries(counts),
      latencyMs,
      failuresByCause: byCause,
      staleReads,
      kills,
    };
    fs.writeFileSync(path.join(config.outDir, 'summary.json'), JSON.stringify(summary, null, 2));
    fs.closeSync(writes);
    fs.closeSync(jobs);
  }

  return run();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`soak-load: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
