/**
 * The CLI workflows' figures (issue 19): one bulk set of 1,000 new secrets (what `hush import`
 * of a 1,000-line .env sends), and `hush run --watch` from a rotation to CMD's restart.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  type DatabaseSettings,
  type Dialect,
  type Figures,
  median,
  progress,
  record,
} from './common.js';
import { ORG } from './seed.js';
import { HUSH_BIN, hushEnv, ROOT } from './server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function post(url: string, token: string, body: unknown): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${text.slice(0, 200)}`);
}

export async function workflowBench(
  dialect: Dialect,
  settings: DatabaseSettings,
  server: { url: string },
  token: string,
  quick: boolean,
  figures: Figures,
): Promise<void> {
  const set = `${server.url}/api/v1/orgs/${ORG}/secrets/set`;

  progress(`${dialect}: import_1000`);
  // Each run sets 1,000 names that do not exist yet, at the project level of `imports`: a first
  // import of a 1,000-line .env does (validation, comparison, 1,000 seals, multi-row inserts
  // and 1,000 CREATE events, in one transaction).
  const runs: number[] = [];
  for (let r = 0; r < (quick ? 3 : 7); r++) {
    const secrets = Array.from({ length: 1000 }, (_, i) => ({
      name: `IMPORTED_${r}_${i}`,
      value: `value-${r}-${i}-0123456789abcdef`,
    }));
    const t0 = process.hrtime.bigint();
    await post(set, token, { project: 'imports', secrets });
    runs.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  // The first is a warm-up (statement compilation, JIT).
  record(figures, 'import_1000_ms', {
    dialect,
    value: Math.round(median(runs.slice(1))),
    unit: 'ms',
  });

  progress(`${dialect}: run_watch_restart`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hush-bench-watch-'));
  const starts = path.join(dir, 'starts');
  fs.writeFileSync(starts, '');
  // Its own project: the runtime read of `watch` holds this one name.
  await post(set, token, { project: 'watch', secrets: [{ name: 'WATCHED', value: 'v0' }] });
  const child = spawn(
    process.execPath,
    [
      HUSH_BIN,
      'run',
      '--watch',
      '--grace',
      '2',
      '--org',
      ORG,
      '--project',
      'watch',
      '--',
      'sh',
      '-c',
      `echo "$WATCHED" >> ${starts}; trap 'exit 0' TERM; while :; do sleep 0.02; done`,
    ],
    {
      cwd: ROOT,
      env: hushEnv(settings, { HUSH_URL: server.url, HUSH_TOKEN: token }),
      // Its "the secrets changed; restarting" lines would bury the bench's progress.
      stdio: 'ignore',
    },
  );
  const count = () => fs.readFileSync(starts, 'utf8').split('\n').filter(Boolean).length;
  const waitFor = async (n: number) => {
    const deadline = Date.now() + 10_000;
    while (count() < n) {
      if (Date.now() > deadline) throw new Error(`run --watch: no restart ${n} within 10 s`);
      await sleep(2);
    }
  };
  try {
    await waitFor(1);
    // The long poll is open once hush has read the set; give it a moment to be waiting.
    await sleep(300);
    const restarts: number[] = [];
    for (let i = 1; i <= (quick ? 5 : 15); i++) {
      const t0 = process.hrtime.bigint();
      await post(set, token, {
        project: 'watch',
        secrets: [{ name: 'WATCHED', value: `v${i}` }],
      });
      await waitFor(i + 1);
      restarts.push(Number(process.hrtime.bigint() - t0) / 1e6);
      await sleep(100);
    }
    record(figures, 'run_watch_restart_ms', {
      dialect,
      value: Math.round(median(restarts)),
      unit: 'ms',
    });
  } finally {
    child.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
