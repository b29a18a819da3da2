// Real-time delivery over real transports: graphql-ws and GraphQL over SSE against a real
// HTTP server, and across processes sharing one database (PostgreSQL LISTEN/NOTIFY).
//
// This file's process runs no jobs (workers off). Imports are run by a ROLE=worker process
// spawned below, or by the workers of a test file running in parallel on the same database;
// either way every import event seen here was published by another process.
import type { ResultOf } from '@graphql-typed-document-node/core';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import WebSocket from 'ws';
import {
  AlertCreated,
  ImportJobUpdated,
  NotificationAdded,
  RetrohuntUpdated,
  TelemetryReportUpdated,
} from './documents.ts';
import { spawnService, STARTUP_MS, type ServiceProcess } from './processes.ts';
import {
  type Client,
  collectionWith,
  createRule,
  createTenant,
  createUser,
  daysAgo,
  fromGlobalId,
  generateReport,
  holdIndicatorRows,
  importText,
  jobState,
  newCollection,
  notifyUser,
  reportDetails,
  requestImport,
  sendAccepted,
  sendEvents,
  startTestApp,
  type Tenant,
  toGlobalId,
  unique,
  updateRule,
  waitFor,
} from './kit.ts';
import { connectWs, connectWsAs, subscribeSse, type Ended, type Result } from './transports.ts';

const app = await startTestApp({}, { workers: false });

/** Rows in the big imports: three 5,000-row batches, so progress shows between them. */
const ROWS = 12_000;
/** Every 1,000th row is not an observable. */
const INVALID = ROWS / 1000;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

// ---------------------------------------------------------------------------------------
// Imports and what their subscribers should see.

/** `rows` lines of unique domains, every 1,000th line not an observable. */
function indicatorText(rows: number): string {
  const tag = randomUUID().slice(0, 8);
  return Array.from({ length: rows }, (_, i) =>
    i % 1000 === 999 ? `not an indicator ${i}` : `host-${i}.${tag}.example`,
  ).join('\n');
}

/** Starts an import of `text` into a new collection of the tenant's; returns the job's id. */
async function startImport(tenant: Tenant, text: string): Promise<string> {
  return (await requestImport(tenant.client, await newCollection(tenant, unique('feed')), text)).id;
}

/** importJobUpdated of a ROWS import: current state, progress between batches, success, end. */
async function expectWholeImport(
  client: Client,
  jobId: string,
  { results, end }: { results: Result<ResultOf<typeof ImportJobUpdated>>[]; end?: Ended },
) {
  expect(end, 'the subscription completes by itself').toEqual({ ended: true });
  expect(results.flatMap((r) => r.errors ?? [])).toEqual([]);
  const states = results.map((r) => r.data!.importJobUpdated);
  const seen = `states seen: ${JSON.stringify(states)}`;
  expect(new Set(states.map((s) => s.id)), seen).toEqual(new Set([jobId]));
  // Subscribed right after the request: the job has not finished yet.
  expect(['QUEUED', 'RUNNING'], seen).toContain(states[0].status);
  const processed = states.map((s) => s.processed);
  expect(processed, `processed never goes back; ${seen}`).toEqual([...processed].sort((a, b) => a - b));
  expect(
    states.some((s) => s.status === 'RUNNING' && s.processed > 0 && s.processed < ROWS),
    `progress between batches; ${seen}`,
  ).toBe(true);
  expect(
    states.slice(0, -1).map((s) => s.status),
    `the end is sent once, last; ${seen}`,
  ).not.toContain('SUCCEEDED');
  const last = states.at(-1)!;
  expect(last).toMatchObject({
    status: 'SUCCEEDED',
    total: ROWS,
    processed: ROWS,
    created: ROWS - INVALID,
    invalid: INVALID,
    errors: { totalCount: INVALID },
  });
  expect(await jobState(client, jobId)).toMatchObject(last);
}

// ---------------------------------------------------------------------------------------
// The service in other processes: `npm start` with ROLE=worker or ROLE=api.

let worker: ServiceProcess | undefined;
let api: ServiceProcess | undefined;

