import { randomUUID } from 'node:crypto';

import type { Logger } from 'pino';

import type { RotationService } from '../domain/rotations/rotation-service.js';

/** How often a node looks for due rotations. */
const TICK_MS = 15_000;

/**
 * Runs due rotations on this node: every node running jobs (`hush serve` with workers, `hush
 * worker`) ticks, and the claim in `runDue` lets each due rotation run on exactly one of them.
 */
export function createRotationScheduler(options: {
  rotations: RotationService;
  logger: Logger;
  everyMs?: number;
}) {
  const claimant = `scheduler-${randomUUID()}`;
  let timer: NodeJS.Timeout | null = null;
  let ticking: Promise<void> = Promise.resolve();

  async function tick(): Promise<void> {
    try {
      for (const run of await options.rotations.runDue(claimant)) {
        if (run.outcome === 'failed')
          options.logger.warn({ rotationRun: run.id, reason: run.error }, 'rotation failed');
        else options.logger.info({ rotationRun: run.id, version: run.version }, 'rotated');
      }
    } catch (error) {
      options.logger.error({ err: error }, 'rotation scheduler error');
    }
  }

  return {
    start(): void {
      timer = setInterval(() => {
        ticking = ticking.then(tick);
      }, options.everyMs ?? TICK_MS);
      timer.unref();
    },
    /** Stops ticking and waits for a run in progress. */
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = null;
      await ticking;
    },
  };
}
