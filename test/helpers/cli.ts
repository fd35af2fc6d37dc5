import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { freshDatabase, tempDir, type TestDialect } from './databases.js';
import { track } from './resources.js';

const BIN = path.resolve('bin/hush.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `hush` binary (built dist/) with a private config dir and optional stdin. */
export function runHush(
  args: string[],
  opts: { env?: Record<string, string>; stdin?: string; nodeArgs?: string[]; cwd?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), BIN, ...args], {
      cwd: opts.cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(opts.stdin ?? '');
  });
}

// A module-loader hook (Node's `module.register`) that appends the URL of every file module the
// process loads through the ES module loader to the file named by its `data`.
const MODULE_LOG_HOOKS = `import fs from 'node:fs';
let log;
export function initialize(file) { log = file; }
export async function load(url, context, next) {
  if (url.startsWith('file:')) fs.appendFileSync(log, url + '\\n');
  return next(url, context);
}
`;

/**
 * Runs the real `hush` binary like {@link runHush} and also returns the file URLs of the modules
 * it loaded (its own and the packages' entry points, which is what an import costs at start).
 */
export async function runHushListingModules(
  args: string[],
  opts: { env?: Record<string, string>; stdin?: string } = {},
): Promise<CliResult & { modules: string[] }> {
  const dir = tempDir('hush-modules-');
  const log = path.join(dir, 'modules.log');
  fs.writeFileSync(path.join(dir, 'hooks.mjs'), MODULE_LOG_HOOKS);
  fs.writeFileSync(
    path.join(dir, 'register.mjs'),
    `import { register } from 'node:module';\n` +
      `register('./hooks.mjs', import.meta.url, { data: ${JSON.stringify(log)} });\n`,
  );
  const result = await runHush(args, {
    ...opts,
    nodeArgs: ['--import', path.join(dir, 'register.mjs')],
  });
  const modules = fs.existsSync(log)
    ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean)
    : [];
  return { ...result, modules };
}

/** A real `hush serve` process on a free port; resolves once it prints its URL. */
export async function spawnServer(
  env: Record<string, string>,
): Promise<{ url: string; output: () => string; stop: () => Promise<void>; child: ChildProcess }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0'], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      HUSH_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const handle = track('hush serve process', async () => {
    child.kill('SIGTERM');
    await exited;
  });
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /Hush is serving (http:\/\/\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`hush serve exited with ${code}: ${out}`)));
    setTimeout(() => reject(new Error(`hush serve did not start: ${out}`)), 20_000);
  });
  return { url, output: () => out, stop: () => handle.close(), child };
}

export const CLI_OWNER = {
  email: 'owner@example.com',
  password: 'correct horse battery',
  org: 'acme',
};

/** A fresh database with the first Owner bootstrapped offline; returns the server's environment. */
export async function bootstrappedServerEnv(
  dialect: TestDialect,
): Promise<{ db: { dataDir: string; databaseUrl?: string }; serverEnv: Record<string, string> }> {
  const db = await freshDatabase(dialect);
  const serverEnv: Record<string, string> = {
    HUSH_DATA_DIR: db.dataDir,
    ...(db.databaseUrl ? { HUSH_DATABASE_URL: db.databaseUrl } : {}),
  };
  const boot = await runHush(
    ['admin', 'bootstrap', '--email', CLI_OWNER.email, '--org', CLI_OWNER.org, '--password-stdin'],
    {
      env: serverEnv,
      stdin: `${CLI_OWNER.password}\n`,
    },
  );
  if (boot.code !== 0) throw new Error(`bootstrap failed: ${boot.stderr}`);
  return { db, serverEnv };
}

/** A private CLI configuration signed in to the server as the bootstrapped Owner. */
export async function signedInCli(url: string): Promise<Record<string, string>> {
  const cliEnv = { HUSH_CONFIG_DIR: tempDir('hush-cli-'), HUSH_URL: url };
  const login = await runHush(['login', '--email', CLI_OWNER.email, '--password-stdin'], {
    env: cliEnv,
    stdin: `${CLI_OWNER.password}\n`,
  });
  if (login.code !== 0) throw new Error(`login failed: ${login.stderr}`);
  return cliEnv;
}

/**
 * Writers adding env secrets to project `maps` of `acme` through `url` as fast as they are
 * answered, until `stop()`: what each was answered, and the names acknowledged with the time.
 */
export function startSecretWriters(url: string, token: string, writers = 1, max = 2000) {
  const statuses: number[] = [];
  const acked: { name: string; at: number }[] = [];
  let writing = true;
  const running = Array.from({ length: writers }, async (_, w) => {
    for (let i = 0; writing && i < max; i++) {
      const name = `W_${w}_${i}`;
      const r = await fetch(`${url}/api/v1/orgs/acme/secrets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ project: 'maps', secret: { kind: 'env', name, value: `v${i}` } }),
      });
      statuses.push(r.status);
      if (r.status === 201) acked.push({ name, at: Date.now() });
    }
  });
  return {
    statuses,
    acked,
    /** Resolves once `n` writes are acknowledged. */
    async until(n: number): Promise<void> {
      while (acked.length < n) await new Promise((r) => setTimeout(r, 20));
    },
    async stop(): Promise<void> {
      writing = false;
      await Promise.all(running);
    },
  };
}
