import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bootstrappedServerEnv, runHush, signedInCli, spawnServer } from '../helpers/cli.js';
import { DIALECTS } from '../helpers/databases.js';

// A misspelt name, through the real `hush` binary and server: the close names the server
// suggests end the error line.
describe.each(DIALECTS)('hush on a misspelt name on %s', (dialect) => {
  let cliEnv: Record<string, string>;
  let server: Awaited<ReturnType<typeof spawnServer>>;
  const hush = (args: string[]) => runHush(args, { env: cliEnv });

  beforeAll(async () => {
    const { serverEnv } = await bootstrappedServerEnv(dialect);
    server = await spawnServer(serverEnv);
    cliEnv = await signedInCli(server.url);
    for (const args of [
      ['project', 'create', 'maps'],
      ['project', 'create', 'mapx'],
      ['env', 'create', 'staging', '--project', 'maps', '--type', 'staging'],
    ]) {
      const r = await hush(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
  }, 90_000);
  afterAll(() => server.stop());

  it('ends the not-found line with "did you mean" and the suggestion, exiting 1', async () => {
    const r = await hush(['secret', 'list', '--project', 'mpas']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'hush: PROJECT_NOT_FOUND: project "mpas" not found; did you mean maps?\n',
    );
  });

  it('names every suggestion, best first', async () => {
    const r = await hush(['secret', 'list', '--project', 'mapz']);
    expect(r.stderr).toBe(
      'hush: PROJECT_NOT_FOUND: project "mapz" not found; did you mean maps or mapx?\n',
    );
    const env = await hush(['secret', 'list', '--project', 'maps', '--env', 'stagign']);
    expect(env.stderr).toBe(
      'hush: ENVIRONMENT_NOT_FOUND: environment "stagign" not found in maps; did you mean staging?\n',
    );
  });

  it('prints the line as before when nothing is close', async () => {
    const r = await hush(['secret', 'list', '--project', 'zzzzzz']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('hush: PROJECT_NOT_FOUND: project "zzzzzz" not found\n');
  });
});
