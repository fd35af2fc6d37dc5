import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  bootstrappedServerEnv,
  runHush,
  runHushListingModules,
  signedInCli,
  spawnServer,
} from '../helpers/cli.js';
import { DIALECTS, tempDir } from '../helpers/databases.js';
import { track } from '../helpers/resources.js';

describe.each(DIALECTS)('hush job and hush run on %s', (dialect) => {
  let cliEnv: Record<string, string>;
  let serverEnv: Record<string, string>;
  let server: Awaited<ReturnType<typeof spawnServer>>;
  let serviceToken: string;
  const hush = (args: string[], stdin?: string, env = cliEnv) => runHush(args, { env, stdin });

  beforeAll(async () => {
    ({ serverEnv } = await bootstrappedServerEnv(dialect));
    server = await spawnServer({ ...serverEnv, HUSH_SERVER_ONLY_VAR: 'nope' });
    cliEnv = await signedInCli(server.url);
    await hush(['project', 'create', 'maps']);
    await hush([
      'service',
      'create',
      'greet',
      '--project',
      'maps',
      '--command',
      'echo "hello $GREETING"; echo oops >&2; exit 7',
    ]);
    await hush(
      ['secret', 'add', 'env', 'GREETING', '--value-stdin', '--project', 'maps'],
      'secret-greeting-value\n',
    );
    const token = await hush(['token', 'create', 'ci', '--role', 'devops', '--json']);
    serviceToken = (JSON.parse(token.stdout) as { token: string }).token;
  }, 90_000);
  afterAll(() => server.stop());

  it('streams the redacted log and exits with the job exit code', async () => {
    const r = await hush(['job', 'run', '--project', 'maps', '--service', 'greet']);
    expect(r.code).toBe(7);
    expect(r.stdout).toBe('hello [REDACTED]\n');
    expect(r.stderr).toContain('oops');
    expect(r.stderr).toContain('failed');
  });

  it('runs an ad-hoc command after -- and lists, shows and prints logs of jobs', async () => {
    const r = await hush([
      'job',
      'run',
      '--project',
      'maps',
      '--',
      'sh',
      '-c',
      'echo adhoc $HUSH_PROJECT',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('adhoc maps\n');
    const list = JSON.parse(
      (await hush(['job', 'list', '--project', 'maps', '--json'])).stdout,
    ) as { id: string; status: string }[];
    expect(list.map((j) => j.status)).toEqual(['succeeded', 'failed']);
    const logs = await hush(['job', 'logs', list[1]!.id]);
    expect(logs.stdout).toBe('hello [REDACTED]\n');
    const cancel = await hush(['job', 'cancel', list[0]!.id]);
    expect(cancel.code).toBe(1);
    expect(cancel.stderr).toContain('CONFLICT');
  });

  it('hush run injects values locally for a service token, overriding all but --preserve-env', async () => {
    const env = { ...cliEnv, HUSH_TOKEN: serviceToken, GREETING: 'mine' };
    const r = await runHush(
      ['run', '--project', 'maps', '--', 'sh', '-c', 'echo "$GREETING|$HOME"; exit 5'],
      { env },
    );
    expect(r.code).toBe(5);
    expect(r.stdout).toBe(`secret-greeting-value|${process.env.HOME ?? '/tmp'}\n`);
    const kept = await runHush(
      [
        'run',
        '--project',
        'maps',
        '--preserve-env',
        'GREETING',
        '--',
        'sh',
        '-c',
        'echo "$GREETING"',
      ],
      { env },
    );
    expect(kept.stdout).toBe('mine\n');
    const clean = await runHush(
      [
        'run',
        '--project',
        'maps',
        '--clean-env',
        '--',
        'sh',
        '-c',
        'echo "${HUSH_CONFIG_DIR:-none} $GREETING"',
      ],
      { env },
    );
    expect(clean.stdout).toBe('none secret-greeting-value\n');
  });

  it('forwards signals to the command and removes its private directory', async () => {
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      ...cliEnv,
      HUSH_TOKEN: serviceToken,
    };
    const child = spawn(
      process.execPath,
      [
        path.resolve('bin/hush.js'),
        'run',
        '--project',
        'maps',
        '--',
        'sh',
        '-c',
        'echo "$PWD"; trap "exit 42" TERM; sleep 20 & wait',
      ],
      { env },
    );
    const handle = track('hush run', () => child.kill('SIGKILL'));
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    for (let i = 0; i < 100 && !out; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) =>
      child.once('exit', (c) => resolve(c)),
    );
    await handle.close();
    expect(code).toBe(42);
  });

  it('hush run and REST commands load no server module; server commands do', async () => {
    // What makes a start slow: the server's packages and Hush's own server layers.
    const serverModule =
      /\/node_modules\/(fastify|@fastify\/[^/]+|kysely|better-sqlite3|pg|pino|zod)\/|\/dist\/(app|config|logger)\.js$|\/dist\/(http|store|crypto|domain\/(?!secrets\/pgservice\.js$)|jobs\/(?!materialize\.js$))/;
    const run = await runHushListingModules(
      ['run', '--project', 'maps', '--', 'sh', '-c', 'echo "$GREETING"'],
      { env: { ...cliEnv, HUSH_TOKEN: serviceToken } },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('secret-greeting-value\n');
    // The hook saw the CLI itself, so an empty list cannot pass for a lean one.
    expect(run.modules.some((m) => m.endsWith('/dist/main.js'))).toBe(true);
    expect(run.modules.filter((m) => serverModule.test(m))).toEqual([]);
    const list = await runHushListingModules(['secret', 'list', '--project', 'maps'], {
      env: cliEnv,
    });
    expect(list.code, list.stderr).toBe(0);
    expect(list.modules.filter((m) => serverModule.test(m))).toEqual([]);
    const migrate = await runHushListingModules(['admin', 'migrate'], { env: serverEnv });
    expect(migrate.code, migrate.stderr).toBe(0);
    const loaded = migrate.modules.filter((m) => serverModule.test(m));
    expect(loaded.some((m) => m.includes('/node_modules/kysely/'))).toBe(true);
    expect(loaded.some((m) => m.includes('/dist/store/'))).toBe(true);
  });

  it('refuses hush run to a person: people never read secret values', async () => {
    const r = await hush(['run', '--project', 'maps', '--', 'true']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('secrets:read-values');
  });

  it('works through an https reverse proxy and refuses a certificate it does not trust', async () => {
    const dir = tempDir('hush-tls-');
    const [key, cert] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
        .concat(['-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'])
        .concat(['-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']),
      { stdio: 'ignore' },
    );
    const upstream = new URL(server.url);
    const proxy = https.createServer(
      { key: fs.readFileSync(key), cert: fs.readFileSync(cert) },
      (req, res) => {
        const forward = http.request(
          {
            host: upstream.hostname,
            port: upstream.port,
            path: req.url,
            method: req.method,
            headers: req.headers,
          },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        forward.once('error', () => res.destroy());
        req.pipe(forward);
      },
    );
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const handle = track('https proxy', async () => {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    });
    try {
      const url = `https://localhost:${(proxy.address() as AddressInfo).port}`;
      const trusted = { ...cliEnv, HUSH_URL: url, NODE_EXTRA_CA_CERTS: cert };
      const run = await runHush(['run', '--project', 'maps', '--', 'sh', '-c', 'echo $GREETING'], {
        env: { ...trusted, HUSH_TOKEN: serviceToken },
      });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toBe('secret-greeting-value\n');
      // A POST with a JSON body, then the log polled until the job ends.
      const job = await runHush(['job', 'run', '--project', 'maps', '--', 'echo', 'over tls'], {
        env: trusted,
      });
      expect(job.code, job.stderr).toBe(0);
      expect(job.stdout).toBe('over tls\n');
      const untrusted = await runHush(['run', '--project', 'maps', '--', 'true'], {
        env: { ...cliEnv, HUSH_URL: url, HUSH_TOKEN: serviceToken },
      });
      expect(untrusted.code).toBe(1);
      expect(untrusted.stderr).toMatch(
        /^hush: cannot reach Hush at https:\/\/localhost:\d+ \(\w+\)/,
      );
    } finally {
      await handle.close();
    }
  });
});

describe.runIf(DIALECTS.includes('postgres'))('two hush worker processes on PostgreSQL', () => {
  it('run each of 200 queued jobs exactly once', async () => {
    const { db, serverEnv: base } = await bootstrappedServerEnv('postgres');
    const serverEnv = { ...base, HUSH_WORKERS: '0' };
    const server = await spawnServer(serverEnv);
    const cliEnv = await signedInCli(server.url);
    await runHush(['project', 'create', 'bulk'], { env: cliEnv });
    await runHush(
      ['service', 'create', 'tick', '--project', 'bulk', '--command', 'echo $HUSH_JOB_ID'],
      { env: cliEnv },
    );
    const login = JSON.parse(
      (await runHush(['token', 'create', 'bulk', '--role', 'devops', '--json'], { env: cliEnv }))
        .stdout,
    ) as { token: string };
    const headers = { authorization: `Bearer ${login.token}`, 'content-type': 'application/json' };
    for (let i = 0; i < 200; i++) {
      const res = await fetch(`${server.url}/api/v1/orgs/acme/jobs`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ project: 'bulk', service: 'tick' }),
      });
      expect(res.status).toBe(201);
    }
    const workers = [0, 1].map(() => {
      const child = spawn(
        process.execPath,
        [path.resolve('bin/hush.js'), 'worker', '--workers', '4'],
        {
          env: {
            PATH: process.env.PATH ?? '',
            HOME: process.env.HOME ?? '/tmp',
            ...serverEnv,
            // Each worker has its own data directory for job files but shares the master key.
            HUSH_DATA_DIR: tempDir(),
            HUSH_MASTER_KEY_FILE: path.join(db.dataDir, 'master.key'),
            HUSH_LOG_LEVEL: 'warn',
          },
          stdio: ['ignore', 'ignore', 'inherit'],
        },
      );
      const exited = new Promise((r) => child.once('exit', r));
      return track('hush worker', async () => {
        child.kill('SIGTERM');
        await exited;
      });
    });
    const pool = new (await import('pg')).default.Pool({
      connectionString: db.databaseUrl,
      max: 1,
    });
    try {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const { rows } = await pool.query<{ n: string }>(
          "select count(*) as n from jobs where status in ('queued', 'running')",
        );
        if (rows[0]?.n === '0' || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      const { rows } = await pool.query<{
        status: string;
        attempts: number;
        workers: string;
        n: string;
      }>(
        'select status, attempts, count(distinct worker_id) as workers, count(*) as n from jobs group by status, attempts',
      );
      expect(rows).toEqual([{ status: 'succeeded', attempts: 1, workers: '2', n: '200' }]);
      const access = await pool.query<{ n: string }>(
        "select count(*) as n from audit_events where event_type = 'ACCESS'",
      );
      expect(access.rows[0]?.n).toBe('200');
    } finally {
      await pool.end();
      for (const w of workers) await w.close();
      await server.stop();
    }
  }, 180_000);
});
