// Real-time delivery over real transports: graphql-ws and GraphQL over SSE against a real
// HTTP server, and across processes sharing one database (PostgreSQL LISTEN/NOTIFY).
//
// This file's process runs no jobs (workers off). Imports are run by a ROLE=worker process
// spawned below, or by the workers of a test file running in parallel on the same database;
// either way every import event seen here was published by another process.
import type { ResultOf, TypedDocumentNode } from '@graphql-typed-document-node/core';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { print, type FormattedExecutionResult } from 'graphql';
import { createClient } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import WebSocket from 'ws';
import { notify } from '../src/modules/notifications/service.ts';
import { graphql } from './generated/gql.ts';
import {
  createTenant,
  daysAgo,
  fromGlobalId,
  generateReport,
  importText,
  jobState,
  newCollection,
  reportDetails,
  requestImport,
  sendEvents,
  startTestApp,
  toGlobalId,
  unique,
  waitFor,
  type Client,
  type Tenant,
} from './kit.ts';

const ImportJobUpdated = graphql(`
  subscription ImportJobUpdated($id: ID!) {
    importJobUpdated(id: $id) {
      ...ImportJobCounts
      errors(first: 1) {
        totalCount
      }
    }
  }
`);

const NotificationAdded = graphql(`
  subscription NotificationAdded {
    notificationAdded {
      id
      kind
      title
      subject {
        __typename
        id
      }
    }
  }
`);

const app = await startTestApp({}, { workers: false });

/** Rows in the big imports: three 5,000-row batches, so progress shows between them. */
const ROWS = 12_000;
/** Every 1,000th row is not an observable. */
const INVALID = ROWS / 1000;

// ---------------------------------------------------------------------------------------
// A subscription as its client sees it, whatever the transport.

type Result<T> = FormattedExecutionResult<T, unknown>;
type Step<T> = IteratorResult<Result<T>> | 'timeout';

class Feed<T> {
  private pending?: Promise<IteratorResult<Result<T>>>;

  constructor(private readonly results: AsyncIterator<Result<T>>) {}

  /** The next result, or 'timeout' if none came within `ms`; the next call goes on waiting for it. */
  async next(ms: number): Promise<Step<T>> {
    if (!this.pending) {
      this.pending = this.results.next();
      this.pending.catch(() => {}); // a stream cut at cleanup, with nobody waiting, is no failure
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, Math.max(ms, 0), 'timeout')));
    try {
      const step = await Promise.race([this.pending, timeout]);
      if (step !== 'timeout') this.pending = undefined;
      return step;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Results until one satisfies `until` or the subscription completes by itself; bounded in time. */
  async collect(until: (result: Result<T>) => boolean = () => false, timeoutMs = 20_000) {
    const results: Result<T>[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const step = await this.next(deadline - Date.now());
      if (step === 'timeout')
        throw new Error(`no end within ${timeoutMs} ms; results so far: ${JSON.stringify(results)}`);
      if (step.done) return { results, completed: true };
      results.push(step.value);
      if (until(step.value)) return { results, completed: false };
    }
  }

  /**
   * The first result, calling `poke` (which must cause an event) until one arrives. For
   * subscriptions that send nothing at first: neither transport says when the server listens.
   */
  async primed(poke: () => Promise<unknown>, timeoutMs = 10_000): Promise<Result<T>> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      await poke();
      const step = await this.next(300);
      if (step === 'timeout') continue;
      if (step.done) throw new Error('the subscription completed without a result');
      return step.value;
    }
    throw new Error(`no result within ${timeoutMs} ms`);
  }
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

