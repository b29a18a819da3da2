// Shared set-up of the benches: a database (DATABASE_URL or a throw-away embedded one),
// the real service in this process, and a tenant with an API key.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { DateTime } from 'luxon';
import { v7 as uuidv7 } from 'uuid';
import { closeServices, createServices } from '../src/app.ts';
import { readEnv } from '../src/config/env.ts';
import { startThrowAwayPostgres } from '../src/db/embedded.ts';
import { migrate } from '../src/db/migrate.ts';
import { createApiKey, ensureBuiltInRoles } from '../src/modules/communities/service.ts';
import { parseObservable } from '../src/modules/indicators/observable.ts';
import { importThreatCatalogue, parseThreatCatalogue } from '../src/modules/threats/service.ts';
import type { Services } from '../src/services.ts';
import { startWorkers } from '../src/worker.ts';
import { createYogaApp, type Yoga } from '../src/yoga.ts';

export interface Bench {
  services: Services;
  yoga: Yoga;
  databaseUrl: string;
  close(): Promise<void>;
}

/** `workers: false` when the jobs must run in another process (see file-import.ts). */
/**
 * Limits that would measure themselves: one key drives the whole load (requests, 2,000
 * subscriptions), and the import benches paste 100,000 lines (a few MB) in one request.
 */
const BENCH_LIMITS = {
  RATE_LIMIT_PER_MINUTE: '0',
  SUBSCRIPTIONS_MAX_PER_KEY: '100000',
  GRAPHQL_MAX_BODY_BYTES: String(64 * 1024 * 1024),
};

export async function startBench({ workers = true } = {}): Promise<Bench> {
  let databaseUrl = process.env.DATABASE_URL;
  let stopDatabase = async () => {};
  if (!databaseUrl) {
    const cluster = await startThrowAwayPostgres();
    databaseUrl = cluster.url;
    stopDatabase = cluster.stop;
  }
  await migrate(databaseUrl);
  const services = await createServices(
    readEnv({
      ...process.env,
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: 'warn',
      ...BENCH_LIMITS,
    }),
    databaseUrl,
  );
  await ensureBuiltInRoles(services.prisma);
  if ((await services.prisma.threat.count()) === 0) {
    const catalogue = new URL('../src/modules/threats/demo-catalogue.json', import.meta.url);
    await importThreatCatalogue(services.prisma, parseThreatCatalogue(JSON.parse(readFileSync(catalogue, 'utf8'))));
  }
  if (workers) await startWorkers(services);
  return {
    services,
    yoga: createYogaApp(services),
    databaseUrl,
    async close() {
      await closeServices(services, 5000);
      await stopDatabase();
    },
  };
}

/** A community with an admin user; returns its raw id and an API key. */
export async function benchTenant(services: Services): Promise<{ communityId: string; key: string }> {
  const { prisma } = services;
  const community = await prisma.community.create({ data: { name: `bench ${Date.now()}` } });
  const user = await prisma.user.create({ data: { name: 'bench', email: `bench-${Date.now()}@bench.invalid` } });
  const admin = await prisma.role.findUniqueOrThrow({ where: { name: 'admin' } });
  await prisma.membership.create({ data: { userId: user.id, communityId: community.id, roleId: admin.id } });
  return { communityId: community.id, key: (await createApiKey(prisma, user.id, 'bench')).key };
}

