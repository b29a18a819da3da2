// Detection at scale, one run on one database: a 500,000-indicator collection with an
// enabled detection rule, then, against the real service in its own process,
//   1. 1,000,000 ECS events over POST /api/events (2 senders, 50,000-line bodies) with
//      detection on (5% of the events carry an indicator), then as many fresh events of a
//      tenant without rules (detection off), and a raw COPY of the same rows as the floor;
//      alerts and matches are checked against what the generator put in the events;
//   2. a retrohunt of the stored events against the same 500,000 indicators (a second
//      collection and rule), from the mutation to SUCCEEDED.
// Figures only, never assertions.
//   npm run bench:detection              (embedded PostgreSQL)
//   DATABASE_URL=... npm run bench:detection
//   BENCH_INDICATORS, BENCH_EVENTS scale the run down for a quick try;
//   BENCH_CPU_PROF=<dir> writes a CPU profile of the service process there.
import { v7 as uuidv7 } from 'uuid';
import { parseObservable } from '../src/modules/indicators/observable.ts';
import { eventPipeline } from '../src/event-pipeline.ts';
import {
  benchTenant,
  copyRows,
  eventHashes,
  fileEventLine,
  eventsCopyFloorMs,
  fmt,
  graphqlCall,
  hashesOf,
  ipv4,
  loadAverage,
  markdownTable,
  printBenchResult,
  ndjsonBody,
  printSection,
  seconds,
  seededRandom,
  sendEvents,
  spawnService,
  startBench,
  TLDS,
  toGlobalId,
  wordGenerator,
  type Bench,
  type FileHashes,
} from './lib.ts';

