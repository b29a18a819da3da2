// Faults: a worker killed in the middle of an import, PostgreSQL restarted under load, and a
// graceful stop on SIGTERM. The service runs in separate processes (`src/main.ts`) against a
// PostgreSQL of this file's own, so that it can be stopped and started again, and so that no
// other test file's workers take these jobs.
import http from 'node:http';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { startThrowAwayPostgres, type ThrowAwayDatabase } from '../src/db/embedded.ts';
import { prepareDatabase } from './database.ts';
import { spawnService, type ServiceProcess } from './processes.ts';
import {
  createTenant,
  createTestApp,
  fromGlobalId,
  newCollection,
  requestImport,
  unique,
  waitFor,
  type Tenant,
} from './kit.ts';

// The second CI pass (DATABASE_URL: PostgreSQL 15) would run these on an embedded cluster all
// the same, since they must stop and start their own database: the first pass has run them.
const ON_SERVER = Boolean(process.env.DATABASE_URL);
/**
 * Dead workers are looked for every 2 s here (JOB_SUPERVISE_SECONDS), not every 15 s; the
 * 200,000-line texts are pasted in one request, past the 1 MB default body limit.
 */
const SETTINGS = { JOB_SUPERVISE_SECONDS: '2', GRAPHQL_MAX_BODY_BYTES: String(16 * 1024 * 1024) };
let cluster: ThrowAwayDatabase;
/** This process serves requests only; the jobs run in the spawned processes. */
let app: Awaited<ReturnType<typeof createTestApp>>;

beforeAll(async () => {
  if (ON_SERVER) return;
  cluster = await startThrowAwayPostgres();
  await prepareDatabase(cluster.url);
  app = await createTestApp({ DATABASE_URL: cluster.url, ...SETTINGS }, { workers: false });
  // A community in the database, so that a spawned process sets up no demo tenant.
  await app.services.prisma.community.create({ data: { name: unique('placeholder') } });
}, 120_000);
afterAll(async () => {
  await app?.close();
  await cluster?.stop();
});

/** A service process for the running test, stopped when the test ends. */
async function startService(role: 'worker' | 'all', env: Record<string, string> = {}): Promise<ServiceProcess> {
  const service = await spawnService(role, cluster.url, { ...SETTINGS, ...env });
  onTestFinished(() => service.stop());
  return service;
}

const PROPERTIES = { validFrom: '2026-01-01T00:00:00Z', description: 'imported under faults' };

/** `rows` lines of every type; every 10th line is junk and every 10th a repeat, so all counts move. */
function indicatorLines(rows: number, tag: string): string {
  const line = (i: number): string => {
    if (i % 10 === 9) return `not an indicator ${i}`;
    if (i % 10 === 8) return line(i - 8);
    switch (i % 4) {
      case 0:
        return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      case 1:
        return `host-${i}.${tag}.example`;
      case 2:
        return `http://${tag}.example/path/${i}`;
      default:
        return i.toString(16).padStart(32, '0');
    }
  };
  return Array.from({ length: rows }, (_, i) => line(i)).join('\n');
}

/** Starts an import (the mutation must accept it); answers the job's id. */
const startImport = async (tenant: Tenant, collectionId: string, text: string) =>
  (await requestImport(tenant.client, collectionId, text, PROPERTIES)).id;

const jobRow = (jobId: string) =>
  app.services.prisma.importJob.findUniqueOrThrow({
    where: { id: fromGlobalId(jobId).id },
    select: {
      status: true,
      total: true,
      processed: true,
      created: true,
      updated: true,
      unchanged: true,
      invalid: true,
    },
  });

async function waitForJobEnd(jobId: string, timeoutMs = 120_000) {
  return waitFor(
    async () => {
      const job = await jobRow(jobId);
      return job.status === 'SUCCEEDED' || job.status === 'FAILED' ? job : null;
    },
    { what: `import ${jobId} to end`, timeoutMs },
  );
}

/** Waits until the job has committed at least `rows` rows and is still running. */
async function waitForProgress(jobId: string, rows: number) {
  const job = await waitFor(
    async () => {
      const job = await jobRow(jobId);
      return job.status !== 'QUEUED' && job.processed >= rows ? job : null;
    },
    { what: `import ${jobId} to pass ${rows} rows`, timeoutMs: 60_000 },
  );
  expect(job.status, 'the import ended before the fault: make it longer').toBe('RUNNING');
}