/** A graphql-ws client on its own socket, connected at once, never retrying. */
function connectWs(httpUrl: string, connectionParams: Record<string, unknown>) {
  const sockets: WebSocket[] = [];
  let onClosed!: (event: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => (onClosed = resolve));
  const client = createClient({
    url: `${httpUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams,
    lazy: false,
    retryAttempts: 0,
    onNonLazyError: () => {}, // seen through `closed`
    on: {
      opened: (socket) => void sockets.push(socket as WebSocket),
      closed: (event) => onClosed(event as { code: number; reason: string }),
    },
  });
  cleanups.push(() => client.dispose());
  return {
    /** Every socket this client opened (one, unless it reconnected). */
    sockets,
    closed,
    subscribe<D, V>(document: TypedDocumentNode<D, V>, variables?: V): Feed<D> {
      const query = print(document);
      return new Feed(client.iterate<D>({ query, variables: variables as Record<string, unknown> | undefined }));
    },
  };
}

const connectWsAs = (httpUrl: string, client: Client) => connectWs(httpUrl, { authorization: `Bearer ${client.key}` });

/** A subscription over HTTP: one POST answered with a text/event-stream. */
async function subscribeSse<D, V>(httpUrl: string, client: Client, document: TypedDocumentNode<D, V>, variables?: V) {
  const abort = new AbortController();
  cleanups.push(() => abort.abort());
  const response = await fetch(`${httpUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${client.key}` },
    body: JSON.stringify({ query: print(document), variables }),
    signal: abort.signal,
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  return new Feed<D>(sseResults<D>(response.body!));
}

/** The `next` events of an event stream as results, ending at its `complete` event. */
async function* sseResults<D>(body: ReadableStream<Uint8Array>): AsyncGenerator<Result<D>> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error('the event stream ended without a complete event');
    buffer += decoder.decode(value, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const lines = buffer.slice(0, end).split('\n');
      buffer = buffer.slice(end + 2);
      // Lines are "field: value"; ":" alone is a keep-alive comment.
      const field = (name: string) =>
        lines.filter((line) => line.startsWith(`${name}:`)).map((line) => line.slice(name.length + 1).trimStart());
      const [event] = field('event');
      if (event === 'complete') return;
      if (event === 'next') yield JSON.parse(field('data').join('\n'));
    }
  }
}

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
  { results, completed }: { results: Result<ResultOf<typeof ImportJobUpdated>>[]; completed: boolean },
) {
  expect(completed, 'the subscription completes by itself').toBe(true);
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

/** A notification for the tenant's user, created and published by this process. */
const notifyHere = (tenant: Tenant) =>
  notify(app.services, {
    userId: tenant.client.userId,
    communityId: tenant.communityRawId,
    kind: 'IMPORT_FINISHED',
    title: 'subscription probe',
  });

// ---------------------------------------------------------------------------------------
// The service in other processes: `npm start` with ROLE=worker or ROLE=api.

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** A child loads the whole service through tsx: seconds, more on a busy machine. */
const STARTUP_MS = 50_000;
/** Preloaded in the child: it exits when its stdin pipe closes, i.e. when this process is gone. */
const EXIT_WITH_PARENT = 'data:text/javascript,process.stdin.on("close",()=>process.exit(1)).resume()';

interface ServiceProcess {
  pid: number;
  /** The HTTP server's base URL (ROLE=api). */
  url: string;
  stop(): Promise<void>;
}

async function spawnService(role: 'api' | 'worker'): Promise<ServiceProcess> {
  const dataDir = mkdtempSync(path.join(tmpdir(), `ioc-${role}-`));
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', EXIT_WITH_PARENT, 'src/main.ts'], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      ...process.env,
      DATABASE_URL: inject('databaseUrl'),
      NODE_ENV: 'test',
      ROLE: role,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      DATA_DIR: dataDir,
      SHUTDOWN_GRACE_SECONDS: '2',
    },
  });
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const output: string[] = [];
  const started = new Promise<void>((resolve, reject) => {
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        output.push(line);
        if (line.includes('"service started"')) resolve();
      });
    }
    const failure = (why: string) => new Error(`the ${role} process ${why}:\n${output.join('\n')}`);
    child.once('exit', (code, signal) => reject(failure(`ended (${code ?? signal}) before it started`)));
    setTimeout(() => reject(failure(`did not start within ${STARTUP_MS} ms`)), STARTUP_MS).unref();
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(kill, 10_000);
      await exited;
      clearTimeout(timer);
    }
    process.off('exit', kill);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await started;
    const url =
      output.map((line) => /GraphQL API and GraphiQL on (http:\/\/[^\s"/]+)\/graphql/.exec(line)?.[1]).find(Boolean) ??
      '';
    if (role === 'api')
      await waitFor(async () => (await fetch(`${url}/ready`).catch(() => null))?.ok, { what: `${url}/ready` });
    return { pid: child.pid!, url, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

let worker: ServiceProcess | undefined;
let api: ServiceProcess | undefined;

beforeAll(async () => {
  // On first start outside production, main.ts creates a demo tenant in an empty database;
  // with a community present it leaves the shared test database alone.
  await app.services.prisma.community.create({ data: { name: unique('placeholder') } });
  // Both at once (each takes seconds to load); one that did start is stopped even if the other did not.
  const spawned = await Promise.allSettled([spawnService('worker'), spawnService('api')]);
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
    for (const feed of Object.values(feeds)) await feed.primed(() => notifyHere(tenant));
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
      await expect(socket.subscribe(ImportJobUpdated, { id }).collect(), id).rejects.toEqual([
        expect.objectContaining({ message: 'ImportJob not found', extensions: { code: 'NOT_FOUND' } }),
      ]);
    }
    const { results, completed } = await socket.subscribe(ImportJobUpdated, { id: ownJob }).collect();
    expect(completed).toBe(true);
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
      createdHere.push(toGlobalId('Notification', (await notifyHere(tenant)).id)),
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

const TelemetryReportUpdated = graphql(`
  subscription TelemetryReportUpdated($id: ID!) {
    telemetryReportUpdated(id: $id) {
      id
      status
      indicatorsSeen
      completedAt
    }
  }
`);

/** A tenant's collection holding `ip`, seen once in the tenant's events. */
async function collectionSeenOnce(tenant: Tenant, ip: string): Promise<string> {
  const collectionId = await newCollection(tenant, unique('telemetry'));
  expect(await importText(tenant.client, collectionId, ip)).toMatchObject({ status: 'SUCCEEDED', created: 1 });
  expect(await sendEvents(tenant.client, [{ '@timestamp': daysAgo(1), 'source.ip': ip }])).toMatchObject({
    status: 200,
    accepted: 1,
  });
  return collectionId;
}

/**
 * Starts a report that stays RUNNING until released: a row lock on the one (seen) indicator
 * holds the job where it writes that indicator's entry. A subscriber can then be sure to
 * subscribe before the end, without relying on timing.
 */
async function heldReport(tenant: Tenant, collectionId: string) {
  const { pool } = app.services;
  const connection = await pool.connect();
  let held = true;
  const release = async () => {
    if (!held) return;
    held = false;
    await connection.query('COMMIT');
    connection.release();
  };
  cleanups.push(release);
  await connection.query('BEGIN');
  await connection.query('SELECT 1 FROM indicators WHERE collection_id = $1 FOR UPDATE', [
    fromGlobalId(collectionId).id,
  ]);
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
    for (const feed of Object.values(feeds)) await feed.primed(() => notifyHere(tenant));
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
        done: false,
        value: { data: { telemetryReportUpdated: { id: reportId, status: 'RUNNING', completedAt: null } } },
      });
    }
    await release();
    for (const [transport, feed] of Object.entries(feeds)) {
      const { results, completed } = await feed.collect();
      expect(completed, `${transport} completes by itself`).toBe(true);
      expect(
        results.map((r) => r.data?.telemetryReportUpdated),
        transport,
      ).toEqual([{ id: reportId, status: 'SUCCEEDED', indicatorsSeen: 1, completedAt: expect.any(String) }]);
    }
    // A subscriber to a ready report gets it once and the end.
    const late = await connectWsAs(url, tenant.client).subscribe(TelemetryReportUpdated, { id: reportId }).collect();
    expect(late.completed).toBe(true);
    expect(late.results.map((r) => r.data?.telemetryReportUpdated.status)).toEqual(['SUCCEEDED']);
  });

  it('a report run by another process is pushed to subscribers here and on the API process', async () => {
    const published = vi.spyOn(app.services.pubsub, 'publish');
    try {
      const tenant = await createTenant(app);
      const collectionId = await collectionSeenOnce(tenant, '203.0.113.202');
      const { reportId, release } = await heldReport(tenant, collectionId);
      const notifications = connectWsAs(api!.url, tenant.client).subscribe(NotificationAdded);
      await notifications.primed(() => notifyHere(tenant));
      const feeds = [
        connectWsAs((await app.http()).url, tenant.client).subscribe(TelemetryReportUpdated, { id: reportId }),
        connectWsAs(api!.url, tenant.client).subscribe(TelemetryReportUpdated, { id: reportId }),
      ];
      for (const feed of feeds) expect(await feed.next(20_000)).toMatchObject({ done: false });
      await release();
      for (const feed of feeds) {
        const { results, completed } = await feed.collect();
        expect(completed).toBe(true);
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
