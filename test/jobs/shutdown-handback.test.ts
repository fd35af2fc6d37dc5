import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { now } from '../../src/domain/context.js';
import { runJob } from '../../src/jobs/runner.js';
import { createLogger } from '../../src/logger.js';
import { claimNextJob, findJob } from '../../src/store/job-store.js';
import { bootstrapOwner, OWNER, startTestServer, type TestServer } from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';

// A job claimed by a node that starts shutting down before the job's process starts goes back
// to the queue for another worker, audited, instead of failing or being left "running".
describe.each(DIALECTS)('a job not yet started when its node shuts down, on %s', (dialect) => {
  let t: TestServer;
  let token: string;

  beforeAll(async () => {
    t = await startTestServer(dialect);
    token = await bootstrapOwner(t);
  });
  afterAll(() => t?.close());

  it('is handed back to the queue', async () => {
    const api = (method: string, url: string, body?: unknown) =>
      t.call(method, `/api/v1/orgs/${OWNER.org}${url}`, { token, body });
    await api('POST', '/projects', { slug: 'maps' });
    await api('POST', '/projects/maps/services', { name: 'echo', command: 'echo hi' });
    const queued = await api('POST', '/jobs', { project: 'maps', service: 'echo' });
    expect(queued.status, queued.text).toBe(201);
    const job = await claimNextJob(t.app.database, 'worker-test', now());
    expect(job?.id).toBe(queued.body.id);
    await runJob(
      {
        db: t.app.database.db,
        audit: t.app.services.audit,
        resolve: t.app.services.resolve,
        jobsDir: path.join(t.dataDir, 'jobs'),
        sandbox: t.app.services.sandbox,
        logger: createLogger('silent'),
      },
      job!,
      AbortSignal.abort(),
    );
    const after = await findJob(t.app.database.db, job!.id);
    expect(after).toMatchObject({ status: 'queued', workerId: null, startedAt: null });
    const event = await t.app.database.db
      .selectFrom('auditEvents')
      .select('change')
      .where('targetId', '=', job!.id)
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow();
    expect(event.change).toBe('job handed back to the queue: its node is shutting down');
  });
});