/** A digest of every stored property of a collection's indicators, and their number. */
async function collectionDigest(collectionId: string) {
  const { rows } = await app.services.pool.query<{ count: string; digest: string }>(
    `SELECT count(*) AS count,
            md5(string_agg(concat_ws('|', type, value, md5, sha1, sha256, sha512, threat_ids::text,
                  kill_chain_phases::text, valid_from, valid_until, description, revoked_at), E'\\n' ORDER BY value)) AS digest
       FROM indicators WHERE collection_id = $1`,
    [fromGlobalId(collectionId).id],
  );
  return rows[0];
}

/** The rejected lines of a job, as line:code. */
async function rejectedLines(jobId: string) {
  const errors = await app.services.prisma.importRowError.findMany({
    where: { jobId: fromGlobalId(jobId).id },
    orderBy: { line: 'asc' },
    select: { line: true, code: true },
  });
  return errors.map((e) => `${e.line}:${e.code}`);
}

describe.skipIf(ON_SERVER)('a worker killed (SIGKILL) in the middle of an import', () => {
  it(
    'has its job retried by another worker, and the collection ends exactly as after a clean run',
    { timeout: 300_000 },
    async () => {
      const ROWS = 200_000;
      const tenant = await createTenant(app);
      const text = indicatorLines(ROWS, 'killed');
      const first = await startService('worker');

      const cleanCollection = await newCollection(tenant);
      const cleanJob = await startImport(tenant, cleanCollection, text);
      const clean = await waitForJobEnd(cleanJob);
      expect(clean).toMatchObject({ status: 'SUCCEEDED', total: ROWS, processed: ROWS });

      const killedCollection = await newCollection(tenant);
      const killedJob = await startImport(tenant, killedCollection, text);
      await waitForProgress(killedJob, 20_000);
      first.kill('SIGKILL');
      expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
      const stranded = await jobRow(killedJob);
      expect(stranded.status).toBe('RUNNING');
      expect(stranded.processed).toBeLessThan(ROWS);

      await startService('worker');
      const retried = await waitForJobEnd(killedJob);
      expect(retried).toEqual(clean);
      expect(await collectionDigest(killedCollection)).toEqual(await collectionDigest(cleanCollection));
      expect(await rejectedLines(killedJob)).toEqual(await rejectedLines(cleanJob));
      const { rows } = await app.services.pool.query<{ retries: number }>(
        `SELECT max(retry_count) AS retries FROM pgboss.job WHERE name = 'import' AND data->>'importJobId' = $1`,
        [fromGlobalId(killedJob).id],
      );
      expect(rows[0].retries, 'the job was retried after its worker died').toBeGreaterThanOrEqual(1);
    },
  );
});

interface Outcome {
  /** When it was sent, relative to the outage (`restarting`: while PostgreSQL starts again). */
  phase: 'before' | 'during' | 'restarting' | 'after';
  /** The HTTP status, or the transport error when there was no answer at all. */
  status: number | string;
  retryAfter: string | null;
  body: string;
}