beforeAll(async () => {
  // On first start outside production, main.ts creates a demo tenant in an empty database;
  // with a community present it leaves the shared test database alone.
  await app.services.prisma.community.create({ data: { name: unique('placeholder') } });
  // Both at once (each takes seconds to load); one that did start is stopped even if the other did not.
  const databaseUrl = inject('databaseUrl');
  const spawned = await Promise.allSettled([spawnService('worker', databaseUrl), spawnService('api', databaseUrl)]);
  [worker, api] = spawned.map((s) => (s.status === 'fulfilled' ? s.value : undefined));
  for (const s of spawned) if (s.status === 'rejected') throw s.reason;
}, STARTUP_MS + 30_000);

afterAll(async () => {
  await Promise.all([worker?.stop(), api?.stop()]);
  for (const child of [worker, api]) {
    if (!child) continue;
    expect(() => process.kill(child.pid, 0), `process ${child.pid} is gone`).toThrow();
  }
});

// ---------------------------------------------------------------------------------------

describe('importJobUpdated', () => {
  it('over graphql-ws: the current state, progress by batch, success with the final counts, then the end', async () => {
    const tenant = await createTenant(app);
    const jobId = await startImport(tenant, indicatorText(ROWS));
    const { url } = await app.http();
    const feed = connectWsAs(url, tenant.client).subscribe(ImportJobUpdated, { id: jobId });
    await expectWholeImport(tenant.client, jobId, await feed.collect());
  });

  it('over SSE with the Authorization header: the same', async () => {
    const tenant = await createTenant(app);
    const jobId = await startImport(tenant, indicatorText(ROWS));
    const { url } = await app.http();
    const feed = await subscribeSse(url, tenant.client, ImportJobUpdated, { id: jobId });
    await expectWholeImport(tenant.client, jobId, await feed.collect());
  });
});

describe('notificationAdded', () => {
  it('over graphql-ws and over SSE: IMPORT_FINISHED about the job when the import ends', async () => {
    const tenant = await createTenant(app);
    const { url } = await app.http();
    const feeds = {
      'graphql-ws': connectWsAs(url, tenant.client).subscribe(NotificationAdded),
      SSE: await subscribeSse(url, tenant.client, NotificationAdded),
    };
    for (const feed of Object.values(feeds))
      await feed.primed(() => notifyUser(app, tenant.client, tenant.communityRawId, 'subscription probe'));
    const jobId = await startImport(tenant, indicatorText(20));
    for (const [transport, feed] of Object.entries(feeds)) {
      const { results } = await feed.collect((r) => r.data?.notificationAdded.subject?.id === jobId);
      expect(results.at(-1)!.data!.notificationAdded, transport).toMatchObject({
        kind: 'IMPORT_FINISHED',
        title: expect.stringContaining('20 created'),
        subject: { __typename: 'ImportJob', id: jobId },
      });
    }
  });
});

describe('WebSocket authentication and authorisation', () => {
  it('closes the socket with 4403 when the key is missing or wrong', async () => {
    const { url } = await app.http();
    for (const params of [{}, { authorization: `Bearer ${randomUUID()}` }, { authorization: 'not even bearer' }]) {
      expect((await connectWs(url, params).closed).code, JSON.stringify(params)).toBe(4403);
    }
  });

  it('fails only the operation on a job the viewer cannot see; the socket goes on serving', async () => {
    const [owner, stranger] = await Promise.all([createTenant(app), createTenant(app)]);
    const [foreignJob, ownJob] = await Promise.all([
      startImport(stranger, indicatorText(10)),
      startImport(owner, indicatorText(10)),
    ]);
    const { url } = await app.http();
    const socket = connectWsAs(url, owner.client);
    for (const id of [foreignJob, toGlobalId('ImportJob', randomUUID())]) {
      expect((await socket.subscribe(ImportJobUpdated, { id }).collect()).end, id).toEqual({
        ended: true,
        error: [expect.objectContaining({ message: 'ImportJob not found', extensions: { code: 'NOT_FOUND' } })],
      });
    }
    const { results, end } = await socket.subscribe(ImportJobUpdated, { id: ownJob }).collect();
    expect(end).toEqual({ ended: true });
    expect(results.at(-1)!.data!.importJobUpdated).toMatchObject({ id: ownJob, status: 'SUCCEEDED', processed: 10 });
    expect(socket.sockets).toHaveLength(1);
    expect(socket.sockets[0].readyState).toBe(WebSocket.OPEN);
  });
});

