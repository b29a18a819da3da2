// Shared set-up of the benches: a database (DATABASE_URL or a throw-away embedded one),
// the real service in this process, and a tenant with an API key.
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { v7 as uuidv7 } from 'uuid';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { closeServices, createServices } from '../src/app.ts';
import { readEnv } from '../src/config/env.ts';
import { startEmbeddedPostgres } from '../src/db/embedded.ts';
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
export async function startBench({ workers = true } = {}): Promise<Bench> {
  let databaseUrl = process.env.DATABASE_URL;
  let stopDatabase = async () => {};
  if (!databaseUrl) {
    const directory = mkdtempSync(path.join(tmpdir(), 'ioc-bench-pg-'));
    chmodSync(directory, 0o777);
    const cluster = await startEmbeddedPostgres(path.join(directory, 'data'), { persistent: false });
    databaseUrl = cluster.url;
    stopDatabase = async () => {
      await cluster.stop();
      rmSync(directory, { recursive: true, force: true });
    };
  }
  await migrate(databaseUrl);
  const services = await createServices(
    readEnv({ ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' }),
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
): Promise<{ url: string; peakRssMb(): number; stop(): Promise<void> }> {
  const { spawn } = await import('node:child_process');
  const { readFileSync } = await import('node:fs');
  const { freePort } = await import('../src/db/embedded.ts');
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
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
