import { sql } from 'kysely';

import type { Sandbox } from './jobs/sandbox.js';
import type { Database } from './store/db.js';
import { pendingMigrations } from './store/migrate.js';

/** One check of the readiness probe. */
export interface ReadinessCheck {
  check: 'shutdown' | 'database' | 'migrations' | 'masterKey' | 'sandbox';
  ok: boolean;
  reason?: string;
}

const within = <T>(ms: number, work: Promise<T>): Promise<T> =>
  Promise.race([
    work,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref(),
    ),
  ]);

/**
 * Whether this node can serve (`GET /readyz`): not shutting down, its database answering with
 * every migration applied, the master key loaded, and — where its workers run jobs — the job
 * sandbox able to start. `hush serve` marks the node as draining at the first SIGTERM.
 */
export function createNodeHealth(deps: { database: Database; sandbox: Sandbox }) {
  let draining = false;
  let runsJobs = false;
  return {
    /** From now on the node answers not ready (a load balancer stops sending it requests). */
    drain(): void {
      draining = true;
    },
    get draining(): boolean {
      return draining;
    },
    /** This node's workers run jobs: a sandbox that cannot start makes it not ready. */
    runJobs(): void {
      runsJobs = true;
    },
    async readiness(): Promise<ReadinessCheck[]> {
      const checks: ReadinessCheck[] = [
        draining
          ? { check: 'shutdown', ok: false, reason: 'the node is shutting down' }
          : { check: 'shutdown', ok: true },
      ];
      const db = deps.database.db;
      try {
        await within(2000, sql`select 1`.execute(db));
        checks.push({ check: 'database', ok: true });
        const pending = await within(2000, pendingMigrations(db));
        checks.push(
          pending.length === 0
            ? { check: 'migrations', ok: true }
            : { check: 'migrations', ok: false, reason: `not applied: ${pending.join(', ')}` },
        );
      } catch (error) {
        // The probe answers anyone: the driver's code only, not its message (hosts, ports).
        const code = (error as { code?: unknown }).code;
        checks.push({
          check: 'database',
          ok: false,
          reason: `${deps.database.dialect} unreachable (${typeof code === 'string' ? code : 'no answer'})`,
        });
      }
      // The app does not start without the master key: it unwraps every data key at start.
      checks.push({ check: 'masterKey', ok: true });
      if (runsJobs) {
        const sandbox = deps.sandbox.status();
        checks.push(
          sandbox?.available
            ? { check: 'sandbox', ok: true }
            : { check: 'sandbox', ok: false, reason: sandbox?.reason ?? 'not probed yet' },
        );
      }
      return checks;
    },
  };
}

export type NodeHealth = ReturnType<typeof createNodeHealth>;