describe('two processes on one database', () => {
  it('a subscriber here and one on the API process receive the progress of an import another process runs', async () => {
    const published = vi.spyOn(app.services.pubsub, 'publish');
    try {
      const tenant = await createTenant(app);
      const jobId = await startImport(tenant, indicatorText(ROWS));
      const here = connectWsAs((await app.http()).url, tenant.client).subscribe(ImportJobUpdated, { id: jobId });
      const onApiProcess = connectWsAs(api!.url, tenant.client).subscribe(ImportJobUpdated, { id: jobId });
      for (const feed of [here, onApiProcess]) await expectWholeImport(tenant.client, jobId, await feed.collect());
      // Nothing here published the events delivered here: they came through PostgreSQL.
      expect(published.mock.calls.filter(([topic]) => topic === 'importJobUpdated')).toEqual([]);
    } finally {
      published.mockRestore();
    }
  });

  it('a subscriber on the API process receives a notification created in this process', async () => {
    const tenant = await createTenant(app);
    const feed = connectWsAs(api!.url, tenant.client).subscribe(NotificationAdded);
    const createdHere: string[] = [];
    const first = await feed.primed(async () =>
      createdHere.push(
        toGlobalId(
          'Notification',
          (await notifyUser(app, tenant.client, tenant.communityRawId, 'subscription probe')).id,
        ),
      ),
    );
    expect(createdHere).toContain(first.data!.notificationAdded.id);
    expect(first.data!.notificationAdded).toMatchObject({
      kind: 'IMPORT_FINISHED',
      title: 'subscription probe',
      subject: null,
    });
  });
});

// ---------------------------------------------------------------------------------------
// Telemetry reports: run by the jobs of another process, pushed to subscribers here.

/** A tenant's collection holding `ip`, seen once in the tenant's events. */
async function collectionSeenOnce(tenant: Tenant, ip: string): Promise<string> {
  const collectionId = await collectionWith(tenant, [ip]);
  await sendAccepted(tenant.client, [{ '@timestamp': daysAgo(1), 'source.ip': ip }]);
  return collectionId;
}

/**
 * Starts a report that stays RUNNING until released: a row lock on the one (seen) indicator
 * holds the job where it writes that indicator's entry. A subscriber can then be sure to
 * subscribe before the end, without relying on timing.
 */
async function heldReport(tenant: Tenant, collectionId: string) {
  const release = await holdIndicatorRows(app, collectionId);
  const reportId = (await generateReport(tenant.client, collectionId)).id;
  await waitFor(async () => (await reportDetails(tenant.client, reportId))?.status === 'RUNNING', {
    what: `report ${reportId} to run`,
  });
  return { reportId, release };
}

type ReportState = ResultOf<typeof TelemetryReportUpdated>['telemetryReportUpdated'];

