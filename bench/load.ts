// Load, one run on one database, against the real service in its own process:
//   1. 50 concurrent clients read pages of 50 of a 500,000-indicator collection, with and without
//      a search term: first as fast as they can (the capacity), then as people page (about a
//      second per page) alone, then while an import and event ingest run: latency p50/p95/p99
//      and errors; and the PostgreSQL queries per GraphQL request (counted in this process, for
//      several page sizes);
//   2. a soak: 200 graphql-ws subscribers of 20 tenants (alertCreated and notificationAdded)
//      while each tenant's events raise alerts and its imports end: the service's JavaScript
//      heap over time (Node diagnostic reports) and whether any event reached another tenant.
// Figures only, never assertions.
//   npm run bench:load                    (embedded PostgreSQL)
//   DATABASE_URL=... npm run bench:load
//   BENCH_INDICATORS, BENCH_LOAD_SECONDS, BENCH_SOAK_SECONDS scale the run down for a quick try.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient, type Client as WsClient } from 'graphql-ws';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import WebSocket from 'ws';
import {
  benchTenant,
  copyRows,
  fmt,
  graphqlCall,
  ipv4,
  loadAverage,
  markdownTable,
  ndjsonBody,
  printBenchResult,
  printSection,
  seededRandom,
  spawnService,
  startBench,
  TLDS,
  toGlobalId,
  wordGenerator,
  type Bench,
} from './lib.ts';

const INDICATORS = Number(process.env.BENCH_INDICATORS ?? 500_000);
const CLIENTS = 50;
/** A person paging through results: about a second per page (0.5 to 1.5 s). */
const THINK_MS = 1_000;
const PAGE_SIZE = 50;
const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 60);
const QUIET_SECONDS = Math.min(20, LOAD_SECONDS);
/** Events per second sent while the readers read: a busy SOC's sensors, not a flood. */
const EVENTS_PER_SECOND = 2_000;
const IMPORT_LINES = 100_000;
const EVENT_BODY_LINES = 1_000;
const P95_TARGET_MS = 50;
const SOAK_SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 600);
const SOAK_TENANTS = 20;
const SUBSCRIBERS_PER_TENANT = 10;
const SOAK_INDICATORS_PER_TENANT = 2_000;
const HEAP_SAMPLE_SECONDS = 15;

// --- The collection ------------------------------------------------------------------------

/** 500,000 indicators: IPv4 (40%), domains (35%), URLs (15%), MD5 files (10%). */
function buildValues(): Array<{ type: string; value: string; md5?: string }> {
  const random = seededRandom(7);
  const word = wordGenerator(random);
  const hex = () => Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('');
  return Array.from({ length: INDICATORS }, (_, i) => {
    const slot = i % 20;
    if (slot < 8) return { type: 'IPV4', value: ipv4(11 + (i % 200), i) };
    if (slot < 15) return { type: 'DOMAIN', value: `${word()}-${i}.${TLDS[i % TLDS.length]}` };
    if (slot < 18) return { type: 'URL', value: `http://${word()}.${TLDS[i % TLDS.length]}/${word()}/${i}` };
    const md5 = hex();
    return { type: 'FILE', value: md5, md5 };
  });
}

async function insertCollection(
  bench: Bench,
  collectionId: string,
  communityId: string,
  values: ReturnType<typeof buildValues>,
) {
  const now = new Date().toISOString();
  await copyRows(
    bench,
    `COPY indicators (id, collection_id, type, value, md5, threat_ids, kill_chain_phases, valid_from, created_at, updated_at)
     FROM STDIN`,
    (function* () {
      for (const { type, value, md5 } of values)
        yield `${uuidv7()}\t${collectionId}\t${type}\t${value}\t${md5 ?? '\\N'}\t{}\t{}\t${now}\t${now}\t${now}\n`;
    })(),
  );
  await bench.services.pool.query('UPDATE communities SET indicator_count = $2 WHERE id = $1', [
    communityId,
    values.length,
  ]);
  await bench.services.pool.query('ANALYZE indicators');
}

