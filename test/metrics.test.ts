// Operations: GET /metrics after a known sequence of requests, an import and events; the
// log line of each request and job; the request id given or made, and always answered.
// This file's service has its own registry (counts are exact for it) and a log it reads.
// It runs no workers and queues no jobs (its import is run here, as a worker would): no
// worker of another test file can take its work, and it takes none of theirs.
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { closeServices, createServices } from '../src/app.ts';
import { readEnv } from '../src/config/env.ts';
import { runImportJob } from '../src/modules/imports/runner.ts';
import { observed } from '../src/observability/job-log.ts';
import { startHttpServer, type HttpService } from '../src/server.ts';
import { createYogaApp } from '../src/yoga.ts';
import { graphql } from './generated/index.ts';
import { connectWsAs, subscribeSse } from './transports.ts';
import {
  ABC,
  createRule,
  createTenant,
  fromGlobalId,
  jobState,
  newCollection,
  requestImport,
  sendEvents,
  type TestApp,
  waitFor,
} from './kit.ts';

type LogLine = Record<string, unknown>;
const logLines: LogLine[] = [];
const env = readEnv({ ...process.env, DATABASE_URL: inject('databaseUrl'), LOG_LEVEL: 'info' });
const services = await createServices(env, env.DATABASE_URL!, {
  write: (line: string) => void logLines.push(JSON.parse(line) as LogLine),
});
const { boss } = services;
const queueJob = boss.send.bind(boss);
boss.send = (async () => null) as never;
let http: Promise<HttpService> | undefined;
const app: TestApp = {
  services,
  env,
  yoga: createYogaApp(services),
  http: () => (http ??= startHttpServer(services, { host: '127.0.0.1', port: 0 })),
};
afterAll(async () => {
  if (http) await (await http).close(1000);
  await closeServices(services, 5000);
});

const MetricsCollections = graphql(`
  query MetricsCollections($search: String) {
    collections(first: 5, search: $search) {
      totalCount
    }
  }
`);

const MetricsNotificationAdded = graphql(`
  subscription MetricsNotificationAdded {
    notificationAdded {
      id
    }
  }
`);

const MetricsBrokenNode = graphql(`
  query MetricsBrokenNode {
    node(id: "not-a-global-id") {
      id
    }
  }
`);

// ---------------------------------------------------------------------------------------
// Helpers

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

async function scrape(headers: Record<string, string> = {}): Promise<Response> {
  return app.yoga.fetch('http://yoga/metrics', { headers });
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition. */
function samples(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [, name, labelText = '', value] = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)!;
      const labels = Object.fromEntries([...labelText.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
      return { name, labels, value: Number(value) };
    });
}

