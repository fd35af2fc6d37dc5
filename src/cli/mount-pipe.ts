import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

import { CliError } from './api-client.js';

/** A named pipe that hands out a text, whole, to each reader until stopped. */
export interface MountPipe {
  /** Readers served so far. */
  reads(): number;
  /** Stops serving, unblocking a writer still waiting for a reader, and removes the pipe. */
  stop(): Promise<void>;
}

/**
 * Creates a named pipe at `file` (mode 0600, with coreutils' `mkfifo`: Node cannot make one)
 * and serves `text()` to every open for reading, at most `maxReads` times (0: no limit). The
 * values never rest on a disk: each reader gets them from this process's memory. A reader past
 * the limit blocks on its open, as with any pipe nobody writes.
 */
export function serveOnPipe(file: string, text: () => string, maxReads = 0): MountPipe {
  makeFifo(file);
  let stopped = false;
  let served = 0;
  let fresh = 0;
  const loop = (async () => {
    while (!stopped && (maxReads === 0 || served < maxReads)) {
      // Blocks (in libuv's thread pool) until a reader opens the other end.
      const handle = await fs.promises.open(file, 'w');
      try {
        if (stopped) break;
        // A reader still attached when this writer closes would take the next writer's text
        // too; so the path gets a new pipe before writing: the next reader opens that one.
        const next = `${file}.${process.pid}.${++fresh}.tmp`;
        makeFifo(next);
        fs.renameSync(next, file);
        await handle.writeFile(text());
        served++;
      } catch {
        // The reader went away before reading it all (EPIPE): the next open gets it anew.
      } finally {
        await handle.close();
      }
    }
  })();
  return {
    reads: () => served,
    async stop() {
      stopped = true;
      // A writer blocked on its open returns once a reader opens; this one reads nothing.
      if (maxReads === 0 || served < maxReads) {
        try {
          const reader = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
          await loop.catch(() => undefined);
          fs.closeSync(reader);
        } catch {
          // Already gone.
        }
      }
      fs.rmSync(file, { force: true });
    },
  };
}

/** A named pipe at `file`, mode 0600 (coreutils' mkfifo: Node cannot make one). */
function makeFifo(file: string): void {
  try {
    execFileSync('mkfifo', ['-m', '600', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new CliError(
      `cannot make a named pipe at ${file}: ${stderr || (error as Error).message}`,
    );
  }
}
