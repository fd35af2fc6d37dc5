import net from 'node:net';

import { afterAll, describe, expect, it } from 'vitest';

import { runHush, spawnServer } from '../helpers/cli.js';
import { tempDir } from '../helpers/databases.js';
import { track } from '../helpers/resources.js';

// What `hush serve` says on its own terminal: a busy port with the way out, and its log for
// people or for collectors, with request lines only at debug.

describe('hush serve output', () => {
  const busy = net.createServer();
  const handle = track(
    'busy port',
    () => new Promise<void>((resolve) => busy.close(() => resolve())),
  );
  afterAll(() => handle.close());

  it('names the busy port and how to choose another', async () => {
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as net.AddressInfo).port;
    const r = await runHush(['serve', '--port', String(port), '--workers', '0'], {
      env: { HUSH_DATA_DIR: tempDir() },
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
    expect(r.stderr).toContain('--port N or HUSH_PORT=N');
    expect(r.stderr).not.toContain('unexpected error');
  });

  const serveAndAsk = async (env: Record<string, string>) => {
    const server = await spawnServer({ HUSH_DATA_DIR: tempDir(), HUSH_WORKERS: '0', ...env });
    try {
      await fetch(`${server.url}/api/v1/health?token=hush_set_secret123`);
      await new Promise((r) => setTimeout(r, 300));
      return server.output();
    } finally {
      await server.stop();
    }
  };

  it('writes JSON lines for collectors, one debug line per request without its query', async () => {
    const out = await serveAndAsk({ HUSH_LOG_FORMAT: 'json', HUSH_LOG_LEVEL: 'debug' });
    const lines = out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; level: number; req?: { url: string } });
    const request = lines.find((l) => l.msg === 'request completed');
    expect(request?.level).toBe(20);
    expect(request?.req?.url).toBe('/api/v1/health');
    expect(out).not.toContain('hush_set_secret123');
  });

  it('writes lines for people with --log-format pretty, and no request lines at info', async () => {
    const pretty = await serveAndAsk({ HUSH_LOG_FORMAT: 'pretty', HUSH_LOG_LEVEL: 'debug' });
    expect(pretty).toContain('request completed');
    expect(pretty.split('\n').filter((l) => l.startsWith('{"level"'))).toEqual([]);
    const quiet = await serveAndAsk({ HUSH_LOG_FORMAT: 'json', HUSH_LOG_LEVEL: 'info' });
    expect(quiet).not.toContain('request completed');
    expect(quiet).not.toContain('incoming request');
  });
});
