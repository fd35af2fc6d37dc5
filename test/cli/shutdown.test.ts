import { beforeAll, describe, expect, it } from 'vitest';

import { bootstrappedServerEnv, runHush, signedInCli, spawnServer } from '../helpers/cli.js';
import { DIALECTS } from '../helpers/databases.js';

// A real hush serve gets SIGTERM while a long job runs: it stops within the grace period plus a
// few seconds, and the job ends "cancelled: node shutting down" rather than running on or
// being left as running.
describe.each(DIALECTS)('graceful shutdown of hush serve on %s', (dialect) => {
  let serverEnv: Record<string, string>;

  beforeAll(async () => {
    serverEnv = {
      ...(await bootstrappedServerEnv(dialect)).serverEnv,
      HUSH_SHUTDOWN_GRACE_SECONDS: '2',
    };
  });

  it('cancels a running job after the grace period and exits', async () => {
    const server = await spawnServer(serverEnv);
    const cliEnv = await signedInCli(server.url);
    const ok = async (args: string[], env = cliEnv) => {
      const r = await runHush(args, { env });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r;
    };
    await ok(['project', 'create', 'maps']);
    await ok([
      'service',
      'create',
      'long',
      '--project',
      'maps',
      '--command',
      'echo started; sleep 60',
    ]);
    const run = runHush(['job', 'run', '--project', 'maps', '--service', 'long'], { env: cliEnv });
    const deadline = Date.now() + 20_000;
    for (;;) {
      const jobs = JSON.parse((await ok(['job', 'list', '--project', 'maps', '--json'])).stdout);
      if (jobs[0]?.status === 'running') break;
      if (Date.now() > deadline) throw new Error('the job never started');
      await new Promise((r) => setTimeout(r, 100));
    }
    // Past resolving and spawning: the process runs (its log line is out).
    await new Promise((r) => setTimeout(r, 1000));
    const started = Date.now();
    const exited = new Promise<number | null>((resolve) => server.child.once('exit', resolve));
    server.child.kill('SIGTERM');
    const code = await exited;
    const took = Date.now() - started;
    expect(code).toBe(0);
    expect(took).toBeGreaterThanOrEqual(1900);
    expect(took).toBeLessThan(9000);
    await run;
    await server.stop();

    const again = await spawnServer(serverEnv);
    try {
      const env = await signedInCli(again.url);
      const jobs = JSON.parse(
        (await runHush(['job', 'list', '--project', 'maps', '--json'], { env })).stdout,
      );
      expect(jobs[0]).toMatchObject({
        status: 'cancelled',
        error: 'cancelled: node shutting down',
      });
    } finally {
      await again.stop();
    }
  }, 60_000);
});
