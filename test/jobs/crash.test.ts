import fs from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { bootstrappedServerEnv, CLI_OWNER, spawnServer } from '../helpers/cli.js';
import { DIALECTS } from '../helpers/databases.js';

/** Processes on this host whose command line contains `marker`. */
function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)) found.push(Number(pid));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

/** Every file under `dir`, relative. */
function filesUnder(dir: string): string[] {
  return fs.existsSync(dir)
    ? fs
        .readdirSync(dir, { recursive: true, withFileTypes: true })
        .flatMap((e) => (e.isFile() ? [path.relative(dir, path.join(e.parentPath, e.name))] : []))
    : [];
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | null>) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('a server killed with SIGKILL during a job', () => {
  it.concurrent.each(DIALECTS)(
    'on %s leaves no job process and no plaintext, and the job is failed soon after the restart',
    async (dialect) => {
      const { db, serverEnv } = await bootstrappedServerEnv(dialect);
      let server = await spawnServer(serverEnv);
      const api = async (method: string, url: string, token?: string, body?: unknown) => {
        const res = await fetch(`${server.url}${url}`, {
          method,
          headers: {
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(body ? { 'content-type': 'application/json' } : {}),
          },
          body: body ? JSON.stringify(body) : null,
        });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };
      const login = await api('POST', '/api/v1/auth/login', undefined, {
        email: CLI_OWNER.email,
        password: CLI_OWNER.password,
      });
      const token = login.body.token as string;
      const O = `/api/v1/orgs/${CLI_OWNER.org}`;
      await api('POST', `${O}/projects`, token, { slug: 'maps' });
      const password = `crash-test-password-${dialect}-${Date.now()}`;
      await api('POST', `${O}/secrets`, token, {
        secret: { kind: 'pgservice', name: 'ninja', settings: { host: '127.0.0.1', password } },
      });
      // A unique duration marks the job's processes among the host's.
      const marker = `6${String(Date.now()).slice(-5)}`;
      const job = await api('POST', `${O}/jobs`, token, {
        project: 'maps',
        command: ['sh', '-c', `grep -c password "$PGSERVICEFILE"; sleep ${marker}`],
      });
      expect(job.status).toBe(201);
      const id = job.body.id as string;
      await until('the job to start', 15_000, async () => {
        const logs = await api('GET', `${O}/jobs/${id}/logs`, token);
        return (logs.body.lines as unknown[]).length > 0 ? true : null;
      });
      expect(processesWith(`sleep ${marker}`).length).toBeGreaterThan(0);
      // The job's pg_service.conf lives in its sandbox's memory, never on the host's disk.
      const onDisk = filesUnder(db.dataDir).map((f) => fs.readFileSync(path.join(db.dataDir, f)));
      expect(onDisk.some((content) => content.includes(password))).toBe(false);

      server.child.kill('SIGKILL');
      await server.stop(); // waits for the exit; the SIGTERM it sends finds nothing
      await until('the job processes to die with their server', 5_000, () =>
        Promise.resolve(processesWith(`sleep ${marker}`).length === 0 ? true : null),
      );

      server = await spawnServer(serverEnv);
      const restarted = Date.now();
      const failed = await until('the reaper to fail the job', 30_000, async () => {
        const res = await api('GET', `${O}/jobs/${id}`, token);
        return res.body.status === 'failed' ? res.body : null;
      });
      expect(Date.now() - restarted).toBeLessThan(30_000);
      expect(failed.error).toContain('heartbeat');
      expect(fs.readdirSync(path.join(db.dataDir, 'jobs'))).toEqual([]);
      expect(processesWith(`sleep ${marker}`)).toEqual([]);
      await server.stop();
    },
    90_000,
  );
});
