import { sql } from 'kysely';

import type { KeyService } from './domain/keys/key-service.js';
import type { Sandbox } from './jobs/sandbox.js';
import type { Database } from './store/db.js';
import { pendingMigrations } from './store/migrate.js';

/** One check of the readiness probe. */
export interface ReadinessCheck {
  check: 'shutdown' | 'database' | 'migrations' | 'masterKey' | 'sandbox';
  ok: boolean;
  reason?: string;
  /** masterKey: the ids of the master keys this node holds (to check staging before activation). */
  keys?: string[];
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
 * every migration applied, every master key the database needs held, and — where its workers run jobs — the job
 * sandbox able to start. `hush serve` marks the node as draining at the first SIGTERM.
 */
export function createNodeHealth(deps: {
  database: Database;
  sandbox: Sandbox;
  keys: Pick<KeyService, 'masterKeyStatus'>;
}) {
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
        if (pending.length === 0) checks.push(await masterKeyCheck(deps.keys, db));
      } catch (error) {
        // The probe answers anyone: the driver's code only, not its message (hosts, ports).
        const code = (error as { code?: unknown }).code;
        checks.push({
          check: 'database',
          ok: false,
          reason: `${deps.database.dialect} unreachable (${typeof code === 'string' ? code : 'no answer'})`,
        });
      }

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

/** Whether this node holds every master key the database needs (the active one, and any wrapping). */
async function masterKeyCheck(
  keys: Pick<KeyService, 'masterKeyStatus'>,
  db: Database['db'],
): Promise<ReadinessCheck> {
  const status = await within(2000, keys.masterKeyStatus(db));
  if (status.missing.length === 0) return { check: 'masterKey', ok: true, keys: status.held };
  const named = status.missing.map((id) => `"${id}"`).join(', ');
  return {
    check: 'masterKey',
    ok: false,
    reason: `this node lacks master key ${named}, which the database needs (see docs/operations.md, rotating the master key)`,
    keys: status.held,
  };
}
