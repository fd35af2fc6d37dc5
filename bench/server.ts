/** A real `hush serve` child process on loopback with a free port, and its resident memory. */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import type { DatabaseSettings } from './common.js';

export const ROOT = path.resolve(import.meta.dirname, '..');
export const HUSH_BIN = path.join(ROOT, 'bin', 'hush.js');

export interface RunningServer {
  url: string;
  pid: number;
  rssMb(): number;
  stop(): Promise<void>;
}

/** The settings' environment for Hush processes (never the caller's HUSH_* variables). */
export function hushEnv(settings: DatabaseSettings, extra: Record<string, string> = {}) {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HUSH_')) env[k] = v;
  env.HUSH_DATA_DIR = settings.dataDir;
  if (settings.databaseUrl) env.HUSH_DATABASE_URL = settings.databaseUrl;
  return { ...env, ...extra };
}

export function rssMbOf(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return Math.round(kb / 102.4) / 10;
}

export async function startServer(
  settings: DatabaseSettings,
  nodeArgs: string[] = [],
): Promise<RunningServer> {
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeArgs, HUSH_BIN, 'serve', '--host', '127.0.0.1', '--port', '0', '--workers', '1'],
    {
      cwd: ROOT,
      env: hushEnv(settings, { HUSH_LOG_LEVEL: 'warn' }),
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Hush is serving (\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`hush serve exited with ${code}: ${out}`)));
  });
  const pid = child.pid!;
  return {
    url,
    pid,
    rssMb: () => rssMbOf(pid),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