const INDICATORS = Number(process.env.BENCH_INDICATORS ?? 500_000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const HIT_RATE = 0.05;
const BODY_LINES = 50_000;
const SENDERS = 2;
const POLL_MS = 50;
const INGEST_TARGET_EPS = 20_000;
const RETROHUNT_TARGET_S = 15;
const DAY_MS = 86_400_000;
/** Events are spread over this many days before now. */
const EVENT_DAYS = 20;
/** SPEC: a retrohunt looks at each indicator's validity widened by 5 days on both sides. */
const RETROHUNT_MARGIN_MS = 5 * DAY_MS;
/** SPEC: an IP indicator in the command-and-control phase matches `destination.ip` only. */
const C2_PHASE = 'mitre-attack:command-and-control';
const C2_FIELD = 'destination.ip';

// --- Indicators --------------------------------------------------------------------------

const IPV4 = 0;
const DOMAIN = 1;
const FILE = 2;
const URL_ = 3;
const TYPE_NAMES = ['IPV4', 'DOMAIN', 'FILE', 'URL'] as const;

/** The collection, by indicator index i (columns, so 500,000 indicators cost little memory). */
interface Indicators {
  kind: Uint8Array;
  /** Canonical value: the address, domain, URL or (files) the SHA-256. */
  value: string[];
  /** Files only. */
  md5: Array<string | undefined>;
  /** IPv4 indicators in the command-and-control phase. */
  c2: Uint8Array;
  validFrom: number;
  /** Epoch ms, NaN when open-ended. */
  validUntil: Float64Array;
  byKind: number[][];
}

/**
 * Indicator i is an IPv4 address (45%, a tenth of them in the c2 phase), a domain (35%), a
 * file with MD5 and SHA-256 (15%) or a URL (5%); all valid from 40 days ago, 6% expired
 * 5 to 15 days ago (inside the events' 20 days), 4% valid until a month ahead.
 */
function buildIndicators(now: number): Indicators {
  const random = seededRandom(101);
  const word = wordGenerator(random);
  const data: Indicators = {
    kind: new Uint8Array(INDICATORS),
    value: new Array(INDICATORS),
    md5: new Array(INDICATORS),
    c2: new Uint8Array(INDICATORS),
    validFrom: now - 40 * DAY_MS,
    validUntil: new Float64Array(INDICATORS).fill(NaN),
    byKind: [[], [], [], []],
  };
  for (let i = 0; i < INDICATORS; i += 1) {
    const slot = i % 20;
    const kind = slot < 9 ? IPV4 : slot < 16 ? DOMAIN : slot < 19 ? FILE : URL_;
    data.kind[i] = kind;
    data.byKind[kind].push(i);
    const name = `${word()}-${i.toString(36)}.${TLDS[i % TLDS.length]}`;
    if (kind === IPV4) {
      data.value[i] = ipv4(11 + (i % 200), i);
      if (random() < 0.1) data.c2[i] = 1;
    } else if (kind === DOMAIN) {
      data.value[i] = name;
    } else if (kind === FILE) {
      const { sha256, md5 } = hashesOf(`bench detection indicator ${i}`);
      data.value[i] = sha256;
      data.md5[i] = md5;
    } else {
      data.value[i] = `http://${name}/${word()}/gate.php?id=${i}`;
    }
    const r = random();
    if (r < 0.06) data.validUntil[i] = Math.floor(now - (5 + random() * 10) * DAY_MS);
    else if (r < 0.1) data.validUntil[i] = Math.floor(now + 30 * DAY_MS);
  }
  // Events carry canonical forms; an indicator stored otherwise would never match.
  for (let i = 0; i < INDICATORS; i += 1) {
    const parsed = parseObservable(data.value[i]);
    if (!parsed.ok || parsed.observable.value !== data.value[i] || parsed.observable.type !== TYPE_NAMES[data.kind[i]])
      throw new Error(`not canonical: ${data.value[i]}`);
  }
  return data;
}

/** The indicators into a collection by COPY, as an import would have stored them. */
async function insertIndicators(bench: Bench, collectionId: string, communityId: string, data: Indicators) {
  const now = new Date().toISOString();
  const validFrom = new Date(data.validFrom).toISOString();
  function* rows() {
    for (let i = 0; i < INDICATORS; i += 1) {
      const id = uuidv7();
      const kind = data.kind[i];
      const hashes = kind === FILE ? `${data.md5[i]}\t${data.value[i]}` : '\\N\t\\N';
      const phases = data.c2[i] ? `{${C2_PHASE}}` : '{}';
      const until = Number.isNaN(data.validUntil[i]) ? '\\N' : new Date(data.validUntil[i]).toISOString();
      yield `${id}\t${collectionId}\t${TYPE_NAMES[kind]}\t${data.value[i]}\t${hashes}\t{}\t${phases}\t${validFrom}\t${until}\t${now}\t${now}\n`;
    }
  }
  await copyRows(
    bench,
    `COPY indicators (id, collection_id, type, value, md5, sha256, threat_ids, kill_chain_phases,
                      valid_from, valid_until, created_at, updated_at) FROM STDIN`,
    rows(),
  );
  await bench.services.pool.query('UPDATE communities SET indicator_count = indicator_count + $2 WHERE id = $1', [
    communityId,
    INDICATORS,
  ]);
}

// --- Events ------------------------------------------------------------------------------

/** What detection must find in a set of events, computed from the generator. */
interface Expected {
  /** Distinct (indicator, event) pairs live detection must match. */
  live: number;
  /** Distinct indicators among them: one alert each. */
  liveIndicators: number;
  /** The same for a retrohunt (validity widened by the margin). */
  retro: number;
  retroIndicators: number;
  /** Events carrying at least one indicator. */
  hitEvents: number;
  /** Indicator sightings that must not match live: c2 IP not on destination.ip, outside validity. */
  notC2Field: number;
  outsideValidity: number;
}

/**
 * NDJSON bodies of ECS events over the past 20 days: connections (source/destination IPs,
 * 45%), DNS queries (30%), HTTP requests with url.full (10%) and file events with SHA-256
 * and/or MD5 (15%), half nested, half dotted. 5% of the events carry an indicator (popular
 * ones more often, some on source.ip, a tenth of the IP ones on both sides, some domains
 * in capitals); nothing else can match. No backslashes, so a line is also its COPY text.
 */
function buildEvents(data: Indicators, seed: number, now: number) {
  const random = seededRandom(seed);
  const word = wordGenerator(random);
  const hosts = Array.from({ length: 5000 }, (_, k) => `10.${(k >> 8) & 255}.${k & 255}.${1 + (k % 250)}`);
  const remotes = Array.from({ length: 50_000 }, (_, k) => ipv4(217 + (k % 6), k));
  const names = Array.from({ length: 30_000 }, (_, k) => `${word()}${k}.cdn-${k % 97}.example.net`);
  const urls = Array.from({ length: 20_000 }, (_, k) => `https://cdn${k % 50}.static.example.org/${word()}/${k}.js`);
  const files = Array.from({ length: 20_000 }, (_, k) => hashesOf(`bench detection event file ${k}`));
  const noise = <T>(list: T[]) => list[Math.floor(list.length * random() ** 2)];
  /** Popular indicators more often. */
  const indicator = () => Math.floor(INDICATORS * random() ** 2);
  const otherIpv4 = (not: number) => {
    const list = data.byKind[IPV4];
    for (;;) {
      const i = list[Math.floor(random() * list.length)];
      if (i !== not) return i;
    }
  };

  const liveSeen = new Uint8Array(INDICATORS);
  const retroSeen = new Uint8Array(INDICATORS);
  const expected: Expected = {
    live: 0,
    liveIndicators: 0,
    retro: 0,
    retroIndicators: 0,
    hitEvents: 0,
    notC2Field: 0,
    outsideValidity: 0,
  };
  const validAt = (i: number, ts: number, margin: number) => {
    const until = data.validUntil[i];
    return data.validFrom - margin <= ts && (Number.isNaN(until) || ts < until + margin);
  };
  /** Counts one indicator carried by an event in `fields` (an indicator matches an event once). */
  const count = (i: number, ts: number, fields: string[]) => {
    const fieldOk = !data.c2[i] || fields.includes(C2_FIELD);
    if (!fieldOk) expected.notC2Field += 1;
    if (fieldOk && validAt(i, ts, 0)) {
      expected.live += 1;
      if (!liveSeen[i]) ((liveSeen[i] = 1), (expected.liveIndicators += 1));
    } else if (fieldOk) expected.outsideValidity += 1;
    if (fieldOk && validAt(i, ts, RETROHUNT_MARGIN_MS)) {
      expected.retro += 1;
      if (!retroSeen[i]) ((retroSeen[i] = 1), (expected.retroIndicators += 1));
    }
  };

  const bodies: Uint8Array<ArrayBuffer>[] = [];
  let lines: string[] = [];
  for (let e = 0; e < EVENTS; e += 1) {
    const time = now - Math.floor(random() * EVENT_DAYS * DAY_MS);
    const ts = new Date(time).toISOString();
    const nested = random() < 0.5;
    const hit = random() < HIT_RATE ? indicator() : -1;
    const r = random();
    const kind = hit >= 0 ? data.kind[hit] : r < 0.45 ? IPV4 : r < 0.75 ? DOMAIN : r < 0.85 ? URL_ : FILE;
    const host = noise(hosts);
    const sensor = `sensor-${e % 16}`;
    if (hit >= 0) expected.hitEvents += 1;
    let line: string;
    if (kind === IPV4) {
      let src = host;
      let dst = noise(remotes);
      if (hit >= 0) {
        const inbound = random() < 0.25;
        const both = random() < 0.1 ? otherIpv4(hit) : -1;
        if (inbound) {
          src = data.value[hit];
          if (both >= 0) dst = data.value[both];
        } else {
          dst = data.value[hit];
          if (both >= 0) src = data.value[both];
        }
        count(hit, time, [inbound ? 'source.ip' : 'destination.ip']);
        if (both >= 0) count(both, time, [inbound ? 'destination.ip' : 'source.ip']);
      }
      const port = 1024 + Math.floor(random() * 60_000);
      const bytes = Math.floor(random() * 100_000);
      line = nested
        ? `{"@timestamp":"${ts}","event":{"kind":"event","category":["network"],"dataset":"zeek.conn"},"source":{"ip":"${src}","port":${port}},"destination":{"ip":"${dst}","port":443},"network":{"transport":"tcp","bytes":${bytes}},"host":{"name":"${sensor}"}}`
        : `{"@timestamp":"${ts}","event.kind":"event","event.category":"network","event.dataset":"zeek.conn","source.ip":"${src}","source.port":${port},"destination.ip":"${dst}","destination.port":443,"network.transport":"tcp","network.bytes":${bytes},"host.name":"${sensor}"}`;
    } else if (kind === DOMAIN) {
      let name = noise(names);
      if (hit >= 0) {
        // Resolvers log names as asked: some in capitals, which normalisation folds.
        name = random() < 0.1 ? data.value[hit].toUpperCase() : data.value[hit];
        count(hit, time, ['dns.question.name']);
      }
      line = nested
        ? `{"@timestamp":"${ts}","event":{"kind":"event","category":["network"],"dataset":"zeek.dns"},"source":{"ip":"${host}"},"dns":{"question":{"name":"${name}","type":"A"},"response_code":"NOERROR"},"host":{"name":"${sensor}"}}`
        : `{"@timestamp":"${ts}","event.kind":"event","event.dataset":"zeek.dns","source.ip":"${host}","dns.question.name":"${name}","dns.question.type":"A","dns.response_code":"NOERROR","host.name":"${sensor}"}`;
    } else if (kind === URL_) {
      let url = noise(urls);
      if (hit >= 0) {
        url = data.value[hit];
        count(hit, time, ['url.full']);
      }
      const dst = noise(remotes);
      line = nested
        ? `{"@timestamp":"${ts}","event":{"kind":"event","category":["web"],"dataset":"zeek.http"},"source":{"ip":"${host}"},"destination":{"ip":"${dst}","port":80},"url":{"full":"${url}"},"http":{"request":{"method":"GET"},"response":{"status_code":200}},"host":{"name":"${sensor}"}}`
        : `{"@timestamp":"${ts}","event.kind":"event","event.dataset":"zeek.http","source.ip":"${host}","destination.ip":"${dst}","destination.port":80,"url.full":"${url}","http.request.method":"GET","http.response.status_code":200,"host.name":"${sensor}"}`;
    } else {
      let file: FileHashes = noise(files);
      if (hit >= 0) file = { sha256: data.value[hit], md5: data.md5[hit]! };
      const hashes = eventHashes(random, { sha256: file.sha256!, md5: file.md5! });
      if (hit >= 0)
        count(
          hit,
          time,
          hashes.map(([k]) => `file.hash.${k}`),
        );
      const fileName = `${word()}.exe`;
      line = fileEventLine({ ts, host: `ws-${e % 500}`, hostIp: host, fileName, hashes }, nested);
    }
    lines.push(line);
    if (lines.length === BODY_LINES || e === EVENTS - 1) {
      bodies.push(ndjsonBody(lines));
      lines = [];
    }
  }
  return { bodies, bytes: bodies.reduce((sum, b) => sum + b.length, 0), expected };
}

// --- Rules and retrohunts ----------------------------------------------------------------

const CREATE_RULE = `mutation($input: CreateDetectionRuleInput!) { createDetectionRule(input: $input) {
  __typename ... on CreateDetectionRuleSuccess { detectionRule { id enabled } } ... on Error { message } } }`;
const LATEST_RETROHUNT = `query($id: ID!) { node(id: $id) { ... on DetectionRule { latestRetrohunt {
  id status matches alertsCreated createdAt startedAt finishedAt rangeStart rangeEnd scannedUntil failureMessage } } } }`;

interface RetrohuntState {
  id: string;
  status: string;
  matches: number;
  alertsCreated: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  rangeStart: string | null;
  rangeEnd: string | null;
  failureMessage: string | null;
}

/** Creates an enabled rule (which queues a retrohunt) and polls it until the retrohunt ends. */
async function createRuleAndHunt(serviceUrl: string, key: string, collectionId: string, name: string) {
  const started = performance.now();
  const data = await graphqlCall(serviceUrl, key, CREATE_RULE, { input: { collectionId, name, enabled: true } });
  const rule = data.createDetectionRule.detectionRule;
  if (!rule) throw new Error(`createDetectionRule: ${JSON.stringify(data.createDetectionRule)}`);
  let hunt: RetrohuntState;
  for (;;) {
    const { node } = await graphqlCall(serviceUrl, key, LATEST_RETROHUNT, { id: rule.id });
    hunt = node.latestRetrohunt;
    if (hunt && (hunt.status === 'SUCCEEDED' || hunt.status === 'FAILED')) break;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  const ms = performance.now() - started;
  if (hunt.status !== 'SUCCEEDED') throw new Error(`retrohunt ${hunt.status}: ${hunt.failureMessage}`);
  const rawRuleId = Buffer.from(rule.id as string, 'base64')
    .toString()
    .split(':')[1];
  return { ruleId: rawRuleId, ms, hunt };
}

/** The rule's alerts and ledger, read from the tables. */
async function ruleOutcome(bench: Bench, ruleId: string) {
  const { rows } = await bench.services.pool.query<{ alerts: number; total: number; retro: number; ledger: number }>(
    `SELECT count(*)::int AS alerts, coalesce(sum(count), 0)::int AS total,
            (count(*) FILTER (WHERE retrohunt))::int AS retro,
            (SELECT count(*)::int FROM detection_matches WHERE rule_id = $1) AS ledger
       FROM alerts WHERE rule_id = $1`,
    [ruleId],
  );
  return rows[0];
}

const check = (ok: boolean) => (ok ? 'OK' : 'MISMATCH');
const met = (ok: boolean) => (ok ? 'met' : 'MISSED');

// --- Run ---------------------------------------------------------------------------------

const runStarted = performance.now();
const loadAtStart = loadAverage();
const bench = await startBench({ workers: false });
const setup: [string, string][] = [];
const figures: [string, string][] = [];
const checks: [string, string][] = [];
const summary: [string, string, string][] = [];
/** The figures of BENCH_RESULT. */
const result: Record<string, number | boolean> = {};
try {
  const { prisma, pool } = bench.services;
  const server = await pool.query<{ version: string; buffers: string; work_mem: string }>(
    `SELECT current_setting('server_version') AS version, current_setting('shared_buffers') AS buffers,
            current_setting('work_mem') AS work_mem`,
  );
  const { version, buffers, work_mem: workMem } = server.rows[0];
  setup.push([
    'database',
    `PostgreSQL ${version}, shared_buffers ${buffers}, work_mem ${workMem}${process.env.DATABASE_URL ? '' : ' (embedded)'}`,
  ]);
  const tenant = await benchTenant(bench.services);
  const other = await benchTenant(bench.services);
  const live = await prisma.collection.create({ data: { communityId: tenant.communityId, name: 'bench detection' } });
  const hunted = await prisma.collection.create({
    data: { communityId: tenant.communityId, name: 'bench detection retrohunt' },
  });

  // Set-up: the indicators of both collections straight into the table.
  const now = Date.now();
  let started = performance.now();
  const data = buildIndicators(now);
  setup.push(['indicators built', `${fmt(INDICATORS)} in ${seconds(performance.now() - started)}`]);
  started = performance.now();
  await insertIndicators(bench, live.id, tenant.communityId, data);
  setup.push([
    'indicators inserted (COPY), live collection',
    `${fmt(INDICATORS)} in ${seconds(performance.now() - started)}`,
  ]);
  started = performance.now();
  await insertIndicators(bench, hunted.id, tenant.communityId, data);
  await pool.query('ANALYZE indicators');
  setup.push([
    'the same into the retrohunt collection',
    `${fmt(INDICATORS)} in ${seconds(performance.now() - started)} (+ ANALYZE)`,
  ]);
  const composition = data.byKind.map((list) => list.length);
  const c2 = data.c2.reduce((sum, x) => sum + x, 0);
  const expiring = data.validUntil.filter((u) => u < now).length;
  setup.push([
    'IPv4 (c2) / domains / files / URLs',
    `${fmt(composition[IPV4])} (${fmt(c2)}) / ${fmt(composition[DOMAIN])} / ${fmt(composition[FILE])} / ${fmt(composition[URL_])}; ${fmt(expiring)} expired during the events' ${EVENT_DAYS} days`,
  ]);

  started = performance.now();
  const on = buildEvents(data, 23, now);
  const off = buildEvents(data, 29, now);
  setup.push([
    'event bodies built (detection on + off)',
    `2 x ${fmt(EVENTS)} events, ${(on.bytes / 2 ** 20).toFixed(1)} + ${(off.bytes / 2 ** 20).toFixed(1)} MB, in ${seconds(performance.now() - started)}`,
  ]);
  const x = on.expected;
  setup.push([
    'generated hits (detection on)',
    `${fmt(x.hitEvents)} events carry an indicator; ${fmt(x.live)} (indicator, event) pairs must match live (${fmt(x.liveIndicators)} indicators), ${fmt(x.notC2Field)} are c2 IPs off destination.ip, ${fmt(x.outsideValidity)} outside validity; ${fmt(x.retro)} pairs for a retrohunt (${fmt(x.retroIndicators)} indicators)`,
  ]);
  await eventPipeline(bench.services).maintain();

  const cpuProfileDir = process.env.BENCH_CPU_PROF;
  const service = await spawnService(bench.databaseUrl, {
    nodeArgs: cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [],
  });
  const rssAtStart = service.peakRssMb();
  try {
    // The live rule, before any event is stored: its retrohunt has nothing to scan, and
    // has ended before ingest starts.
    const first = await createRuleAndHunt(
      service.url,
      tenant.key,
      toGlobalId('Collection', live.id),
      'bench live detection',
    );
    setup.push(['live rule created, its (empty) retrohunt done', seconds(first.ms)]);

    // 1. Ingest, detection on, then off.
    const runOn = await sendEvents(service.url, tenant.key, on.bodies, SENDERS);
    const rssAfterOn = service.peakRssMb();
    const outcome = await ruleOutcome(bench, first.ruleId);
    const runOff = await sendEvents(service.url, other.key, off.bodies, SENDERS);
    const rssAfterOff = service.peakRssMb();
    const floorMs = await eventsCopyFloorMs(bench, tenant.communityId, on.bodies);
    const rateOn = EVENTS / (runOn.ms / 1000);
    const rateOff = EVENTS / (runOff.ms / 1000);
    Object.assign(result, {
      ingestDetectionOnEventsPerSecond: rateOn,
      ingestDetectionOffEventsPerSecond: rateOff,
      ingestOnOffRatio: rateOn / rateOff,
      copyFloorSeconds: floorMs / 1000,
      ingestOnVsCopy: runOn.ms / floorMs,
    });

    figures.push(
      [
        'events accepted / rejected (on; off)',
        `${fmt(runOn.accepted)} / ${fmt(runOn.rejected)}; ${fmt(runOff.accepted)} / ${fmt(runOff.rejected)}`,
      ],
      [
        'ingest, detection ON',
        `${seconds(runOn.ms)} (${fmt(rateOn)} events/s; target >= ${fmt(INGEST_TARGET_EPS)}: ${met(rateOn >= INGEST_TARGET_EPS)})`,
      ],
      ['ingest, detection OFF (tenant without rules)', `${seconds(runOff.ms)} (${fmt(rateOff)} events/s)`],
      ['on / off throughput', `${(rateOn / rateOff).toFixed(2)} (time ${(runOn.ms / runOff.ms).toFixed(2)}x)`],
      ['raw COPY of the same rows into `events`', `${seconds(floorMs)} (${fmt(EVENTS / (floorMs / 1000))} rows/s)`],
      [
        'ingest ON / raw COPY; OFF / raw COPY',
        `${(runOn.ms / floorMs).toFixed(1)}x; ${(runOff.ms / floorMs).toFixed(1)}x`,
      ],
      [
        'live alerts created / total matches',
        `${fmt(outcome.alerts)} / ${fmt(outcome.total)} (ledger rows: ${fmt(outcome.ledger)})`,
      ],
    );
    checks.push(
      [
        'events accepted',
        `${check(runOn.accepted === EVENTS && runOff.accepted === EVENTS)} (${fmt(runOn.accepted + runOff.accepted)} of ${fmt(2 * EVENTS)})${runOn.rejected ? `: ${JSON.stringify(runOn.answers.find((a) => a.errors.length)?.errors[0])}` : ''}`,
      ],
      [
        'sum of alert counts = generated hits',
        `${check(outcome.total === x.live)} (${fmt(outcome.total)} vs ${fmt(x.live)})`,
      ],
      [
        'ledger rows = generated hits',
        `${check(outcome.ledger === x.live)} (${fmt(outcome.ledger)} vs ${fmt(x.live)})`,
      ],
      [
        'alerts = distinct indicators hit',
        `${check(outcome.alerts === x.liveIndicators)} (${fmt(outcome.alerts)} vs ${fmt(x.liveIndicators)})`,
      ],
    );

    // 2. A retrohunt of the stored events: a fresh collection and rule (the live rule's
    // ledger would make a re-enabled rule skip every event it already matched).
    const second = await createRuleAndHunt(
      service.url,
      tenant.key,
      toGlobalId('Collection', hunted.id),
      'bench retrohunt',
    );
    const hunt = second.hunt;
    const huntOutcome = await ruleOutcome(bench, second.ruleId);
    const queuedMs = Date.parse(hunt.startedAt!) - Date.parse(hunt.createdAt);
    const runMs = Date.parse(hunt.finishedAt!) - Date.parse(hunt.startedAt!);
    const days = (Date.parse(hunt.rangeEnd!) - Date.parse(hunt.rangeStart!)) / DAY_MS;
    Object.assign(result, {
      retrohuntSeconds: second.ms / 1000,
      retrohuntMatches: hunt.matches,
      retrohuntMatchesAsExpected: hunt.matches === x.retro && hunt.alertsCreated === x.retroIndicators,
    });
    figures.push(
      [
        'retrohunt: mutation to SUCCEEDED',
        `${seconds(second.ms)} (target <= ${RETROHUNT_TARGET_S} s: ${met(second.ms / 1000 <= RETROHUNT_TARGET_S)})`,
      ],
      [
        '  queued (createdAt to startedAt) / running',
        `${seconds(queuedMs)} / ${seconds(runMs)} over ${days.toFixed(1)} days of events (${seconds(runMs / Math.ceil(days))} a day)`,
      ],
      [
        'retrohunt: matches / alerts created',
        `${fmt(hunt.matches)} / ${fmt(hunt.alertsCreated)} (alert counts sum to ${fmt(huntOutcome.total)})`,
      ],
    );
    checks.push(
      [
        'retrohunt matches = generated hits',
        `${check(hunt.matches === x.retro)} (${fmt(hunt.matches)} vs ${fmt(x.retro)})`,
      ],
      [
        'retrohunt alert counts sum = generated hits',
        `${check(huntOutcome.total === x.retro)} (${fmt(huntOutcome.total)} vs ${fmt(x.retro)})`,
      ],
      [
        'retrohunt alerts = distinct indicators hit',
        `${check(hunt.alertsCreated === x.retroIndicators && huntOutcome.retro === x.retroIndicators)} (${fmt(hunt.alertsCreated)} vs ${fmt(x.retroIndicators)})`,
      ],
    );
    const peak = service.peakRssMb();
    result.servicePeakRssMb = peak;
    figures.push([
      'peak RSS of the service',
      `${peak} MB (after start-up ${rssAtStart} MB, after ingest on ${rssAfterOn} MB, after off ${rssAfterOff} MB)`,
    ]);

    summary.push(
      [
        'indicators (IPv4 / domains / files / URLs)',
        `${fmt(INDICATORS)} (45% / 35% / 15% / 5%), a tenth of the IPs c2`,
        '',
      ],
      [
        `ingest, ${fmt(EVENTS)} ECS events, detection on (${SENDERS} senders, 5% hits)`,
        `${seconds(runOn.ms)} (${fmt(rateOn)} events/s)`,
        `>= ${fmt(INGEST_TARGET_EPS)} events/s`,
      ],
      [`ingest, ${fmt(EVENTS)} more events, no rule applies`, `${seconds(runOff.ms)} (${fmt(rateOff)} events/s)`, ''],
      ['throughput on / off', (rateOn / rateOff).toFixed(2), ''],
      ['raw `COPY` of the same rows into a table like `events`', seconds(floorMs), ''],
      [
        'live alerts / matches (expected)',
        `${fmt(outcome.alerts)} / ${fmt(outcome.total)} (${fmt(x.liveIndicators)} / ${fmt(x.live)}: ${check(outcome.total === x.live && outcome.alerts === x.liveIndicators)})`,
        '',
      ],
      [
        `retrohunt of ${fmt(EVENTS)} stored events, mutation to SUCCEEDED`,
        seconds(second.ms),
        `<= ${RETROHUNT_TARGET_S} s`,
      ],
      [
        'retrohunt alerts / matches (expected)',
        `${fmt(hunt.alertsCreated)} / ${fmt(hunt.matches)} (${fmt(x.retroIndicators)} / ${fmt(x.retro)}: ${check(hunt.matches === x.retro && hunt.alertsCreated === x.retroIndicators)})`,
        '',
      ],
      ['peak RSS of the service process', `${peak} MB (${rssAtStart} MB after start-up)`, ''],
    );
  } finally {
    await service.stop();
  }
} finally {
  await bench.close();
}

const runMs = performance.now() - runStarted;
console.log(`\nDetection bench: ${fmt(INDICATORS)} indicators, 2 x ${fmt(EVENTS)} events`);
printSection('set-up (not a target)', setup, 58);
printSection('figures', figures, 58);
printSection('checks (from what the generator put in the events)', checks, 58);
console.log(`load average (1 / 5 / 15 min): ${loadAtStart} at start, ${loadAverage()} at the end`);
console.log(`whole run: ${seconds(runMs)}`);
summary.push(['whole run', seconds(runMs), '']);
console.log('\nFor the README (Benchmarks):\n');
console.log(markdownTable(['figure', 'value', 'target'], summary));
printBenchResult('detection', { indicators: INDICATORS, events: EVENTS, ...result, wholeRunSeconds: runMs / 1000 });
