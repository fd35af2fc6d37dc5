import { describe, expect, it } from 'vitest';

import {
  bootstrappedServerEnv,
  runHush,
  signedInCli,
  spawnServer,
  startSecretWriters,
} from '../helpers/cli.js';
import { DIALECTS } from '../helpers/databases.js';

// `hush admin rotate-master-key` re-wraps every data key while a server takes writes: a writer
// may be told to retry (503) but never gets a 500, and every acknowledged write stays readable.
describe.each(DIALECTS)('master-key rotation under write load on %s', (dialect) => {
  it('gives the writers no 500', async () => {
    const { serverEnv } = await bootstrappedServerEnv(dialect);
    const server = await spawnServer(serverEnv);
    try {
      const cliEnv = await signedInCli(server.url);
      const ok = async (args: string[], env = cliEnv) => {
        const r = await runHush(args, { env });
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
        return r;
      };
      await ok(['project', 'create', 'maps']);
      const { token } = JSON.parse(
        (await ok(['token', 'create', 'writer', '--personal', '--json'])).stdout,
      ) as { token: string };
      const writes = startSecretWriters(server.url, token, 4, 500);
      await writes.until(20);
      await ok(['admin', 'rotate-master-key', '--json'], serverEnv);
      await ok(['admin', 'rotate-master-key', '--retire-old', '--json'], serverEnv);
      await writes.stop();
      expect(writes.statuses.filter((s) => s >= 500 && s !== 503)).toEqual([]);
      expect(writes.acked.length).toBeGreaterThan(20);
      const listed = JSON.parse(
        (await ok(['secret', 'list', '--project', 'maps', '--json'])).stdout,
      ) as { name: string }[];
      expect(listed.map((s) => s.name).sort()).toEqual(writes.acked.map((a) => a.name).sort());
    } finally {
      await server.stop();
    }
  }, 120_000);
});