describe('telemetry reports', () => {
  it('notificationAdded over graphql-ws and over SSE: TELEMETRY_REPORT_READY about the report when it is ready', async () => {
    const tenant = await createTenant(app);
    const collectionId = await collectionSeenOnce(tenant, '203.0.113.200');
    const { url } = await app.http();
    const feeds = {
      'graphql-ws': connectWsAs(url, tenant.client).subscribe(NotificationAdded),
      SSE: await subscribeSse(url, tenant.client, NotificationAdded),
    };
    for (const feed of Object.values(feeds))
      await feed.primed(() => notifyUser(app, tenant.client, tenant.communityRawId, 'subscription probe'));
    const reportId = (await generateReport(tenant.client, collectionId)).id;
    for (const [transport, feed] of Object.entries(feeds)) {
      const { results } = await feed.collect((r) => r.data?.notificationAdded.subject?.id === reportId);
      expect(results.at(-1)!.data!.notificationAdded, transport).toMatchObject({
        kind: 'TELEMETRY_REPORT_READY',
        title: expect.stringContaining('1 of 1'),
        subject: { __typename: 'TelemetryReport', id: reportId },
      });
    }
  });

  it('telemetryReportUpdated over graphql-ws and over SSE: the current state first, then the change, then the end', async () => {
    const tenant = await createTenant(app);
    const collectionId = await collectionSeenOnce(tenant, '203.0.113.201');
    const { reportId, release } = await heldReport(tenant, collectionId);
    const { url } = await app.http();
    const feeds = {
      'graphql-ws': connectWsAs(url, tenant.client).subscribe(TelemetryReportUpdated, { id: reportId }),
      SSE: await subscribeSse(url, tenant.client, TelemetryReportUpdated, { id: reportId }),
    };
    // The state as it is now, at once, while the report runs.
    for (const [transport, feed] of Object.entries(feeds)) {
      const first = await feed.next(20_000);
      expect(first, transport).toMatchObject({
        data: { telemetryReportUpdated: { id: reportId, status: 'RUNNING', completedAt: null } },
      });
    }
    await release();
    for (const [transport, feed] of Object.entries(feeds)) {
      const { results, end } = await feed.collect();
      expect(end, `${transport} completes by itself`).toEqual({ ended: true });
      expect(
        results.map((r) => r.data?.telemetryReportUpdated),
        transport,
      ).toMatchObject([{ id: reportId, status: 'SUCCEEDED', indicatorsSeen: 1, completedAt: expect.any(String) }]);
    }
    // A subscriber to a ready report gets it once and the end.
    const late = await connectWsAs(url, tenant.client).subscribe(TelemetryReportUpdated, { id: reportId }).collect();
    expect(late.end).toEqual({ ended: true });
    expect(late.results.map((r) => r.data?.telemetryReportUpdated.status)).toEqual(['SUCCEEDED']);
  });

  it('a report run by another process is pushed to subscribers here and on the API process', async () => {
    const published = vi.spyOn(app.services.pubsub, 'publish');
    try {
      const tenant = await createTenant(app);
      const collectionId = await collectionSeenOnce(tenant, '203.0.113.202');
      const { reportId, release } = await heldReport(tenant, collectionId);
      const notifications = connectWsAs(api!.url, tenant.client).subscribe(NotificationAdded);
      await notifications.primed(() => notifyUser(app, tenant.client, tenant.communityRawId, 'subscription probe'));
      const feeds = [
        connectWsAs((await app.http()).url, tenant.client).subscribe(TelemetryReportUpdated, { id: reportId }),
        connectWsAs(api!.url, tenant.client).subscribe(TelemetryReportUpdated, { id: reportId }),
      ];
      for (const feed of feeds) expect(await feed.next(20_000)).toMatchObject({ data: expect.anything() });
      await release();
      for (const feed of feeds) {
        const { results, end } = await feed.collect();
        expect(end).toEqual({ ended: true });
        expect(results.map((r) => (r.data?.telemetryReportUpdated as ReportState).status)).toEqual(['SUCCEEDED']);
      }
      const { results } = await notifications.collect((r) => r.data?.notificationAdded.subject?.id === reportId);
      const ready = results.at(-1)!.data!.notificationAdded;
      expect(ready.kind).toBe('TELEMETRY_REPORT_READY');
      // Nothing here published the report's events, nor its notification (only the probes):
      // they came through PostgreSQL.
      expect(published.mock.calls.filter(([topic]) => topic === 'telemetryReportUpdated')).toEqual([]);
      const publishedIds = published.mock.calls.map(([, , payload]) => (payload as { id?: string } | undefined)?.id);
      expect(publishedIds).not.toContain(fromGlobalId(ready.id).id);
    } finally {
      published.mockRestore();
    }
  });
});

// ---------------------------------------------------------------------------------------
// Detection: alerts raised by events sent here, retrohunts run by the jobs of another process.

/** A collection with a rule (made with it) watching `values` (IPs), valid for a day already. */
const watched = (client: Client, communityId: string, values: string[], shared = false) =>
  collectionWith({ client, communityId }, values, {
    shared,
    createDetectionRule: true,
    properties: { validFrom: daysAgo(1) },
  });

/** Sends one event with `ip` as the named community's (the client must be allowed to send there). */
const sendIp = (client: Client, ip: string) =>
  sendAccepted(client, [{ '@timestamp': new Date().toISOString(), 'destination.ip': ip }]);

/** Probe IPs: each probe event opens a new alert, so a subscriber sees that it is live. */
const probes = (group: number) =>
  Array.from({ length: 60 }, (_, i) => `10.${group}.${Math.floor(i / 250)}.${(i % 250) + 1}`);