/** A GraphQL call to an in-process Yoga or to a service URL. */
export async function graphqlCall(
  target: Yoga | string,
  key: string,
  query: string,
  variables: Record<string, unknown>,
) {
  const send =
    typeof target === 'string'
      ? (init: RequestInit) => fetch(`${target}/graphql`, init)
      : (init: RequestInit) => target.fetch('http://bench/graphql', init);
  const response = await send({
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: Record<string, any>; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data!;
}

export const toGlobalId = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString('base64');

/** Peak resident set size of this process so far, in MB. */
export const peakRssMb = () => Math.round(process.resourceUsage().maxRSS / 1024);

/** Deterministic pseudo-random numbers, so every run measures the same data. */
export function seededRandom(seed = 42): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Realistic observables: mostly IPs and domains, some URLs, hashes and emails. */
export function observableGenerator(random: () => number) {
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');
  const word = () =>
    Math.floor(random() * 36 ** 6)
      .toString(36)
      .padStart(4, 'a');
  const octet = () => Math.floor(random() * 223) + 1;
  return (i: number): string => {
    const r = random();
    if (r < 0.4) return `${octet()}.${octet()}.${octet()}.${(i % 254) + 1}`;
    if (r < 0.48) return `2001:db8:${hex(4)}::${(i % 65535).toString(16)}`;
    if (r < 0.68) return `${word()}-${i}.${['com', 'net', 'ru', 'xyz', 'info'][i % 5]}`;
    if (r < 0.83) return `hxxp://${word()}${i}[.]example/${word()}/payload.exe`;
    if (r < 0.88) return hex(32);
    if (r < 0.95) return hex(64);
    return `${word()}.${i}@${word()}.org`;
  };
}

/** The service as users run it (`src/main.ts`), in its own process, so its memory is its own. */
export async function spawnService(
  databaseUrl: string,
  options: { nodeArgs?: string[]; env?: Record<string, string> } = {},
): Promise<{ url: string; pid: number; peakRssMb(): number; stop(): Promise<void> }> {
  const { spawn } = await import('node:child_process');
  const { readFileSync } = await import('node:fs');
  const { freePort } = await import('../src/db/embedded.ts');
  const port = await freePort();
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', 'src/main.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      ...BENCH_LIMITS,
      ...options.env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i += 1) {
    if (child.exitCode !== null) throw new Error('the service exited during start-up');
    const ready = await fetch(`${url}/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (i > 600) throw new Error('the service did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    pid: child.pid!,
    peakRssMb: () =>
      Math.round(Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024),
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/**
 * The floor every import is compared with: a raw COPY of the same normalised observables
 * (each distinct value once) into a table identical to `indicators`, indexes included.
 * Returns milliseconds.
 */
export async function copyFloorMs(bench: Bench, observables: Iterable<string>, collectionId: string): Promise<number> {
  const rows = new Map<string, string>();
  for (const text of observables) {
    const parsed = parseObservable(text);
    if (parsed.ok) rows.set(parsed.observable.value, parsed.observable.type);
  }
  const client = await bench.services.pool.connect();
  try {
    await client.query('DROP TABLE IF EXISTS bench_copy_floor');
    await client.query('CREATE TABLE bench_copy_floor (LIKE indicators INCLUDING ALL)');
    const now = new Date().toISOString();
    const started = performance.now();
    const lines = function* () {
      for (const [value, type] of rows)
        yield `${uuidv7()}\t${collectionId}\t${type}\t${value}\t{}\t{}\t${now}\tbench\n`;
    };
    const copy =
      'COPY bench_copy_floor (id, collection_id, type, value, threat_ids, kill_chain_phases, valid_from, description) FROM STDIN';
    await pipeline(Readable.from(lines()), client.query(copyFrom(copy)));
    const elapsed = performance.now() - started;
    await client.query('DROP TABLE bench_copy_floor');
    return elapsed;
  } finally {
    client.release();
  }
}

// --- Bulk data straight into the tables -----------------------------------------------

/** Chunks of COPY text, a few thousand rows each, so no giant string is ever built. */
export function* chunked(rows: Iterable<string>, size = 2000): Generator<string> {
  let chunk = '';
  let n = 0;
  for (const row of rows) {
    chunk += row;
    if (++n === size) {
      yield chunk;
      chunk = '';
      n = 0;
    }
  }
  if (chunk) yield chunk;
}

/** One COPY ... FROM STDIN of rows in COPY text format. */
export async function copyRows(bench: Bench, statement: string, rows: Iterable<string>): Promise<void> {
  const client = await bench.services.pool.connect();
  try {
    await pipeline(Readable.from(chunked(rows)), client.query(copyFrom(statement)));
  } finally {
    client.release();
  }
}

// --- Realistic values ------------------------------------------------------------------

export interface FileHashes {
  sha256: string;
  md5: string;
}

/** A file's hashes, made from a seed text (distinct seeds, distinct files). */
export const hashesOf = (seed: string): FileHashes => ({
  sha256: createHash('sha256').update(seed).digest('hex'),
  md5: createHash('md5').update(seed).digest('hex'),
});

/** Distinct IPv4 addresses per (first octet range, k): the other three octets are a bijection of k. */
/** The hashes an endpoint event carries for a file: SHA-256 alone (60%), with MD5 (25%), or MD5 alone. */
export function eventHashes(random: () => number, file: { sha256: string; md5: string }): Array<[string, string]> {
  const r = random();
  if (r < 0.6) return [['sha256', file.sha256]];
  if (r < 0.85) {
    return [
      ['sha256', file.sha256],
      ['md5', file.md5],
    ];
  }
  return [['md5', file.md5]];
}

/** An endpoint file event (ECS), nested or dotted, carrying the given hashes. */
export function fileEventLine(
  event: { ts: string; host: string; hostIp: string; fileName: string; hashes: Array<[string, string]> },
  nested: boolean,
): string {
  const { ts, host, hostIp, fileName, hashes } = event;
  return nested
    ? `{"@timestamp":"${ts}","event":{"kind":"event","category":["file"],"dataset":"endpoint.events.file"},"host":{"name":"${host}","ip":"${hostIp}"},"file":{"name":"${fileName}","path":"/home/user/Downloads/${fileName}","hash":{${hashes.map(([k, v]) => `"${k}":"${v}"`).join(',')}}}}`
    : `{"@timestamp":"${ts}","event.kind":"event","event.category":"file","host.name":"${host}","host.ip":"${hostIp}","file.name":"${fileName}",${hashes.map(([k, v]) => `"file.hash.${k}":"${v}"`).join(',')}}`;
}

export function ipv4(firstOctet: number, k: number): string {
  const x = Math.imul(k, 0x9e3779b1) & 0xffffff;
  return `${firstOctet}.${x >>> 16}.${(x >>> 8) & 255}.${x & 255}`;
}

/** Short random words (base 36), for domain and file names. */
export function wordGenerator(random: () => number) {
  return () =>
    Math.floor(random() * 36 ** 6)
      .toString(36)
      .padStart(4, 'a');
}

export const TLDS = ['com', 'net', 'ru', 'xyz', 'info', 'top', 'org'];

// --- Event ingest ----------------------------------------------------------------------

export interface IngestAnswer {
  accepted: number;
  rejected: number;
  errors: Array<{ line: number; reason: string }>;
}

/** NDJSON lines as one request body each. */
export const ndjsonBody = (lines: string[]): Uint8Array<ArrayBuffer> =>
  new Uint8Array(Buffer.from(`${lines.join('\n')}\n`));

/**
 * POSTs the bodies to /api/events from `senders` concurrent senders (each takes the next
 * body when its previous one was answered); refuses any answer but 200.
 */
export async function sendEvents(serviceUrl: string, key: string, bodies: Uint8Array<ArrayBuffer>[], senders: number) {
  const queue = [...bodies.keys()];
  const answers: IngestAnswer[] = [];
  const sender = async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const response = await fetch(`${serviceUrl}/api/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-ndjson' },
        body: bodies[next],
      });
      const answer = (await response.json()) as IngestAnswer;
      if (response.status !== 200) throw new Error(`POST /api/events: ${response.status} ${JSON.stringify(answer)}`);
      answers.push(answer);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: senders }, sender));
  return {
    ms: performance.now() - started,
    answers,
    accepted: answers.reduce((sum, a) => sum + a.accepted, 0),
    rejected: answers.reduce((sum, a) => sum + a.rejected, 0),
  };
}