/** The value of the one series `name` with exactly these labels; undefined when it is not there. */
function valueOf(all: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = all.filter(
    (s) =>
      s.name === name &&
      Object.keys(s.labels).length === Object.keys(labels).length &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  expect(found.length, `${name} ${JSON.stringify(labels)}`).toBeLessThanOrEqual(1);
  return found[0]?.value;
}

const requestLines = () => logLines.filter((line) => line.msg === 'request');
const lineOf = (requestId: string) =>
  waitFor(async () => requestLines().find((line) => line.requestId === requestId), { what: `log line ${requestId}` });

// ---------------------------------------------------------------------------------------

describe('GET /metrics', () => {
  it('counts operations, errors, imported rows, events and alerts exactly, and names no tenant', async () => {
    const tenant = await createTenant(app);
    const { client } = tenant;
    const collectionId = await newCollection(tenant);

    await client.gql(MetricsCollections, {});
    await client.gql(MetricsCollections, { search: 'x' });
    const broken = await client.execute(MetricsBrokenNode);
    expect(broken.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');

    // Five indicators and a line that is none: six rows.
    const text = ['203.0.113.71', '203.0.113.72', 'metrics-a.example', 'metrics-b.example', ABC.md5, 'not an ioc'];
    const job = await requestImport(client, collectionId, text.join('\n'));
    await runImportJob(services, fromGlobalId(job.id).id);
    expect(await jobState(client, job.id)).toMatchObject({ status: 'SUCCEEDED', invalid: 1 });

    await createRule(client, collectionId);
    const at = new Date().toISOString();
    const answer = await sendEvents(client, [
      { '@timestamp': at, source: { ip: '203.0.113.71' } },
      { '@timestamp': at, source: { ip: '198.51.100.1' } },
      '{ not json',
    ]);
    expect(answer).toMatchObject({ status: 200, accepted: 2, rejected: 1 });

    const response = await scrape();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const body = await response.text();
    const all = samples(body);
    const query = (operationName: string) => ({ operationName, operationType: 'query' });

    expect(valueOf(all, 'graphql_envelop_request', query('MetricsCollections'))).toBe(2);
    expect(valueOf(all, 'graphql_envelop_request_duration_count', query('MetricsCollections'))).toBe(2);
    expect(
      valueOf(all, 'graphql_yoga_http_duration_count', {
        ...query('MetricsCollections'),
        method: 'POST',
        statusCode: '200',
      }),
    ).toBe(2);
    expect(valueOf(all, 'graphql_envelop_request', query('MetricsBrokenNode'))).toBe(1);
    expect(
      valueOf(all, 'graphql_envelop_error_result', {
        ...query('MetricsBrokenNode'),
        phase: 'execute',
        code: 'BAD_USER_INPUT',
      }),
    ).toBe(1);
    expect(
      valueOf(all, 'graphql_envelop_error_result', {
        ...query('MetricsCollections'),
        phase: 'execute',
        code: 'BAD_USER_INPUT',
      }),
    ).toBeUndefined();

    expect(valueOf(all, 'ioc_import_rows_total')).toBe(6);
    expect(valueOf(all, 'ioc_events_ingested_total', { outcome: 'accepted' })).toBe(2);
    expect(valueOf(all, 'ioc_events_ingested_total', { outcome: 'rejected' })).toBe(1);
    expect(valueOf(all, 'ioc_alerts_raised_total')).toBe(1);
    expect(valueOf(all, 'ioc_subscriptions_open')).toBe(0);
    expect(valueOf(all, 'ioc_http_responses_total', { status: '200' })).toBeGreaterThanOrEqual(8);

    // Read from pg-boss at the scrape: every queue of the service, whatever its count.
    expect(valueOf(all, 'ioc_jobs_stats_up')).toBe(1);
    for (const name of ['ioc_jobs_queued', 'ioc_jobs_active', 'ioc_jobs_failed']) {
      for (const queue of ['import', 'telemetry-report', 'retrohunt']) {
        expect(valueOf(all, name, { queue }), `${name} ${queue}`).toBeGreaterThanOrEqual(0);
      }
    }

    // Counts only: no tenant, user, key, collection, value or request URL.
    const community = await services.prisma.community.findUniqueOrThrow({ where: { id: tenant.communityRawId } });
    for (const secret of [
      tenant.communityId,
      tenant.communityRawId,
      community.name,
      client.userId,
      client.key,
      collectionId,
      fromGlobalId(collectionId).id,
      '203.0.113',
      'metrics-a.example',
    ]) {
      expect(body).not.toContain(secret);
    }
    expect(body).not.toMatch(UUID);
    const labelNames = new Set(all.flatMap((s) => Object.keys(s.labels)));
    for (const name of ['url', 'path', 'community', 'user', 'viewer', 'collection']) {
      expect(labelNames).not.toContain(name);
    }
  });

  it('counts the subscriptions open over SSE and WebSocket', async () => {
    const { client } = await createTenant(app);
    const { url } = await app.http();
    const gauge = async () => valueOf(samples(await (await scrape()).text()), 'ioc_subscriptions_open');
    const overSocket = connectWsAs(url, client).subscribe(MetricsNotificationAdded);
    void overSocket.next(30_000);
    const overSse = await subscribeSse(url, client, MetricsNotificationAdded);
    await waitFor(async () => (await gauge()) === 2, { what: 'two open subscriptions' });
    await overSocket.close();
    await overSse.close();
    await waitFor(async () => (await gauge()) === 0, { what: 'no open subscription' });
    const subscription = { operationName: 'MetricsNotificationAdded', operationType: 'subscription' };
    expect(valueOf(samples(await (await scrape()).text()), 'graphql_envelop_request', subscription)).toBe(2);
  });

  it('is served without an API key and answers only counts', async () => {
    const response = await scrape({ authorization: 'Bearer not-a-key' });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('# TYPE graphql_envelop_request counter');
  });
});

describe('request log', () => {
  it('logs one line per request with its id, operation, status and viewer, never the key or variables', async () => {
    const tenant = await createTenant(app);
    const secretSearch = `variable-${randomBytes(6).toString('hex')}`;
    await tenant.client.execute(MetricsCollections, { search: secretSearch }, { 'x-request-id': 'metrics-log.1' });
    expect(await lineOf('metrics-log.1')).toMatchObject({
      level: 30,
      requestId: 'metrics-log.1',
      method: 'POST',
      path: '/graphql',
      operationName: 'MetricsCollections',
      operationType: 'query',
      status: 200,
      durationMs: expect.any(Number),
      viewerId: tenant.client.userId,
    });

    const events = await tenant.client.request('/api/events', {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', 'x-request-id': 'metrics-log.2' },
      body: JSON.stringify({ '@timestamp': new Date().toISOString(), source: { ip: '192.0.2.1' } }),
    });
    expect(events.status).toBe(200);
    const ingest = await lineOf('metrics-log.2');
    expect(ingest).toMatchObject({ method: 'POST', path: '/api/events', status: 200, viewerId: tenant.client.userId });
    expect(ingest.operationName).toBeUndefined();

    const wrongKey = `ioc_${randomBytes(16).toString('hex')}`;
    const refused = await app.yoga.fetch('http://yoga/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${wrongKey}`,
        'x-request-id': 'metrics-log.3',
      },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(refused.status).toBe(401);
    const unauthenticated = await lineOf('metrics-log.3');
    expect(unauthenticated).toMatchObject({ path: '/graphql', status: 401 });
    expect(unauthenticated.viewerId).toBeUndefined();

    const logged = JSON.stringify(logLines);
    for (const secret of [tenant.client.key, wrongKey, secretSearch, 'Bearer']) {
      expect(logged).not.toContain(secret);
    }
    for (const line of requestLines()) {
      expect(Object.keys(line).sort()).toEqual(
        expect.arrayContaining(['requestId', 'method', 'path', 'status', 'durationMs']),
      );
      expect(line).not.toHaveProperty('headers');
      expect(line).not.toHaveProperty('variables');
    }
  });

  it('logs each job with its queue, id, attempt, duration and outcome', async () => {
    const queue = `metrics-test-${randomBytes(4).toString('hex')}`;
    await boss.createQueue(queue, { retryLimit: 0 });
    await boss.work<{ fail: boolean }>(
      queue,
      { pollingIntervalSeconds: 0.5 },
      observed(services, async (job) => {
        if (job.data.fail) throw new Error('this job fails');
      }),
    );
    try {
      const done = await queueJob(queue, { fail: false });
      const failed = await queueJob(queue, { fail: true });
      const jobLine = (id: string | null) =>
        waitFor(async () => logLines.find((line) => line.msg === 'job' && line.jobId === id), { what: `job ${id}` });
      expect(await jobLine(done)).toMatchObject({
        level: 30,
        queue,
        attempt: 0,
        durationMs: expect.any(Number),
        outcome: 'completed',
      });
      expect(await jobLine(failed)).toMatchObject({ level: 40, queue, outcome: 'failed' });
      expect(JSON.stringify(logLines.filter((line) => line.msg === 'job'))).not.toContain('"fail":');

      const all = samples(await (await scrape()).text());
      expect(valueOf(all, 'ioc_job_duration_seconds_count', { queue, outcome: 'completed' })).toBe(1);
      expect(valueOf(all, 'ioc_job_duration_seconds_count', { queue, outcome: 'failed' })).toBe(1);
    } finally {
      await boss.offWork(queue);
      await boss.deleteQueue(queue);
    }
  });
});

describe('request id', () => {
  const fetchWithId = (path: string, id?: string, init: RequestInit = {}) =>
    app.yoga.fetch(`http://yoga${path}`, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), ...(id === undefined ? {} : { 'x-request-id': id }) },
    });

  it('is the caller’s X-Request-Id when it is a plausible id, on every kind of answer', async () => {
    const tenant = await createTenant(app);
    const given = 'Trace-42.a_b-c';
    const answers = await Promise.all([
      tenant.client.execute(MetricsCollections, {}, { 'x-request-id': given }).then(() => null),
      fetchWithId('/graphql', given, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __typename }' }),
      }),
      fetchWithId('/api/events', given, { method: 'POST', body: '' }),
      fetchWithId('/metrics', given),
      fetchWithId('/health', given),
    ]);
    const [, unauthenticated, events, metrics, health] = answers as Response[];
    expect(unauthenticated.status).toBe(401);
    expect(events.status).toBe(401);
    for (const response of [unauthenticated, events, metrics, health]) {
      expect(response.headers.get('x-request-id')).toBe(given);
    }
    expect((await lineOf(given)).requestId).toBe(given);
  });

  it('is made when none or an unusable one is given', async () => {
    const made = (await fetchWithId('/metrics')).headers.get('x-request-id');
    expect(made).toMatch(UUID);
    for (const unusable of ['a'.repeat(129), 'has space', 'semi;colon', 'ünïcode', '']) {
      const answered = (await fetchWithId('/metrics', unusable)).headers.get('x-request-id');
      expect(answered, unusable).toMatch(UUID);
      expect(answered).not.toBe(made);
    }
    expect((await fetchWithId('/metrics', 'a'.repeat(128))).headers.get('x-request-id')).toBe('a'.repeat(128));
  });

  it('comes back over a real HTTP connection', async () => {
    const { url } = await app.http();
    const given = await fetch(`${url}/health`, { headers: { 'x-request-id': 'metrics-http-1' } });
    expect(given.headers.get('x-request-id')).toBe('metrics-http-1');
    const made = await fetch(`${url}/metrics`);
    expect(made.status).toBe(200);
    expect(made.headers.get('x-request-id')).toMatch(UUID);
  });
});