/** What analysts type: part of an IP, a domain word, a whole hash, a defanged URL, or nothing. */
function searchTerms(values: ReturnType<typeof buildValues>): Array<string | null> {
  const random = seededRandom(99);
  const pick = () => values[Math.floor(random() * values.length)];
  const terms: Array<string | null> = [];
  for (let i = 0; i < 400; i += 1) {
    const { type, value } = pick();
    const kind = i % 5;
    if (kind === 0) terms.push(null);
    else if (type === 'IPV4') terms.push(value.split('.').slice(0, 3).join('.'));
    else if (type === 'FILE') terms.push(value);
    else if (type === 'URL') terms.push(value.replace('http://', 'hxxp://').replace(/\./g, '[.]'));
    else terms.push(value.split('-')[0]);
  }
  return terms;
}

const PAGE_QUERY = `query LoadPage($id: ID!, $first: Int, $after: String, $search: String) {
  node(id: $id) {
    ... on Collection {
      indicators(first: $first, after: $after, search: $search) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { id type value validFrom validUntil revoked description threats { id name } killChainPhases { killChainName phaseName } } }
      }
    }
  }
}`;

// --- Measuring -----------------------------------------------------------------------------

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const ms = (n: number) => `${n.toFixed(1)} ms`;

/** PostgreSQL statements sent by this process while `run` runs (median of `times` runs). */
async function queriesPerRequest(run: () => Promise<unknown>, times = 9): Promise<number> {
  const counts: number[] = [];
  const original = pg.Client.prototype.query;
  for (let i = 0; i < times; i += 1) {
    let count = 0;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      count += 1;
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof original;
    try {
      await run();
    } finally {
      pg.Client.prototype.query = original;
    }
    counts.push(count);
  }
  return counts.sort((a, b) => a - b)[Math.floor(times / 2)];
}