/**
 * The floor of event ingest: the same lines by one COPY into a table identical to `events`
 * (same daily partitions, for the past 31 days). Every line must start with
 * `{"@timestamp":"<24-character ISO time>"` (what the benches generate). Returns milliseconds.
 */
export async function eventsCopyFloorMs(bench: Bench, communityId: string, bodies: Uint8Array[]): Promise<number> {
  const { pool } = bench.services;
  await pool.query('DROP TABLE IF EXISTS bench_events_floor');
  await pool.query('CREATE TABLE bench_events_floor (LIKE events INCLUDING ALL) PARTITION BY RANGE (ts)');
  const today = DateTime.utc().startOf('day');
  for (let back = -1; back <= 31; back += 1) {
    const from = today.minus({ days: back });
    await pool.query(
      `CREATE TABLE bench_events_floor_p${from.toFormat('yyyyMMdd')} PARTITION OF bench_events_floor
         FOR VALUES FROM ('${from.toISO()}') TO ('${from.plus({ days: 1 }).toISO()}')`,
    );
  }
  function* rows() {
    for (const body of bodies) {
      for (const line of Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8').split('\n')) {
        if (line) yield `${uuidv7()}\t${communityId}\t${line.slice(15, 39)}\t${line}\n`;
      }
    }
  }
  const started = performance.now();
  await copyRows(bench, 'COPY bench_events_floor (id, community_id, ts, document) FROM STDIN', rows());
  const elapsed = performance.now() - started;
  await pool.query('DROP TABLE bench_events_floor');
  return elapsed;
}

// --- Waiting and printing --------------------------------------------------------------

export async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

export const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
export const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
/** The machine's load average (1, 5, 15 minutes): other work on it skews every figure. */
export const loadAverage = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');

/** A Markdown table with aligned columns, as prettier writes them. */
export function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** `label: value` lines under a heading, labels padded to one column. */
/**
 * A bench's last line: its figures as JSON under stable names (seconds, rates, ratios,
 * MB), for scripts that compare runs.
 */
export function printBenchResult(bench: string, figures: Record<string, number | string | boolean>): void {
  const rounded = Object.entries(figures).map(([name, value]) => [
    name,
    typeof value === 'number' ? Math.round(value * 100) / 100 : value,
  ]);
  console.log(`BENCH_RESULT ${JSON.stringify({ bench, ...Object.fromEntries(rounded) })}`);
}

export function printSection(title: string, rows: Array<[string, string]>, width = 48): void {
  console.log(title);
  for (const [label, value] of rows) console.log(`  ${`${label}:`.padEnd(width)} ${value}`);
}
