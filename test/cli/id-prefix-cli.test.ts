import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { shortId } from '../../console/src/short-id.js';
import { bootstrappedServerEnv, runHush, signedInCli, spawnServer } from '../helpers/cli.js';
import { DIALECTS } from '../helpers/databases.js';

describe.each(DIALECTS)('ids as the console shows them, in hush on %s', (dialect) => {
  let cliEnv: Record<string, string>;
  let server: Awaited<ReturnType<typeof spawnServer>>;
  let jobId: string;
  const hush = (args: string[], stdin?: string) => runHush(args, { env: cliEnv, stdin });

  beforeAll(async () => {
    const { serverEnv } = await bootstrappedServerEnv(dialect);
    server = await spawnServer(serverEnv);
    cliEnv = await signedInCli(server.url);
    await hush(['project', 'create', 'maps']);
    const run = await hush(['job', 'run', '--project', 'maps', '--', 'sh', '-c', 'echo by prefix']);
    expect(run.code, run.stderr).toBe(0);
    const list = await hush(['job', 'list', '--project', 'maps', '--json']);
    jobId = (JSON.parse(list.stdout) as { id: string }[])[0]!.id;
  }, 90_000);
  afterAll(() => server.stop());

  it("prints a job's log given the 8 characters the console shows", async () => {
    const logs = await hush(['job', 'logs', shortId(jobId)]);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toBe('by prefix\n');
    const show = await hush(['job', 'show', shortId(jobId), '--json']);
    expect(show.code, show.stderr).toBe(0);
    expect(JSON.parse(show.stdout)).toMatchObject({ id: jobId, status: 'succeeded' });
  });

  it('names id and exits non-zero for a prefix too short to take', async () => {
    const logs = await hush(['job', 'logs', jobId.slice(0, 4)]);
    expect(logs.code).not.toBe(0);
    expect(logs.stderr).toContain('VALIDATION_FAILED: id: give at least 6 characters');
  });

  it('takes a secret id prefix in secret history', async () => {
    const added = await hush(
      ['secret', 'add', 'env', 'PREFIXED', '--value-stdin', '--project', 'maps', '--json'],
      'some-value-of-enough-length\n',
    );
    expect(added.code, added.stderr).toBe(0);
    const secret = JSON.parse(added.stdout) as { id: string };
    const history = await hush(['secret', 'history', shortId(secret.id), '--json']);
    expect(history.code, history.stderr).toBe(0);
    expect(JSON.parse(history.stdout)).toMatchObject([{ version: 1, current: true }]);
  });
});
