import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { appendJobLogs } from '../../src/store/job-store.js';
import {
  bootstrapOwner,
  OWNER,
  startTestServer,
  type TestServer,
  waitForJob,
} from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';

// A job that writes its output a line at a time, as fast as it can: one flush then holds tens
// of thousands of log rows. Stored as one INSERT, such a batch passed SQLite's and PostgreSQL's
// limits on bound parameters, failed, and was thrown away without a sign (27-32 % kept).

describe.each(DIALECTS)('a burst of job output on %s', (dialect) => {
  let t: TestServer;
  let owner: string;

  beforeAll(async () => {
    t = await startTestServer(dialect, {}, { workers: 1 });
    owner = await bootstrapOwner(t);
    await t.call('POST', `/api/v1/orgs/${OWNER.org}/projects`, {
      token: owner,
      body: { slug: 'maps' },
    });
  }, 60_000);
  afterAll(() => t.close());

  it('keeps every one of 100,000 lines, in order', async () => {
    const res = await t.call('POST', `/api/v1/orgs/${OWNER.org}/jobs`, {
      token: owner,
      body: {
        project: 'maps',
        command: ['sh', '-c', 'i=1; while [ $i -le 100000 ]; do echo "line $i"; i=$((i+1)); done'],
      },
    });
    expect(res.status, res.text).toBe(201);
    const job = await waitForJob(t, owner, res.body.id, OWNER.org, 60_000);
    expect(job.status).toBe('succeeded');
    const download = await t.call(
      'GET',
      `/api/v1/orgs/${OWNER.org}/jobs/${res.body.id}/logs/download`,
      { token: owner },
    );
    expect(download.status).toBe(200);
    const lines = download.text.split('\n').filter(Boolean);
    expect(lines.length).toBe(100_000);
    expect(lines[0]).toBe('line 1');
    expect(lines[99_999]).toBe('line 100000');
    expect(lines.every((l, i) => l === `line ${i + 1}`)).toBe(true);
  }, 90_000);

  it('stores a batch of 20,000 rows, past both databases’ limits on bound parameters', async () => {
    // With no worker claiming it, the job stays queued; its log is written here directly, as
    // the runner's flush does after a burst.
    const idle = await startTestServer(dialect, {}, { workers: 0 });
    try {
      const token = await bootstrapOwner(idle);
      await idle.call('POST', `/api/v1/orgs/${OWNER.org}/projects`, {
        token,
        body: { slug: 'maps' },
      });
      const res = await idle.call('POST', `/api/v1/orgs/${OWNER.org}/jobs`, {
        token,
        body: { project: 'maps', command: ['true'] },
      });
      expect(res.status, res.text).toBe(201);
      const rows = Array.from({ length: 20_000 }, (_, i) => ({
        jobId: res.body.id as string,
        seq: i + 1,
        stream: 'stdout' as const,
        text: `row ${i + 1}\n`,
        at: new Date().toISOString(),
      }));
      await appendJobLogs(idle.app.database.db, rows);
      const download = await idle.call(
        'GET',
        `/api/v1/orgs/${OWNER.org}/jobs/${res.body.id}/logs/download`,
        { token },
      );
      const lines = download.text.split('\n').filter(Boolean);
      expect(lines).toHaveLength(20_000);
      expect(lines[19_999]).toBe('row 20000');
    } finally {
      await idle.close();
    }
  }, 60_000);
});
