// What GET /metrics shows (Prometheus text format). One registry per service instance, so
// that several instances in one process (the tests) count apart. Labels hold operation
// names, types, codes, queues and outcomes only: never a tenant, user, id or value.
import type { PgBoss, QueueResult } from 'pg-boss';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  /** Rows of import jobs read and written (valid or rejected): `rate()` gives rows per second. */
  importRows: Counter;
  /** Event lines of POST /api/events by outcome: accepted or rejected. */
  eventsIngested: Counter<'outcome'>;
  /** Alerts opened, by live detection or retrohunts. */
  alertsRaised: Counter;
  /** Job attempts of this process by queue and outcome (completed, failed), with their duration. */
  jobDuration: Histogram<'queue' | 'outcome'>;
  /** HTTP answers of this process by status. */
  httpResponses: Counter<'status'>;
  /** Subscriptions (SSE and WebSocket) open on this process. */
  openSubscriptions: Gauge;
}

/** A GraphQL name (operation names, error codes), at most 100 characters. */
export const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,99}$/;

/** An operation name as a label: a client may send any string as its name; only GraphQL names are kept. */
export function operationNameLabel(name: string | null | undefined): string {
  if (!name) return 'Anonymous';
  return GRAPHQL_NAME.test(name) ? name : 'invalid';
}

export function createMetrics(boss: PgBoss, logger: Logger): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  // Read at scrape time from pg-boss's queue table, which its monitor refreshes every
  // JOB_SUPERVISE_SECONDS: one cheap query per scrape (shared by the gauges below, which
  // prom-client collects together), the same answer on every instance.
  let reading: Promise<QueueResult[] | null> | null = null;
  const readQueues = () =>
    (reading ??= boss
      .getQueues()
      .catch((error: unknown) => {
        logger.warn({ err: error }, 'job counts not read for /metrics');
        return null;
      })
      .finally(() => {
        reading = null;
      }));
  const jobGauge = (name: string, help: string, count: (queue: QueueResult) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['queue'],
      registers,
      async collect() {
        const queues = await readQueues();
        if (!queues) return;
        this.reset();
        for (const queue of queues) this.set({ queue: queue.name }, count(queue));
      },
    });
  jobGauge('ioc_jobs_queued', 'Jobs waiting in the queue (pg-boss, every process)', (q) => q.queuedCount);
  jobGauge('ioc_jobs_active', 'Jobs running now (pg-boss, every process)', (q) => q.activeCount);
  jobGauge('ioc_jobs_failed', 'Failed jobs still retained by pg-boss (every process)', (q) => q.failedCount);
  new Gauge({
    name: 'ioc_jobs_stats_up',
    help: '1 when the job counts were read at this scrape, 0 when the job queue could not be asked',
    registers,
    async collect() {
      this.set((await readQueues()) ? 1 : 0);
    },
  });
  return {
    registry,
    importRows: new Counter({ name: 'ioc_import_rows_total', help: 'Import rows processed', registers }),
    eventsIngested: new Counter({
      name: 'ioc_events_ingested_total',
      help: 'Event lines received by POST /api/events, by outcome (accepted, rejected)',
      labelNames: ['outcome'],
      registers,
    }),
    alertsRaised: new Counter({ name: 'ioc_alerts_raised_total', help: 'Alerts opened', registers }),
    jobDuration: new Histogram({
      name: 'ioc_job_duration_seconds',
      help: 'Job attempts run by this process, by queue and outcome (completed, failed)',
      labelNames: ['queue', 'outcome'],
      buckets: [0.05, 0.25, 1, 5, 30, 120, 600, 3600],
      registers,
    }),
    httpResponses: new Counter({
      name: 'ioc_http_responses_total',
      help: 'HTTP answers by status (GraphQL, /api, /metrics, /health)',
      labelNames: ['status'],
      registers,
    }),
    openSubscriptions: new Gauge({
      name: 'ioc_subscriptions_open',
      help: 'Subscriptions open on this process (SSE and WebSocket)',
      registers,
    }),
  };
}
