import client from 'prom-client';

import type { Telemetry } from './domain/telemetry.js';
import type { Database } from './store/db.js';

/**
 * The node's Prometheus metrics (`GET /metrics` with `HUSH_METRICS=on`), one registry per app:
 * HTTP requests by route and status, the job queue and jobs by status (read from the database
 * at each scrape, so every node reports the shared queue), the runtime cache's hits, the ACCESS
 * group commit's batch sizes and latency, the PostgreSQL pool, and the process's own metrics.
 */
export function createMetrics(database: Database) {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'hush_' });
  const requests = new client.Counter({
    name: 'hush_http_requests_total',
    help: 'HTTP requests answered, by method, route (its pattern, not the URL) and status.',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const latency = new client.Histogram({
    name: 'hush_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method, route and status.',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  const reads = new client.Counter({
    name: 'hush_runtime_reads_total',
    help: 'Runtime reads (hush run, service tokens), by whether the cache answered (hit) or not.',
    labelNames: ['cache'],
    registers: [registry],
  });
  const batches = new client.Histogram({
    name: 'hush_audit_group_commit_events',
    help: 'ACCESS events committed together in one group commit.',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers: [registry],
  });
  const appendSeconds = new client.Histogram({
    name: 'hush_audit_group_commit_seconds',
    help: 'Time one ACCESS group commit took, from BEGIN to COMMIT.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  new client.Gauge({
    name: 'hush_jobs',
    help: 'Jobs by status, in the whole database (every node reports the same figures).',
    labelNames: ['pool', 'status'],
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await database.db
        .selectFrom('jobs')
        .select(['status', (eb) => eb.fn.countAll<number | string>().as('n')])
        .groupBy('status')
        .execute();
      for (const r of rows) this.set({ pool: 'default', status: r.status }, Number(r.n));
    },
  });
  new client.Gauge({
    name: 'hush_job_queue_oldest_seconds',
    help: 'Age of the oldest job waiting for a worker (0 when none waits).',
    labelNames: ['pool'],
    registers: [registry],
    async collect() {
      const row = await database.db
        .selectFrom('jobs')
        .select((eb) => eb.fn.min('createdAt').as('oldest'))
        .where('status', '=', 'queued')
        .executeTakeFirst();
      const oldest = row?.oldest ? Date.parse(String(row.oldest)) : null;
      this.set({ pool: 'default' }, oldest === null ? 0 : (Date.now() - oldest) / 1000);
    },
  });
  if (database.poolStats) {
    const stats = () => database.poolStats!();
    new client.Gauge({
      name: 'hush_db_pool_connections',
      help: 'PostgreSQL pool connections: open (total), idle, and requests waiting for one.',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        const s = stats();
        this.set({ state: 'total' }, s.total);
        this.set({ state: 'idle' }, s.idle);
        this.set({ state: 'waiting' }, s.waiting);
      },
    });
  }
  const telemetry: Telemetry = {
    runtimeRead: (hit) => reads.inc({ cache: hit ? 'hit' : 'miss' }),
    auditBatch: (events, seconds) => {
      batches.observe(events);
      appendSeconds.observe(seconds);
    },
  };
  return {
    telemetry,
    /** Counts one answered request. */
    request(method: string, route: string, status: number, seconds: number): void {
      const labels = { method, route, status: String(status) };
      requests.inc(labels);
      latency.observe(labels, seconds);
    },
    contentType: registry.contentType,
    /** The metrics in Prometheus' text format. */
    text: () => registry.metrics(),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