/** Sends requests one after another until stopped, recording every answer. */
function requestLoop(send: () => Promise<Response>, phase: () => Outcome['phase']) {
  const outcomes: Outcome[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const at = phase();
      try {
        const response = await send();
        const retryAfter = response.headers.get('retry-after');
        outcomes.push({ phase: at, status: response.status, retryAfter, body: await response.text() });
      } catch (error) {
        outcomes.push({ phase: at, status: String((error as Error).cause ?? error), retryAfter: null, body: '' });
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    outcomes,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/** How many answers of each kind (status and body) came in each phase, for a readable failure. */
function tally(outcomes: Outcome[]) {
  const counts: Record<string, number> = {};
  for (const o of outcomes) {
    const key = `${o.phase} ${o.status} ${o.body.slice(0, 120)}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

const UNAVAILABLE = 'The database is unavailable; retry in 5 s.';

describe.skipIf(ON_SERVER)('PostgreSQL restarted under load', () => {
  it(
    'fails requests cleanly (503, Retry-After) while it is down, then serves again without a restart; no job and no accepted event is lost',
    { timeout: 300_000 },
    async () => {
      const service = await startService('all');
      const tenant = await createTenant(app);
      const collectionId = await newCollection(tenant);
      const headers = { authorization: `Bearer ${tenant.client.key}`, 'content-type': 'application/json' };
      const jobId = await startImport(tenant, collectionId, indicatorLines(100_000, 'restart'));
      await waitForProgress(jobId, 5_000);

      let phase: Outcome['phase'] = 'before';
      const reads = requestLoop(
        () =>
          fetch(`${service.url}/graphql`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ query: '{ viewer { user { name } } collections(first: 5) { totalCount } }' }),
          }),
        () => phase,
      );
      const ingest = requestLoop(
        () => {
          const at = new Date().toISOString();
          const lines = Array.from({ length: 50 }, (_, i) =>
            JSON.stringify({ '@timestamp': at, 'source.ip': `192.0.2.${i}` }),
          );
          return fetch(`${service.url}/api/events`, { method: 'POST', headers, body: lines.join('\n') });
        },
        () => phase,
      );
      const readiness = requestLoop(
        () => fetch(`${service.url}/ready`),
        () => phase,
      );

      await new Promise((r) => setTimeout(r, 1000));
      await cluster.restart(async () => {
        phase = 'during';
        await new Promise((r) => setTimeout(r, 4000));
        phase = 'restarting';
      });
      phase = 'after';
      await waitFor(async () => reads.outcomes.some((o) => o.phase === 'after' && o.status === 200), {
        what: 'a successful read after the restart',
        timeoutMs: 60_000,
      });
      await new Promise((r) => setTimeout(r, 1000));
      await Promise.all([reads.stop(), ingest.stop(), readiness.stop()]);
      const tallies = JSON.stringify({ reads: tally(reads.outcomes), ingest: tally(ingest.outcomes) }, null, 1);

      expect(service.isRunning(), 'the service process was not restarted').toBe(true);
      // Every request got an answer: the service stayed up.
      for (const o of [...reads.outcomes, ...ingest.outcomes, ...readiness.outcomes]) {
        expect(typeof o.status, tallies).toBe('number');
      }
      // Either served, or 503 with Retry-After and a message that says what is wrong.
      for (const o of reads.outcomes) {
        if (o.status === 200) expect(JSON.parse(o.body), tallies).not.toHaveProperty('errors');
        else {
          // Refused while the context was made (no data), or failed while it ran (data: null).
          expect(o, tallies).toMatchObject({ status: 503, retryAfter: '5' });
          const { data, errors } = JSON.parse(o.body);
          expect(data ?? null).toBeNull();
          expect(errors).toEqual([{ message: UNAVAILABLE, extensions: { code: 'SERVICE_UNAVAILABLE' } }]);
        }
      }
      for (const o of ingest.outcomes) {
        if (o.status === 200) expect(JSON.parse(o.body), tallies).toEqual({ accepted: 50, rejected: 0, errors: [] });
        else
          expect(o, tallies).toMatchObject({
            status: 503,
            retryAfter: '5',
            // The same answer as GraphQL's: the message and the stable code.
            body: JSON.stringify({ errors: [{ message: UNAVAILABLE, extensions: { code: 'SERVICE_UNAVAILABLE' } }] }),
          });
      }
      for (const o of readiness.outcomes) expect([200, 503]).toContain(o.status);
      // The outage was seen, and then it was over.
      expect(
        reads.outcomes.filter((o) => o.phase === 'during').every((o) => o.status === 503),
        tallies,
      ).toBe(true);
      expect(readiness.outcomes.filter((o) => o.phase === 'during').every((o) => o.status === 503)).toBe(true);
      expect(reads.outcomes.at(-1)?.status).toBe(200);
      expect(ingest.outcomes.at(-1)?.status).toBe(200);
      expect(readiness.outcomes.at(-1)?.status).toBe(200);

      // Every event acknowledged as accepted is stored. A request cut by the outage may have
      // stored its batch without being able to say so (the client resends: at least once).
      const accepted = ingest.outcomes.filter((o) => o.status === 200).length * 50;
      const unanswered = ingest.outcomes.filter((o) => o.status !== 200).length * 50;
      const { rows } = await app.services.pool.query<{ count: string }>(
        'SELECT count(*) FROM events WHERE community_id = $1',
        [tenant.communityRawId],
      );
      expect(Number(rows[0].count)).toBeGreaterThanOrEqual(accepted);
      expect(Number(rows[0].count)).toBeLessThanOrEqual(accepted + unanswered);
      // The import cut by the outage was retried and ended as a clean run would.
      expect(await waitForJobEnd(jobId)).toEqual({
        status: 'SUCCEEDED',
        total: 100_000,
        processed: 100_000,
        created: 80_000,
        updated: 0,
        unchanged: 10_000,
        invalid: 10_000,
      });
    },
  );
});

describe.skipIf(ON_SERVER)('SIGTERM', () => {
  it(
    'drains: the request in flight is answered, WebSocket clients are told to go, the running job is handed back whole, the process exits 0',
    { timeout: 300_000 },
    async () => {
      const GRACE_SECONDS = 5;
      const service = await startService('all', { SHUTDOWN_GRACE_SECONDS: String(GRACE_SECONDS) });
      const tenant = await createTenant(app);
      const collectionId = await newCollection(tenant);
      // Longer than the grace period: the job cannot finish in it and must resume elsewhere.
      const jobId = await startImport(tenant, collectionId, indicatorLines(200_000, 'sigterm'));
      await waitForProgress(jobId, 5_000);

      const closes: { code: number; reason: string }[] = [];
      const updates: unknown[] = [];
      const ws = createClient({
        url: `${service.url.replace(/^http/, 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${tenant.client.key}` },
        retryAttempts: 0,
        on: {
          closed: (event) => {
            const { code, reason } = event as { code: number; reason: string };
            closes.push({ code, reason });
          },
        },
      });
      const subscribed = new Promise<void>((resolve) =>
        ws.subscribe(
          { query: `subscription ($id: ID!) { importJobUpdated(id: $id) { processed } }`, variables: { id: jobId } },
          { next: (value) => (updates.push(value), resolve()), error: () => {}, complete: () => {} },
        ),
      );
      await subscribed;

      // An ingest request whose body is still coming in when the signal arrives.
      const at = new Date().toISOString();
      const events = (from: number) =>
        Array.from(
          { length: 500 },
          (_, i) => `${JSON.stringify({ '@timestamp': at, 'source.ip': `192.0.2.${(from + i) % 250}` })}\n`,
        ).join('');
      const inFlight = http.request(`${service.url}/api/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tenant.client.key}`, 'content-type': 'application/x-ndjson' },
      });
      const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
        inFlight.on('error', reject);
        inFlight.on('response', (response) => {
          let body = '';
          response.on('data', (chunk) => (body += chunk));
          response.on('end', () => resolve({ status: response.statusCode!, body }));
        });
      });
      inFlight.write(events(0));
      await new Promise((r) => setTimeout(r, 300));

      service.kill('SIGTERM');
      await waitFor(async () => closes.length > 0, { what: 'the WebSocket to close', timeoutMs: 5_000 });
      // New connections are refused at once (a fresh one: fetch could reuse a kept-alive socket)...
      const refused = await new Promise<string>((resolve) =>
        http
          .get(`${service.url}/health`, { agent: false }, (response) => resolve(`answered ${response.statusCode}`))
          .on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message)),
      );
      expect(refused).toBe('ECONNREFUSED');
      // ...while the request in flight is read to its end and answered.
      inFlight.end(events(500));
      expect(await answered).toEqual({
        status: 200,
        body: JSON.stringify({ accepted: 1000, rejected: 0, errors: [] }),
      });
      expect(closes).toEqual([{ code: 1001, reason: 'Going away' }]);
      expect(await service.exited).toEqual({ code: 0, signal: null });
      await ws.dispose();

      const handedBack = await jobRow(jobId);
      expect(handedBack.status, 'the job did not fail: it waits for another worker').not.toBe('FAILED');
      await startService('worker');
      expect(await waitForJobEnd(jobId)).toEqual({
        status: 'SUCCEEDED',
        total: 200_000,
        processed: 200_000,
        created: 160_000,
        updated: 0,
        unchanged: 20_000,
        invalid: 20_000,
      });
      expect(updates.length).toBeGreaterThan(0);
    },
  );
});
