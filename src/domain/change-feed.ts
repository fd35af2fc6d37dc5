import type { Kysely } from 'kysely';

import type { Schema } from '../store/schema.js';

/**
 * Tells waiters on this node that an organization's state changed: the audit service notes the
 * organizations whose `changeSeq` a transaction moves, and the unit of work announces them once
 * that transaction has committed (never before: a waiter re-reads and must see the change). A
 * change committed by another node is not announced here; waiters re-check the database on their
 * own (see `waitForChange`'s `ms`).
 */
export function createChangeFeed() {
  const pending = new WeakMap<Kysely<Schema>, Set<string>>();
  const waiters = new Map<string, Set<() => void>>();

  return {
    /** Notes, inside `trx`, that it moves the organization's `changeSeq`. */
    touched(trx: Kysely<Schema>, orgId: string): void {
      const orgs = pending.get(trx);
      if (orgs) orgs.add(orgId);
      else pending.set(trx, new Set([orgId]));
    },

    /** Wakes the waiters of every organization `trx` touched; call after it committed. */
    committed(trx: Kysely<Schema>): void {
      const orgs = pending.get(trx);
      pending.delete(trx);
      for (const orgId of orgs ?? []) for (const wake of waiters.get(orgId) ?? []) wake();
    },

    /**
     * Resolves when the organization changes on this node, after `ms`, or when `signal` aborts,
     * whichever comes first; the caller then re-reads.
     */
    waitForChange(orgId: string, ms: number, signal?: AbortSignal): Promise<void> {
      return new Promise((resolve) => {
        const set = waiters.get(orgId) ?? new Set<() => void>();
        waiters.set(orgId, set);
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          set.delete(done);
          if (set.size === 0 && waiters.get(orgId) === set) waiters.delete(orgId);
          resolve();
        };
        const timer = setTimeout(done, ms);
        set.add(done);
        if (signal?.aborted) done();
        else signal?.addEventListener('abort', done, { once: true });
      });
    },
  };
}

export type ChangeFeed = ReturnType<typeof createChangeFeed>;
