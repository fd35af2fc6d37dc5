import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SENSITIVITY_LABELS } from '../../console/src/vocabulary.js';
import { planMaterial } from '../../src/jobs/materialize.js';
import { MIN_REDACTED_LENGTH } from '../../src/jobs/redact.js';
import {
  bootstrapOwner,
  jobLog,
  OWNER,
  startTestServer,
  type TestServer,
  waitForJob,
} from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';

const O = `/api/v1/orgs/${OWNER.org}`;

// Plain means plain everywhere: a job's log shows a plain value as it is, and a secret value
// too short to redact (`on`, `1`) passes, where blacking out every such word would shred the log.
describe.each(DIALECTS)('plain and short values in job logs on %s', (dialect) => {
  let t: TestServer;
  let owner: string;

  beforeAll(async () => {
    t = await startTestServer(dialect, {}, { workers: 1 });
    owner = await bootstrapOwner(t);
    await t.call('POST', `${O}/projects`, { token: owner, body: { slug: 'maps' } });
    const add = async (secret: Record<string, unknown>) => {
      const res = await t.call('POST', `${O}/secrets`, {
        token: owner,
        body: { project: 'maps', secret },
      });
      expect(res.status, res.text).toBe(201);
    };
    await add({ kind: 'env', name: 'LOG_LEVEL', value: 'debug', sensitivity: 'plain' });
    await add({
      kind: 'file',
      name: 'MOTD',
      fileName: 'motd.txt',
      contentBase64: Buffer.from('welcome aboard\n').toString('base64'),
      sensitivity: 'plain',
    });
    await add({ kind: 'env', name: 'SHORT', value: 'x7q' });
    await add({ kind: 'env', name: 'FOUR', value: 'k9wz' });
    await add({ kind: 'env', name: 'API_KEY', value: 'long-secret-value-0123' });
  }, 60_000);
  afterAll(() => t.close());

  it('shows plain values and secrets under 4 characters, redacts secrets of 4 or more', async () => {
    const res = await t.call('POST', `${O}/jobs`, {
      token: owner,
      body: {
        project: 'maps',
        command: [
          '/bin/sh',
          '-c',
          'echo "$LOG_LEVEL: connecting"; cat "$MOTD"; echo "short=$SHORT four=$FOUR key=$API_KEY"; printf %s "$FOUR" | base64',
        ],
      },
    });
    expect(res.status, res.text).toBe(201);
    const job = await waitForJob(t, owner, res.body.id);
    const log = await jobLog(t, owner, res.body.id);
    expect(job.status, log).toBe('succeeded');
    expect(log).toBe(
      'debug: connecting\nwelcome aboard\nshort=x7q four=[REDACTED] key=[REDACTED]\n[REDACTED]\n',
    );
  });

  it('lists a plain value with its secret, and never a secret one', async () => {
    const res = await t.call('GET', `${O}/secrets?project=maps`, { token: owner });
    const byName = new Map(
      (res.body as { name: string; value?: string }[]).map((s) => [s.name, s]),
    );
    expect(byName.get('LOG_LEVEL')?.value).toBe('debug');
    expect(byName.get('API_KEY')).not.toHaveProperty('value');
    expect(byName.get('SHORT')).not.toHaveProperty('value');
  });
});

describe('the redaction list of a job', () => {
  it('holds the secret values only, whatever their kind', () => {
    const material = planMaterial(
      '/job',
      [
        { name: 'A', kind: 'env', value: 'plain-a', sensitivity: 'plain' },
        { name: 'B', kind: 'env', value: 'secret-b', sensitivity: 'secret' },
        { name: 'C', kind: 'env', value: 'secret-c' },
        {
          name: 'F',
          kind: 'file',
          fileName: 'f.txt',
          contentBase64: Buffer.from('plain-file').toString('base64'),
          sensitivity: 'plain',
        },
        { name: 'db', kind: 'pgservice', settings: { host: 'h', password: 'pg-password' } },
        {
          name: 'tls',
          kind: 'pgservice',
          settings: { host: 'h', sslkey: '/k', sslpassword: 'key-passphrase' },
        },
      ],
      {},
    );
    // The key's passphrase is as write-only as the password: it was left in the log.
    expect(material.redact.sort()).toEqual([
      'key-passphrase',
      'pg-password',
      'secret-b',
      'secret-c',
    ]);
    expect(material.env).toMatchObject({ A: 'plain-a', B: 'secret-b', F: '/job/files/f.txt' });
  });

  it('is described by the console with the length the redactor uses', () => {
    expect(SENSITIVITY_LABELS.secret.means).toContain(
      `values of ${MIN_REDACTED_LENGTH} characters or more`,
    );
    expect(SENSITIVITY_LABELS.plain.means).toContain('never redacted');
  });
});