describe('alertCreated', () => {
  it("over graphql-ws: a new alert reaches its community's subscribers, not another tenant's nor a sibling's; collectionId filters", async () => {
    const mssp = await createTenant(app, { children: 2 });
    const other = await createTenant(app);
    const [top, one, two] = [mssp.communityId, ...mssp.childIds];
    const X = '198.51.100.123';
    const [Y, Z] = ['198.51.100.124', '198.51.100.125'];
    const shared = await watched(mssp.client, top, [X, Y, ...probes(1), ...probes(2)], true);
    const second = await watched(mssp.client, top, [Z, ...probes(3)], true);
    await watched(other.client, other.communityId, [X, ...probes(4)]);
    const [userOne, userTwo] = [
      await createUser(app, [{ communityId: mssp.childRawIds[0], role: 'viewer' }]),
      await createUser(app, [{ communityId: mssp.childRawIds[1], role: 'viewer' }]),
    ];
    const as = (community: string) => mssp.client.withCommunities(community);
    const { url } = await app.http();
    const subscribers = {
      one: { feed: connectWsAs(url, userOne).subscribe(AlertCreated, {}), probes: probes(1), sender: as(one) },
      two: { feed: connectWsAs(url, userTwo).subscribe(AlertCreated, {}), probes: probes(2), sender: as(two) },
      other: {
        feed: connectWsAs(url, other.client).subscribe(AlertCreated, {}),
        probes: probes(4),
        sender: other.client,
      },
      second: {
        feed: connectWsAs(url, mssp.client).subscribe(AlertCreated, { collectionId: second }),
        probes: probes(3),
        sender: as(top),
      },
    };
    // Live once an alert raised after subscribing has arrived (each probe raises a new one).
    for (const subscriber of Object.values(subscribers)) {
      let next = 0;
      await subscriber.feed.primed(() => sendIp(subscriber.sender, subscriber.probes[next++]));
    }

    // X in client one, then in client two, then in the other tenant (in that order, on one
    // ordered channel): each subscriber must see its own and nothing before it.
    await sendIp(as(one), X);
    await sendIp(as(two), X);
    await sendIp(other.client, X);
    // Y (shared collection), then Z (second collection), in the MSSP's own community.
    await sendIp(as(top), Y);
    await sendIp(as(top), Z);

    const received = async (name: keyof typeof subscribers, last: string) => {
      const { results } = await subscribers[name].feed.collect((r) => r.data?.alertCreated.value === last);
      expect(results.flatMap((r) => r.errors ?? [])).toEqual([]);
      return results.map((r) => r.data!.alertCreated);
    };
    const forOne = await received('one', X);
    expect(forOne.at(-1)).toMatchObject({ value: X, field: 'destination.ip', community: { id: one } });
    expect(forOne.filter((a) => a.community.id !== one)).toEqual([]);

    const forTwo = await received('two', X);
    expect(forTwo.at(-1)).toMatchObject({ value: X, community: { id: two }, collection: { id: shared } });
    expect(forTwo.filter((a) => a.community.id !== two)).toEqual([]);

    const forOther = await received('other', X);
    expect(forOther.at(-1)).toMatchObject({ value: X, community: { id: other.communityId } });
    expect(forOther.filter((a) => a.community.id !== other.communityId)).toEqual([]);

    const forSecond = await received('second', Z);
    expect(forSecond.at(-1)).toMatchObject({ value: Z, community: { id: top }, collection: { id: second } });
    expect(forSecond.filter((a) => a.collection!.id !== second)).toEqual([]);
  });
});

/**
 * A retrohunt that stays RUNNING, part-way, until released: stored events on six days, a
 * disabled rule, and an uncommitted ledger row for the event three days ago, on which the
 * retrohunt (enabled here, run by another process) waits when it reaches that day.
 */