/** The service's JavaScript heap, from a Node diagnostic report it writes on SIGUSR2. */
async function heapUsedMb(pid: number, reportDir: string): Promise<number> {
  const before = new Set(readdirSync(reportDir));
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 200; i += 1) {
    const fresh = readdirSync(reportDir).find((f) => !before.has(f));
    if (fresh) {
      await new Promise((r) => setTimeout(r, 200)); // written at once, but let it finish
      const file = path.join(reportDir, fresh);
      const report = JSON.parse(readFileSync(file, 'utf8')) as { javascriptHeap: { usedMemory: number } };
      rmSync(file);
      return report.javascriptHeap.usedMemory / 2 ** 20;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no diagnostic report');
}

/** Least-squares slope of y over x. */
function slope(points: Array<[number, number]>): number {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den ? num / den : 0;
}

/**
 * 50 readers for `seconds`: a page, then (half the time) the next one, with a search term or
 * none, pausing `thinkMs` after each page as a person reading it would (0: as fast as possible).
 */
async function readers(
  target: string,
  key: string,
  collectionId: string,
  terms: Array<string | null>,
  { seconds, thinkMs }: { seconds: number; thinkMs: number },
) {
  const latencies: number[] = [];
  let errors = 0;
  const errorSamples = new Set<string>();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const readerLoop = async (index: number) => {
    const random = seededRandom(1000 + index);
    while (performance.now() < deadline) {
      const search = terms[Math.floor(random() * terms.length)];
      let after: string | null = null;
      for (let page = 0; page < (random() < 0.5 ? 2 : 1); page += 1) {
        const t0 = performance.now();
        try {
          const data = await graphqlCall(target, key, PAGE_QUERY, {
            id: collectionId,
            first: PAGE_SIZE,
            after,
            search,
          });
          latencies.push(performance.now() - t0);
          after = data.node.indicators.pageInfo.endCursor;
          if (thinkMs) await new Promise((r) => setTimeout(r, thinkMs * (0.5 + random())));
          if (!data.node.indicators.pageInfo.hasNextPage) break;
        } catch (error) {
          errors += 1;
          errorSamples.add(String(error).slice(0, 200));
          break;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, i) => readerLoop(i)));
  const elapsed = performance.now() - started;
  latencies.sort((a, b) => a - b);
  return {
    figures: [
      ['requests', `${fmt(latencies.length)} (${fmt(latencies.length / (elapsed / 1000))}/s)`],
      ['errors', `${errors}${errorSamples.size ? `: ${[...errorSamples].join(' | ')}` : ''}`],
      [
        'p50 / p95 / p99',
        `${ms(percentile(latencies, 50))} / ${ms(percentile(latencies, 95))} / ${ms(percentile(latencies, 99))}`,
      ],
      ['p95 target', `<= ${P95_TARGET_MS} ms: ${percentile(latencies, 95) <= P95_TARGET_MS ? 'met' : 'missed'}`],
      ['max', ms(latencies.at(-1) ?? 0)],
    ] as Array<[string, string]>,
    numbers: {
      pagesPerSecond: latencies.length / (elapsed / 1000),
      errors,
      p95Ms: percentile(latencies, 95),
      p99Ms: percentile(latencies, 99),
    },
    elapsed,
  };
}

// --- The run -------------------------------------------------------------------------------

const bench = await startBench({ workers: false });
const reportDir = mkdtempSync(path.join(tmpdir(), 'ioc-load-reports-'));
let service: Awaited<ReturnType<typeof spawnService>> | undefined;
try {
  console.log(`bench:load on ${bench.databaseUrl.replace(/:[^:@/]*@/, ':***@')}; load average ${loadAverage()}`);
  const reader = await benchTenant(bench.services);
  const collection = await bench.services.prisma.collection.create({
    data: { communityId: reader.communityId, name: 'load' },
  });
  const values = buildValues();
  let started = performance.now();
  await insertCollection(bench, collection.id, reader.communityId, values);
  console.log(`${fmt(INDICATORS)} indicators stored in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const collectionId = toGlobalId('Collection', collection.id);
  const terms = searchTerms(values);

  // Queries per request, in this process (same code, same database).
  const perRequest: string[][] = [];
  for (const first of [10, 50, 100]) {
    for (const search of [null, terms[1], terms[3]]) {
      const n = await queriesPerRequest(() =>
        graphqlCall(bench.yoga, reader.key, PAGE_QUERY, { id: collectionId, first, search }),
      );
      perRequest.push([String(first), search === null ? '(none)' : JSON.stringify(search), String(n)]);
    }
  }

  service = await spawnService(bench.databaseUrl, {
    nodeArgs: ['--report-on-signal', '--report-signal=SIGUSR2', `--report-directory=${reportDir}`, '--report-compact'],
  });

  const capacity = await readers(service.url, reader.key, collectionId, terms, { seconds: QUIET_SECONDS, thinkMs: 0 });
  const alone = await readers(service.url, reader.key, collectionId, terms, {
    seconds: QUIET_SECONDS,
    thinkMs: THINK_MS,
  });

  // Background work: an import into another tenant's collection, and event ingest at a steady rate.
  const writer = await benchTenant(bench.services);
  const writerCollection = await graphqlCall(
    service.url,
    writer.key,
    'mutation ($input: CreateCollectionInput!) { createCollection(input: $input) { ... on CreateCollectionSuccess { collection { id } } } }',
    { input: { communityId: toGlobalId('Community', writer.communityId), name: 'import under load' } },
  );
  const importText = Array.from({ length: IMPORT_LINES }, (_, i) => ipv4(100 + (i % 100), i)).join('\n');
  let loadRunning = true;
  const eventsSent = { bodies: 0, accepted: 0 };
  const ingest = (async () => {
    const random = seededRandom(5);
    const ingestStarted = performance.now();
    while (loadRunning) {
      const due = ingestStarted + (eventsSent.bodies * EVENT_BODY_LINES * 1000) / EVENTS_PER_SECOND;
      if (performance.now() < due) {
        await new Promise((r) => setTimeout(r, due - performance.now()));
        continue;
      }
      const at = new Date().toISOString();
      const lines = Array.from({ length: EVENT_BODY_LINES }, () =>
        JSON.stringify({ '@timestamp': at, 'source.ip': values[Math.floor(random() * values.length)].value }),
      );
      const response = await fetch(`${service!.url}/api/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${writer.key}`, 'content-type': 'application/x-ndjson' },
        body: ndjsonBody(lines),
      });
      const answer = (await response.json()) as { accepted?: number };
      eventsSent.bodies += 1;
      eventsSent.accepted += answer.accepted ?? 0;
    }
  })();
  const importStarted = performance.now();
  const job = await graphqlCall(
    service.url,
    writer.key,
    'mutation ($input: ImportIndicatorsFromTextInput!) { importIndicatorsFromText(input: $input) { ... on ImportSuccess { importJob { id } } } }',
    { input: { collectionId: writerCollection.createCollection.collection.id, text: importText } },
  );
  const jobId: string = job.importIndicatorsFromText.importJob.id;
  let importMs: number | null = null;
  const importWatch = (async () => {
    while (loadRunning && importMs === null) {
      const state = await graphqlCall(
        service!.url,
        writer.key,
        'query ($id: ID!) { node(id: $id) { ... on ImportJob { status } } }',
        {
          id: jobId,
        },
      );
      if (state.node.status === 'SUCCEEDED' || state.node.status === 'FAILED')
        importMs = performance.now() - importStarted;
      else await new Promise((r) => setTimeout(r, 250));
    }
  })();

  const underLoad = await readers(service.url, reader.key, collectionId, terms, {
    seconds: LOAD_SECONDS,
    thinkMs: THINK_MS,
  });
  const loadMs = underLoad.elapsed;
  const importDuringLoad = importMs;
  loadRunning = false;
  await Promise.all([ingest, importWatch]);

  printSection(
    `\nCapacity: ${CLIENTS} clients reading as fast as they can, nothing else running (${QUIET_SECONDS} s)`,
    capacity.figures.filter(([label]) => label !== 'p95 target'),
  );
  printSection(`\nReads alone (${CLIENTS} clients, ${THINK_MS} ms between pages, ${QUIET_SECONDS} s)`, alone.figures);
  printSection(`\nReads under load (${CLIENTS} clients, ${THINK_MS} ms between pages, ${LOAD_SECONDS} s)`, [
    ...underLoad.figures,
    [
      'meanwhile: import of 100,000 lines',
      importDuringLoad === null ? 'still running at the end' : `done in ${(importDuringLoad / 1000).toFixed(1)} s`,
    ],
    [
      'meanwhile: events ingested',
      `${fmt(eventsSent.accepted)} (${fmt(eventsSent.accepted / (loadMs / 1000))}/s, ${EVENT_BODY_LINES}-line bodies)`,
    ],
  ]);
  console.log('\nPostgreSQL queries per GraphQL request (context included):');
  console.log(markdownTable(['first', 'search', 'queries'], perRequest));

  // --- Soak ------------------------------------------------------------------------------
  type Tenant = { communityId: string; key: string; collectionId: string; ips: string[] };
  const tenants: Tenant[] = [];
  for (let t = 0; t < SOAK_TENANTS; t += 1) {
    const tenant = await benchTenant(bench.services);
    const created = await graphqlCall(
      service.url,
      tenant.key,
      'mutation ($input: CreateCollectionInput!) { createCollection(input: $input) { ... on CreateCollectionSuccess { collection { id } } } }',
      { input: { communityId: toGlobalId('Community', tenant.communityId), name: 'soak', createDetectionRule: true } },
    );
    const ips = Array.from({ length: SOAK_INDICATORS_PER_TENANT }, (_, i) => ipv4(20 + t, i));
    await graphqlCall(
      service.url,
      tenant.key,
      'mutation ($input: ImportIndicatorsFromTextInput!) { importIndicatorsFromText(input: $input) { __typename } }',
      {
        input: {
          collectionId: created.createCollection.collection.id,
          text: ips.join('\n'),
          properties: { validFrom: '2020-01-01T00:00:00Z' },
        },
      },
    );
    tenants.push({ ...tenant, collectionId: created.createCollection.collection.id, ips });
  }
  await new Promise((r) => setTimeout(r, 5000)); // the tenants' imports end
  const received = { alerts: 0, notifications: 0, leaks: 0, subscriptionErrors: 0 };
  const sockets: WsClient[] = [];
  for (const tenant of tenants) {
    const community = toGlobalId('Community', tenant.communityId);
    for (let s = 0; s < SUBSCRIBERS_PER_TENANT; s += 1) {
      const ws = createClient({
        url: `${service.url.replace(/^http/, 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${tenant.key}` },
        lazy: false,
        retryAttempts: 5,
      });
      sockets.push(ws);
      const sink = (check: (data: any) => boolean, counter: 'alerts' | 'notifications') => ({
        next: ({ data }: { data?: any }) => {
          received[counter] += 1;
          if (!check(data)) received.leaks += 1;
        },
        error: () => (received.subscriptionErrors += 1),
        complete: () => {},
      });
      ws.subscribe(
        { query: 'subscription { alertCreated { id community { id } collection { id } } }' },
        sink(
          (d) => d.alertCreated.community.id === community && d.alertCreated.collection.id === tenant.collectionId,
          'alerts',
        ),
      );
      ws.subscribe(
        { query: 'subscription { notificationAdded { id subject { ... on ImportJob { collection { id } } } } }' },
        sink(
          (d) => !d.notificationAdded.subject || d.notificationAdded.subject.collection?.id === tenant.collectionId,
          'notifications',
        ),
      );
    }
  }
  await new Promise((r) => setTimeout(r, 3000));

  const heap: Array<[number, number]> = [];
  const soakStarted = performance.now();
  const sent = { alertEvents: 0, imports: 0 };
  const samples = (async () => {
    while (performance.now() - soakStarted < SOAK_SECONDS * 1000) {
      heap.push([(performance.now() - soakStarted) / 60_000, await heapUsedMb(service!.pid, reportDir)]);
      await new Promise((r) => setTimeout(r, HEAP_SAMPLE_SECONDS * 1000));
    }
  })();
  for (let tick = 0; performance.now() - soakStarted < SOAK_SECONDS * 1000; tick += 1) {
    const tenant = tenants[tick % SOAK_TENANTS];
    // A fresh indicator each time: a new alert for each of the tenant's subscribers.
    const ip = tenant.ips[Math.floor(tick / SOAK_TENANTS) % SOAK_INDICATORS_PER_TENANT];
    await fetch(`${service.url}/api/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.key}`, 'content-type': 'application/x-ndjson' },
      body: JSON.stringify({ '@timestamp': new Date().toISOString(), 'destination.ip': ip }),
    });
    sent.alertEvents += 1;
    if (tick % 10 === 0) {
      await graphqlCall(
        service.url,
        tenant.key,
        'mutation ($input: ImportIndicatorsFromTextInput!) { importIndicatorsFromText(input: $input) { __typename } }',
        { input: { collectionId: tenant.collectionId, text: `soak-${tick}.example` } },
      );
      sent.imports += 1;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await samples;
  await new Promise((r) => setTimeout(r, 3000));
  await Promise.all(sockets.map((s) => s.dispose()));

  const firstMinute = heap.filter(([m]) => m <= 1.5).map(([, mb]) => mb);
  const lastMinute = heap.filter(([m]) => m >= SOAK_SECONDS / 60 - 1.5).map(([, mb]) => mb);
  printSection(
    `\nSoak (${SOAK_SECONDS / 60} min, ${SOAK_TENANTS * SUBSCRIBERS_PER_TENANT} graphql-ws subscribers of ${SOAK_TENANTS} tenants)`,
    [
      ['events raising an alert / imports', `${fmt(sent.alertEvents)} / ${fmt(sent.imports)}`],
      ['alerts delivered (expected)', `${fmt(received.alerts)} (${fmt(sent.alertEvents * SUBSCRIBERS_PER_TENANT)})`],
      [
        'notifications delivered (expected, at least)',
        `${fmt(received.notifications)} (${fmt(sent.imports * SUBSCRIBERS_PER_TENANT)})`,
      ],
      ['deliveries to another tenant', String(received.leaks)],
      ['subscriptions ended by an error', String(received.subscriptionErrors)],
      [
        'service heap used: first / last 1.5 min (min)',
        `${Math.min(...firstMinute).toFixed(1)} MB / ${Math.min(...lastMinute).toFixed(1)} MB`,
      ],
      ['service heap trend (least squares)', `${slope(heap).toFixed(2)} MB per minute over ${heap.length} samples`],
      ['service peak RSS', `${service.peakRssMb()} MB`],
    ],
  );
  printBenchResult('load', {
    capacityPagesPerSecond: capacity.numbers.pagesPerSecond,
    capacityErrors: capacity.numbers.errors,
    aloneP95Ms: alone.numbers.p95Ms,
    aloneP99Ms: alone.numbers.p99Ms,
    underLoadP95Ms: underLoad.numbers.p95Ms,
    underLoadP99Ms: underLoad.numbers.p99Ms,
    underLoadErrors: underLoad.numbers.errors,
    soakAlertsDelivered: received.alerts,
    soakAlertsExpected: sent.alertEvents * SUBSCRIBERS_PER_TENANT,
    soakDeliveriesToAnotherTenant: received.leaks,
    soakSubscriptionErrors: received.subscriptionErrors,
    soakHeapTrendMbPerMinute: slope(heap),
    servicePeakRssMb: service.peakRssMb(),
  });
} finally {
  await service?.stop();
  await bench.close();
  rmSync(reportDir, { recursive: true, force: true });
}
