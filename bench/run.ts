/**
 * `npm run bench [-- --quick] [--json] [--only sqlite|postgres] [--skip-audit]`: what users
 * feel, on SQLite and PostgreSQL — reads of resolved secrets over HTTP (a real `hush serve`
 * child process under autocannon), `hush run`, writes, memory, in-process resolution and job
 * start/done, hush apply of a 50-project hush.yaml — plus the machine's floors measured in the same run. With --json, one JSON object is the only thing on standard output; progress
 * goes to standard error. Asserts nothing.
 */
import { execFileSync } from 'node:child_process';

import { runAuditBench } from './audit.js';
import { type Dialect, type Figures, PG_ADMIN, progress, record, withDatabase } from './common.js';
import { configBench } from './config-bench.js';
import { floorDecrypt1000Ms, floorHttp2kRps, floorPasswordCheckMs } from './floors.js';
import { httpBench } from './http-bench.js';
import { jobBench, resolveBench } from './inprocess.js';
import { rotationBench } from './rotation-bench.js';
import { ROOT } from './server.js';

const quick = process.argv.includes('--quick');
const asJson = process.argv.includes('--json');
const only = process.argv[process.argv.indexOf('--only') + 1];
const DIALECTS: Dialect[] = process.argv.includes('--only')
  ? (['sqlite', 'postgres'] as const).filter((d) => d === only)
  : ['sqlite', 'postgres'];
if (DIALECTS.length === 0) throw new Error('--only takes sqlite or postgres');
const size = quick ? { projects: 50, secrets: 3_000 } : { projects: 1_000, secrets: 100_000 };
const durationSeconds = quick ? 2 : 10;

async function main() {
  progress('building dist/ (npm run build)');
  execFileSync('npm', ['run', 'build', '--silent'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const figures: Figures = {};
  for (const dialect of DIALECTS) {
    await withDatabase(dialect, (settings) =>
      httpBench(dialect, settings, { quick, size, durationSeconds }, figures),
    );
    await resolveBench(dialect, quick, figures);
    await jobBench(dialect, quick, figures);
    await configBench(dialect, quick, figures);
  }
  progress('rotation (a private scram-sha-256 cluster)');
  await rotationBench(DIALECTS, quick, figures);
  // The audit log at 10 million events (issue 6): part of the full run; `--quick` runs it only
  // with `--audit` (at 20,000 + 20,000 events) so that a quick run stays under a minute.
  if (!process.argv.includes('--skip-audit') && (!quick || process.argv.includes('--audit'))) {
    const audit = await runAuditBench({
      quick,
      fresh: process.argv.includes('--fresh'),
      dialects: DIALECTS,
      pgAdminUrl: PG_ADMIN,
      log: progress,
    });
    for (const [key, list] of Object.entries(audit)) for (const f of list) record(figures, key, f);
  }
  progress('floors');
  const decrypt = floorDecrypt1000Ms(quick ? 20 : 100);
  const http = await floorHttp2kRps(durationSeconds);
  const password = await floorPasswordCheckMs(quick ? 5 : 20);
  for (const dialect of DIALECTS) {
    record(figures, 'floor_password_check_ms', {
      dialect,
      value: +password.toFixed(1),
      unit: 'ms',
    });
    record(figures, 'floor_decrypt_1000_ms', { dialect, value: +decrypt.toFixed(3), unit: 'ms' });
    record(figures, 'floor_http_2k_rps_c32', { dialect, value: http, unit: 'req/s' });
  }
  if (asJson) {
    process.stdout.write(JSON.stringify(figures) + '\n');
    return;
  }
  const header = quick
    ? `quick run: ${size.projects} projects, ${size.secrets} secrets, ${durationSeconds} s per load`
    : `full run: ${size.projects} projects, ${size.secrets} secrets, ${durationSeconds} s per load`;
  process.stdout.write(
    `${header}\n${'figure'.padEnd(28)} ${'sqlite'.padStart(12)} ${'postgres'.padStart(12)}  unit\n`,
  );
  for (const [key, list] of Object.entries(figures)) {
    const v = (d: string) => String(list.find((f) => f.dialect === d)?.value ?? '-').padStart(12);
    process.stdout.write(
      `${key.padEnd(28)} ${v('sqlite')} ${v('postgres')}  ${list[0]?.unit ?? ''}\n`,
    );
  }
}

await main();