async function heldRetrohunt(tenant: Tenant) {
  const ip = '198.51.100.130';
  const collectionId = await newCollection(tenant, unique('hunted'));
  expect(await importText(tenant.client, collectionId, ip, { validFrom: daysAgo(10) })).toMatchObject({
    created: 1,
  });
  const days = [6, 5, 4, 3, 2, 1];
  expect(
    await sendEvents(
      tenant.client,
      days.map((d) => ({ '@timestamp': daysAgo(d), 'source.ip': ip })),
    ),
  ).toMatchObject({ status: 200, accepted: days.length });
  const { id: ruleId } = await createRule(tenant.client, collectionId, { enabled: false });

  const { pool } = app.services;
  // The row to hold, read first: the held transaction itself touches detection_matches only,
  // so it never queues the partition DDL of ingest (on the event tables) behind it.
  const { rows } = await pool.query(
    `SELECT i.id AS indicator_id, o.event_id, o.ts
       FROM indicators i JOIN event_observables o ON o.community_id = $1::uuid AND o.ts = $2::timestamptz
      WHERE i.collection_id = $3::uuid`,
    [tenant.communityRawId, daysAgo(3), fromGlobalId(collectionId).id],
  );
  expect(rows).toHaveLength(1);
  const connection = await pool.connect();
  let holding = true;
  const release = async () => {
    if (!holding) return;
    holding = false;
    await connection.query('ROLLBACK');
    connection.release();
  };
  cleanups.push(release);
  await connection.query('BEGIN');
  await connection.query(
    'INSERT INTO detection_matches (rule_id, indicator_id, event_id, ts) VALUES ($1, $2, $3, $4)',
    [fromGlobalId(ruleId).id, rows[0].indicator_id, rows[0].event_id, rows[0].ts],
  );
  const rule = await updateRule(tenant.client, ruleId, { enabled: true });
  /** Where it waits: the start of the day three days ago. */
  const heldAt = `${daysAgo(3).slice(0, 10)}T00:00:00.000Z`;
  return { retrohuntId: rule.latestRetrohunt!.id, heldAt, release };
}

type RetrohuntState = ResultOf<typeof RetrohuntUpdated>['retrohuntUpdated'];

describe('retrohuntUpdated', () => {
  it('over graphql-ws and over SSE: the current state first, progress day by day, the end, then completion', async () => {
    const tenant = await createTenant(app);
    const { retrohuntId, heldAt, release } = await heldRetrohunt(tenant);
    const { url } = await app.http();
    const feeds = {
      'graphql-ws': connectWsAs(url, tenant.client).subscribe(RetrohuntUpdated, { id: retrohuntId }),
      SSE: await subscribeSse(url, tenant.client, RetrohuntUpdated, { id: retrohuntId }),
    };
    const states: Record<string, RetrohuntState[]> = {};
    for (const [transport, feed] of Object.entries(feeds)) {
      // Progress up to the day where it waits: three days scanned, one match each.
      const { results, end } = await feed.collect((r) => r.data?.retrohuntUpdated.scannedUntil === heldAt);
      expect(end, transport).toBeUndefined();
      states[transport] = results.map((r) => r.data!.retrohuntUpdated);
      expect(['QUEUED', 'RUNNING'], transport).toContain(states[transport][0].status);
      expect(states[transport].at(-1), transport).toMatchObject({
        id: retrohuntId,
        trigger: 'RULE_ENABLED',
        status: 'RUNNING',
        matches: 3,
        alertsCreated: 1,
      });
    }
    await release();
    for (const [transport, feed] of Object.entries(feeds)) {
      const { results, end } = await feed.collect();
      expect(end, `${transport} completes by itself`).toEqual({ ended: true });
      const all = [...states[transport], ...results.map((r) => r.data!.retrohuntUpdated)];
      const seen = `${transport}: ${JSON.stringify(all)}`;
      const last = all.at(-1)!;
      expect(last, seen).toMatchObject({ status: 'SUCCEEDED', matches: 6, alertsCreated: 1 });
      expect(last.scannedUntil, seen).toBe(last.rangeEnd);
      expect(
        all.slice(0, -1).map((s) => s.status),
        seen,
      ).not.toContain('SUCCEEDED');
      const progress = all.map((s) => (s.scannedUntil ? new Date(s.scannedUntil).getTime() : 0));
      expect(progress, `scannedUntil never goes back; ${seen}`).toEqual([...progress].sort((a, b) => a - b));
    }
    // A subscriber to an ended retrohunt gets it once, then the end.
    const late = await connectWsAs(url, tenant.client).subscribe(RetrohuntUpdated, { id: retrohuntId }).collect();
    expect(late.end).toEqual({ ended: true });
    expect(late.results.map((r) => r.data?.retrohuntUpdated.status)).toEqual(['SUCCEEDED']);
  });
});
