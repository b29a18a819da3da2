// Detection against an oracle: random indicators and events (from a printed seed), sent
// through the API, and the alerts the service raises compared with a brute-force
// computation in TypeScript over the same events.
//
// The oracle knows the rules (SPEC "Detection"), not the code: an indicator matches an
// event when a field of its type (the SPEC's list, written out here) holds its value, it is
// not revoked, and the event's time is in [validFrom, validUntil) — for a retrohunt, in
// [validFrom - 5 days, validUntil + 5 days); an IP indicator in the command-and-control
// phase matches `destination.ip` only. Rules see their collection's community, and its
// sub-communities when the collection is shared. One open alert per rule, indicator and
// community counts every matching event once, whatever scanned it; its field, value and
// excerpt are those of its first match.
//
// Normalisation is the product's: indicators are read back through the API, and events
// carry those values either as they are or in variants that SPEC says mean the same
// (defanged, upper-case, IDN, ...), derived here from the canonical value read back.
//
// Re-run a failure with ORACLE_SEED=<seed> npx vitest run test/detection-oracle.test.ts
import { isDeepStrictEqual } from 'node:util';
import { domainToUnicode } from 'node:url';
import { describe, expect, it, onTestFailed } from 'vitest';
import {
  allAlerts,
  allIndicators,
  type AlertNode,
  type Client,
  createCollection,
  createRule,
  createTenant,
  importText,
  type IndicatorNode,
  type ImportProperties,
  revokeIndicator,
  sendEvents,
  startTestApp,
  updateRule,
  waitForRetrohunts,
} from './kit.ts';

const app = await startTestApp();

const SEED = Number(process.env.ORACLE_SEED) || Date.now() % 2_147_483_647;

// ---------------------------------------------------------------------------------------
// Seeded randomness

class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** mulberry32: uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
  hex(length: number): string {
    let text = '';
    while (text.length < length) text += this.int(0, 15).toString(16);
    return text;
  }
  word(): string {
    return this.pick(['alpha', 'bravo', 'cobalt', 'delta', 'ember', 'fjord', 'gamma', 'hydra', 'ion', 'jade']);
  }
}

// ---------------------------------------------------------------------------------------
// The SPEC's fields per type

type ObservableType = 'IPV4' | 'IPV6' | 'DOMAIN' | 'URL' | 'EMAIL' | 'FILE';
const TYPES: ObservableType[] = ['IPV4', 'IPV6', 'DOMAIN', 'URL', 'EMAIL', 'FILE'];

const IP_FIELDS = ['source.ip', 'destination.ip', 'client.ip', 'server.ip', 'host.ip'];
const C2_FIELD = 'destination.ip';
const FIELDS: Record<Exclude<ObservableType, 'FILE'>, string[]> = {
  IPV4: IP_FIELDS,
  IPV6: IP_FIELDS,
  DOMAIN: [
    'dns.question.name',
    'url.domain',
    'destination.domain',
    'source.domain',
    'client.domain',
    'server.domain',
    'dns.question.registered_domain',
    'url.registered_domain',
    'destination.registered_domain',
    'source.registered_domain',
    'client.registered_domain',
    'server.registered_domain',
  ],
  URL: ['url.full', 'url.original'],
  EMAIL: [
    'email.from.address',
    'email.sender.address',
    'email.to.address',
    'email.cc.address',
    'email.bcc.address',
    'user.email',
    'source.user.email',
    'destination.user.email',
  ],
};
const HASHED = ['file', 'process', 'dll', 'email.attachments.file'];
const hashField = (rng: Random, algorithm: string) => `${rng.pick(HASHED)}.hash.${algorithm.toLowerCase()}`;

/**
 * Fields where a value of the type is no observable: not read at all, or read for another
 * type (a domain in `url.full` is no URL). Never an IP or hash field, which would reject
 * the line for a value of another type.
 */
const WRONG_FIELDS: Record<ObservableType, string[]> = {
  IPV4: ['related.ip', 'source.address', 'observer.ip', 'dns.question.name', 'url.domain', 'source.nat.ip'],
  IPV6: ['related.ip', 'destination.address', 'observer.ip', 'url.domain'],
  DOMAIN: ['url.full', 'url.original', 'user.email', 'host.hostname', 'destination.address', 'dns.answers.name'],
  URL: ['url.domain', 'dns.question.name', 'http.request.referrer', 'url.path'],
  EMAIL: ['dns.question.name', 'user.name', 'email.reply_to.address', 'url.full'],
  FILE: ['process.parent.hash.md5', 'file.hash.sha384', 'hash.sha256', 'dns.question.name', 'file.pe.imphash'],
};

// ---------------------------------------------------------------------------------------
// Indicators as imported

const DAY = 86_400_000;
const NOW = Date.now();
/** Events are spread over this many days before NOW. */
const EVENT_DAYS = 20;
const MARGIN = 5 * DAY;

/** One import line of a fresh observable of `type` (not necessarily canonical). */
function rawObservable(rng: Random, type: ObservableType, tag: string, n: number): string {
  const domain = () =>
    rng.chance(0.15)
      ? `bücher-${n}.${tag}.example`
      : `${rng.word()}-${n}.${tag}.${rng.pick(['example', 'test', 'org'])}`;
  switch (type) {
    case 'IPV4':
      return `${rng.int(11, 223)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
    case 'IPV6':
      return `2001:db8:${rng.int(1, 0xffff).toString(16)}:${rng.int(1, 0xffff).toString(16)}::${rng.int(1, 0xffff).toString(16)}`;
    case 'DOMAIN': {
      const d = domain();
      return rng.chance(0.3) ? d.replace(/\.([a-z]+)$/, '[.]$1').toUpperCase() : d;
    }
    case 'URL': {
      const url = `${rng.pick(['http', 'https'])}://${domain()}/${rng.word()}/Payload-${n}.exe?id=${rng.int(1, 999)}`;
      return rng.chance(0.3) ? url.replace(/^http/, 'hxxp') : url;
    }
    case 'EMAIL': {
      const email = `${rng.word()}.${n}@${domain()}`;
      return rng.chance(0.3) ? email.replace('@', '[@]').toUpperCase() : email;
    }
    case 'FILE': {
      const combo = rng.pick([[32], [40], [64], [128], [64, 32], [40, 32], [128, 64, 32], [64, 40]]);
      return combo.map((length) => rng.hex(length)).join(rng.pick([',', ', ', ' ']));
    }
  }
}

const iso = (time: number) => new Date(time).toISOString();

/** A validity window: open, bounded, in the past, in the future. */
function randomWindow(rng: Random): { validFrom: string; validUntil?: string } {
  const days = (lo: number, hi: number) => Math.round((lo + rng.next() * (hi - lo)) * DAY);
  switch (rng.pick(['open', 'bounded', 'bounded', 'past', 'future', 'old-open'])) {
    case 'open':
      return { validFrom: iso(NOW - days(0, 22)) };
    case 'bounded': {
      const from = NOW - days(0, 22);
      return { validFrom: iso(from), validUntil: iso(from + days(0.3, 10)) };
    }
    case 'past': {
      const until = NOW - days(20.2, 24);
      return { validFrom: iso(until - days(3, 15)), validUntil: iso(until) };
    }
    case 'future': {
      const from = NOW + days(1, 4);
      return rng.chance(0.5) ? { validFrom: iso(from) } : { validFrom: iso(from), validUntil: iso(from + days(1, 5)) };
    }
    default:
      return { validFrom: iso(NOW - days(25, 40)) };
  }
}

const PHASES = [
  [{ phaseName: 'c2' }],
  [{ killChainName: 'mitre-attack', phaseName: 'Command and Control' }],
  [{ phaseName: 'delivery' }],
  [{ phaseName: 'exploitation' }, { phaseName: 'command-and-control' }],
];

interface ImportGroup {
  lines: string[];
  properties: ImportProperties;
}

/** Import groups (each with its own properties) of about `size` fresh observables. */
function indicatorGroups(rng: Random, tag: string, groups: number, start: number): ImportGroup[] {
  let n = start;
  const seen = new Set<string>();
  return Array.from({ length: groups }, (_, g) => {
    // Every third group is IP-only, most of them in a kill-chain phase (c2 or not).
    const ipOnly = g % 3 === 0;
    const size = rng.int(12, 24);
    const lines: string[] = [];
    while (lines.length < size) {
      const line = rawObservable(rng, ipOnly ? rng.pick(['IPV4', 'IPV4', 'IPV6'] as const) : rng.pick(TYPES), tag, n++);
      // Random addresses and hashes could repeat; an observable is imported once.
      if (!seen.has(line)) (lines.push(line), seen.add(line));
    }
    const properties: ImportProperties = { ...randomWindow(rng) };
    if (ipOnly && rng.chance(0.8)) properties.killChainPhases = rng.pick(PHASES);
    return { lines, properties };
  });
}

// ---------------------------------------------------------------------------------------
// Indicators as the API answers them, and the oracle's view of them

interface Indicator {
  id: string;
  type: ObservableType;
  value: string;
  /** What an event field must hold: the value, or any of a file's hashes. */
  values: Set<string>;
  hashes: { algorithm: string; value: string }[];
  from: number;
  until: number | null;
  revoked: boolean;
  c2: boolean;
}

function fromApi(node: IndicatorNode): Indicator {
  const type = node.type as ObservableType;
  return {
    id: node.id,
    type,
    value: node.value,
    values: new Set(type === 'FILE' ? node.hashes.map((h) => h.value) : [node.value]),
    hashes: node.hashes,
    from: new Date(node.validFrom).getTime(),
    until: node.validUntil ? new Date(node.validUntil).getTime() : null,
    revoked: node.revoked,
    c2: (type === 'IPV4' || type === 'IPV6') && node.killChainPhases.some((p) => p.phaseName === 'command-and-control'),
  };
}

// ---------------------------------------------------------------------------------------
// Events

interface Observed {
  field: string;
  type: ObservableType;
  value: string;
}

interface Event {
  /** Global community id. */
  community: string;
  ts: number;
  doc: Record<string, unknown>;
  /** What the event holds, by the SPEC's fields (canonical values), without repeats. */
  observed: Observed[];
}

/** Ways of writing a canonical value that SPEC says are the same observable. */
function variant(rng: Random, type: ObservableType, value: string): string {
  switch (type) {
    case 'IPV4': {
      const octets = value.split('.');
      return rng.pick([
        () => `::ffff:${value}`,
        () => octets.map((o) => o.padStart(3, '0')).join('.'),
        () => `${octets.slice(0, 3).join('.')}[.]${octets[3]}`,
      ])();
    }
    case 'IPV6':
      return rng.pick([
        () => value.toUpperCase(),
        () =>
          value
            .split(':')
            .map((g) => (g ? g.padStart(4, '0') : g))
            .join(':'),
      ])();
    case 'DOMAIN':
      return rng.pick([
        () => value.toUpperCase(),
        () => `${value}.`,
        () => value.replace(/\.([^.]+)$/, '[.]$1'),
        () => (value.includes('xn--') ? domainToUnicode(value) : value.toUpperCase()),
      ])();
    case 'URL': {
      const [, scheme, host, rest] = /^([a-z]+):\/\/([^/:?#]+)(.*)$/.exec(value)!;
      return rng.pick([
        () => `${scheme.replace('tt', 'xx')}://${host}${rest}`,
        () => `${scheme}://${host.toUpperCase()}${rest}`,
        () => `${scheme}://${host.replace(/\.([^.]+)$/, '[.]$1')}${rest}`,
        () => `${value}#fragment`,
      ])();
    }
    case 'EMAIL':
      return rng.pick([
        () => value.toUpperCase(),
        () => `mailto:${value}`,
        () => value.replace('@', '[@]'),
        () => value.replace(/\.([^.]+)$/, '[.]$1'),
      ])();
    case 'FILE':
      return value.toUpperCase();
  }
}

/**
 * Puts `value` at `field`, part nested and part dotted (`{"source": {"ip": …}}`,
 * `{"source.ip": …}`), sometimes in an array; two values of one field make an array.
 */
function put(rng: Random, doc: Record<string, unknown>, field: string, value: string): boolean {
  const segments = field.split('.');
  const nested = rng.int(0, segments.length - 1);
  let node = doc;
  for (const segment of segments.slice(0, nested)) {
    let child = node[segment];
    if (child === undefined) node[segment] = child = segment === 'attachments' ? [{}] : {};
    if (Array.isArray(child)) child = child[0];
    if (typeof child !== 'object' || child === null || Array.isArray(child)) return false;
    node = child as Record<string, unknown>;
  }
  const key = segments.slice(nested).join('.');
  const existing = node[key];
  if (existing === undefined) node[key] = rng.chance(0.15) ? [value] : value;
  else if (Array.isArray(existing)) existing.push(value);
  else if (typeof existing === 'string') node[key] = [existing, value];
  else return false;
  return true;
}

/** A fresh canonical value of `type` no indicator was made from (it may still equal one by chance). */
function freshCanonical(rng: Random, type: ObservableType, pool: Indicator[]): string {
  const near = pool.filter((i) => i.type === type);
  if (near.length && rng.chance(0.5)) {
    // A near miss of an indicator.
    const { value } = rng.pick(near);
    switch (type) {
      case 'IPV4':
        return value.replace(/\d+$/, (last) => String((Number(last) + 1) % 255));
      case 'IPV6':
        return value.endsWith('::1') ? value.replace(/::1$/, '::2') : value.replace(/:[0-9a-f]+$/, ':1');
      case 'DOMAIN':
        return `www.${value}`;
      case 'URL':
        return `${value}&more=1`;
      case 'EMAIL':
        return `x${value}`;
      case 'FILE':
        return value.slice(0, -1) + (value.endsWith('0') ? '1' : '0');
    }
  }
  switch (type) {
    case 'IPV4':
      return `${rng.int(11, 223)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
    case 'IPV6':
      return `2001:db8:${rng.int(1, 0xffff).toString(16)}:${rng.int(1, 0xffff).toString(16)}::${rng.int(1, 0xffff).toString(16)}`;
    case 'DOMAIN':
      return `${rng.word()}.unrelated.example`;
    case 'URL':
      return `https://${rng.word()}.unrelated.example/${rng.word()}`;
    case 'EMAIL':
      return `${rng.word()}@unrelated.example`;
    case 'FILE':
      return rng.hex(rng.pick([32, 40, 64, 128]));
  }
}

const HASH_ALGORITHM_BY_LENGTH: Record<number, string> = { 32: 'md5', 40: 'sha1', 64: 'sha256', 128: 'sha512' };

/** Events of random communities at random distinct times, made mostly of the pool's values. */
function makeEvents(rng: Random, count: number, communities: string[], pool: Indicator[], used: Set<number>): Event[] {
  return Array.from({ length: count }, () => {
    let ts: number;
    let previous: Indicator | undefined;
    do {
      ts = NOW - Math.floor(rng.next() * EVENT_DAYS * DAY) - 1;
      previous = undefined;
      // Some carry an indicator at an edge of its validity or of its retrohunt margin, to the millisecond.
      if (rng.chance(0.15)) {
        const indicator = rng.pick(pool);
        const { from, until } = indicator;
        const edge = rng.pick([from, until ?? from, from - MARGIN, (until ?? from) + MARGIN]) + rng.pick([-1, 0]);
        if (edge < NOW && edge > NOW - EVENT_DAYS * DAY) [ts, previous] = [edge, indicator];
      }
    } while (used.has(ts));
    used.add(ts);
    const roll = rng.next();
    const timestamp: string | number =
      roll < 0.1 ? ts : roll < 0.2 ? new Date(ts + 2 * 3600_000).toISOString().replace('Z', '+02:00') : iso(ts);
    const doc: Record<string, unknown> = { '@timestamp': timestamp, 'event.kind': 'event' };
    const observed = new Map<string, Observed>();
    const placements = rng.chance(0.5) ? 1 : rng.int(2, 4);
    for (let p = 0; p < placements; p++) {
      if (p === 0 && previous ? true : rng.chance(0.75)) {
        // Sometimes the same observable again, in another field (or the same one).
        const indicator = previous && (p === 0 || rng.chance(0.3)) ? previous : rng.pick(pool);
        previous = indicator;
        const { type } = indicator;
        let value = indicator.value;
        let field: string;
        if (type === 'FILE') {
          const hash = rng.pick(indicator.hashes);
          value = hash.value;
          field = hashField(rng, hash.algorithm);
        } else field = rng.pick(FIELDS[type]);
        const raw = rng.chance(0.35) ? variant(rng, type, value) : value;
        if (rng.chance(0.2)) {
          put(rng, doc, rng.pick(WRONG_FIELDS[type]), raw);
        } else if (put(rng, doc, field, raw)) {
          observed.set(`${field} ${value}`, { field, type, value });
        }
      } else {
        const type = rng.pick(TYPES);
        const value = freshCanonical(rng, type, pool);
        const field = type === 'FILE' ? hashField(rng, HASH_ALGORITHM_BY_LENGTH[value.length]) : rng.pick(FIELDS[type]);
        if (put(rng, doc, field, value)) observed.set(`${field} ${value}`, { field, type, value });
      }
    }
    if (rng.chance(0.3)) doc.message = `seen ${rng.pick(pool).value} somewhere`;
    return { community: rng.pick(communities), ts, doc, observed: [...observed.values()] };
  });
}

/** Events in batches per community, each batch in time order, the batches in random order. */
function batches(rng: Random, events: Event[]): Event[][] {
  const byCommunity = new Map<string, Event[]>();
  for (const e of rng.shuffle([...events])) byCommunity.set(e.community, [...(byCommunity.get(e.community) ?? []), e]);
  const result: Event[][] = [];
  for (const list of byCommunity.values()) {
    for (let i = 0; i < list.length;) {
      const size = rng.int(30, 200);
      result.push(list.slice(i, i + size).sort((a, b) => a.ts - b.ts));
      i += size;
    }
  }
  return rng.shuffle(result);
}

// ---------------------------------------------------------------------------------------
// The oracle: what detection must have done, step by step

interface Rule {
  id: string;
  /** Communities whose events it sees. */
  communities: Set<string>;
  indicators: Indicator[];
}

interface ExpectedAlert {
  rule: string;
  indicator: string;
  community: string;
  count: number;
  firstSeen: number;
  lastSeen: number;
  /** `field value` of the matches in the event that opened it (one event may match in several fields). */
  firstMatches: Set<string>;
  excerpt: Record<string, unknown>;
  retrohunt: boolean;
}

class Oracle {
  /** (rule, indicator, event) matches counted so far. */
  private ledger = new Set<string>();
  readonly alerts = new Map<string, ExpectedAlert>();
  private eventIds = new Map<Event, number>();

  private id(event: Event): number {
    let id = this.eventIds.get(event);
    if (id === undefined) this.eventIds.set(event, (id = this.eventIds.size));
    return id;
  }

  /** Matches of one event, per indicator: the `field value` pairs. */
  private matches(rule: Rule, event: Event, margin: number): Map<Indicator, Set<string>> {
    const found = new Map<Indicator, Set<string>>();
    if (!rule.communities.has(event.community)) return found;
    for (const indicator of rule.indicators) {
      if (indicator.revoked) continue;
      if (event.ts < indicator.from - margin) continue;
      if (indicator.until !== null && event.ts >= indicator.until + margin) continue;
      for (const o of event.observed) {
        if (o.type !== indicator.type || !indicator.values.has(o.value)) continue;
        if (indicator.c2 && o.field !== C2_FIELD) continue;
        const pairs = found.get(indicator) ?? new Set<string>();
        pairs.add(`${o.field} ${o.value}`);
        found.set(indicator, pairs);
      }
    }
    return found;
  }

  /**
   * New matches of `events` (one step: a batch, or a whole retrohunt) added to alerts; an
   * alert opened by the step takes its earliest new match. Answers the step's counts.
   */
  private step(rule: Rule, events: Event[], margin: number, retrohunt: boolean) {
    const fresh = new Map<string, { indicator: Indicator; community: string; hits: [Event, Set<string>][] }>();
    let matches = 0;
    for (const event of events) {
      for (const [indicator, pairs] of this.matches(rule, event, margin)) {
        const entry = `${rule.id}|${indicator.id}|${this.id(event)}`;
        if (this.ledger.has(entry)) continue;
        this.ledger.add(entry);
        matches += 1;
        const key = `${rule.id}|${indicator.id}|${event.community}`;
        const group = fresh.get(key) ?? { indicator, community: event.community, hits: [] };
        group.hits.push([event, pairs]);
        fresh.set(key, group);
      }
    }
    let alertsCreated = 0;
    for (const [key, { indicator, community, hits }] of fresh) {
      hits.sort(([a], [b]) => a.ts - b.ts);
      const [first, firstPairs] = hits[0];
      const last = hits[hits.length - 1][0];
      const alert = this.alerts.get(key);
      if (alert) {
        alert.count += hits.length;
        alert.firstSeen = Math.min(alert.firstSeen, first.ts);
        alert.lastSeen = Math.max(alert.lastSeen, last.ts);
      } else {
        alertsCreated += 1;
        this.alerts.set(key, {
          rule: rule.id,
          indicator: indicator.id,
          community,
          count: hits.length,
          firstSeen: first.ts,
          lastSeen: last.ts,
          firstMatches: firstPairs,
          excerpt: first.doc,
          retrohunt,
        });
      }
    }
    return { matches, alertsCreated };
  }

  /** A batch of new events, checked against the rules enabled at the time. */
  live(rules: Rule[], batch: Event[]) {
    for (const rule of rules) this.step(rule, batch, 0, false);
  }

  /** A retrohunt of one rule over every stored event. */
  retrohunt(rule: Rule, stored: Event[]) {
    return this.step(
      rule,
      [...stored].sort((a, b) => a.ts - b.ts),
      MARGIN,
      true,
    );
  }
}

// ---------------------------------------------------------------------------------------
// The service's side

async function setEnabled(client: Client, id: string, enabled: boolean) {
  expect((await updateRule(client, id, { enabled })).enabled).toBe(enabled);
}

/** The newest retrohunt once the rule has `hunts` of them and all have ended. */
const lastRetrohunt = (client: Client, ruleId: string, hunts: number) =>
  waitForRetrohunts(client, ruleId, { hunts, timeoutMs: 120_000 });

/** Differences between the service's alerts of `rules` and the oracle's, one line each. */
async function differences(client: Client, oracle: Oracle, rules: Rule[], names: Map<string, string>) {
  const diff: string[] = [];
  const describe = (key: string) => {
    const [rule, indicator, community] = key.split('|');
    return `${names.get(rule)} / ${names.get(indicator)} / ${names.get(community)}`;
  };
  for (const rule of rules) {
    const actual = new Map<string, AlertNode>();
    for (const alert of await allAlerts(client, { ruleId: rule.id })) {
      const key = `${rule.id}|${alert.indicator!.id}|${alert.community.id}`;
      if (actual.has(key)) diff.push(`two alerts for ${describe(key)}`);
      actual.set(key, alert);
    }
    const expected = [...oracle.alerts.values()].filter((a) => a.rule === rule.id);
    for (const want of expected) {
      const key = `${want.rule}|${want.indicator}|${want.community}`;
      const got = actual.get(key);
      actual.delete(key);
      const wanted = {
        count: want.count,
        firstSeen: iso(want.firstSeen),
        lastSeen: iso(want.lastSeen),
        retrohunt: want.retrohunt,
        status: 'OPEN',
      };
      if (!got) {
        diff.push(`missing ${describe(key)}: ${JSON.stringify({ ...wanted, first: [...want.firstMatches] })}`);
        continue;
      }
      const seen = {
        count: got.count,
        firstSeen: got.firstSeen,
        lastSeen: got.lastSeen,
        retrohunt: got.retrohunt,
        status: got.status,
      };
      if (!isDeepStrictEqual(seen, wanted)) {
        diff.push(`${describe(key)}: expected ${JSON.stringify(wanted)}, got ${JSON.stringify(seen)}`);
      }
      if (!want.firstMatches.has(`${got.field} ${got.value}`)) {
        diff.push(`${describe(key)}: first match ${got.field} ${got.value}, expected one of ${[...want.firstMatches]}`);
      }
      if (!isDeepStrictEqual(got.excerpt, want.excerpt)) {
        diff.push(`${describe(key)}: excerpt ${JSON.stringify(got.excerpt)}, expected ${JSON.stringify(want.excerpt)}`);
      }
    }
    for (const [key, got] of actual) {
      diff.push(`unexpected ${describe(key)}: ${JSON.stringify({ ...got, excerpt: undefined })}`);
    }
  }
  return diff;
}

/** Fails with at most `max` lines of the diff, and the seed. */
function expectNoDifferences(diff: string[], what: string, max = 15) {
  const shown = diff.length > max ? [...diff.slice(0, max), `... and ${diff.length - max} more`] : diff;
  if (diff.length) expect.fail(`${what}: ${diff.length} difference(s), seed ${SEED}\n${shown.join('\n')}`);
}

// ---------------------------------------------------------------------------------------

describe('detection oracle', () => {
  it(`alerts equal a brute-force computation: live, retrohunt, disable and re-enable (seed ${SEED})`, async () => {
    onTestFailed(() => console.error(`detection oracle failed with ORACLE_SEED=${SEED}`));
    const rng = new Random(SEED);
    const tag = `o${rng.hex(6)}`;
    const mssp = await createTenant(app, { children: 2 });
    const { client } = mssp;
    const [top, one, two] = [mssp.communityId, ...mssp.childIds];
    const names = new Map([
      [top, 'MSSP'],
      [one, 'client one'],
      [two, 'client two'],
    ]);

    // Collections: the MSSP's shared one and client one's own (rules before the events), and
    // a second shared one whose rule comes after them (retrohunt only).
    const collection = async (communityId: string, name: string, availableForSubCommunities: boolean) =>
      (await createCollection(client, { communityId, name: `${name} ${tag}`, availableForSubCommunities })).id;
    const shared = await collection(top, 'shared', true);
    const own = await collection(one, 'own', false);
    const late = await collection(top, 'late', true);

    const importAll = async (collectionId: string, groups: ImportGroup[]) => {
      for (const { lines, properties } of groups) {
        const job = await importText(client, collectionId, lines.join('\n'), properties);
        expect(job, `seed ${SEED}: ${JSON.stringify(job.errors)}`).toMatchObject({
          status: 'SUCCEEDED',
          created: lines.length,
          invalid: 0,
        });
      }
    };
    await importAll(shared, indicatorGroups(rng, tag, 9, 0));
    await importAll(own, indicatorGroups(rng, tag, 7, 1000));
    // The late collection: some fresh observables, and many of the others' (canonical, as read back).
    const earlier = [...(await allIndicators(client, shared)), ...(await allIndicators(client, own))];
    const lateGroups = indicatorGroups(rng, tag, 6, 2000).map((group) => ({
      ...group,
      lines: [
        ...group.lines.slice(0, 5),
        ...rng
          .shuffle(earlier.filter((i) => !group.lines.includes(i.value)))
          .slice(0, 10)
          .map((i) => i.value),
      ],
    }));
    // One observable per collection: a value taken twice would be an update, not a new indicator.
    const taken = new Set<string>();
    for (const group of lateGroups) {
      group.lines = group.lines.filter((line) => !taken.has(line) && taken.add(line));
    }
    await importAll(late, lateGroups);

    // Some indicators of each are revoked before any event.
    for (const collectionId of [shared, own, late]) {
      for (const indicator of await allIndicators(client, collectionId)) {
        if (!rng.chance(0.08)) continue;
        await revokeIndicator(client, indicator.id);
      }
    }
    const read = async (collectionId: string) =>
      (await allIndicators(client, collectionId, { includeRevoked: true })).map(fromApi);
    const indicators = { shared: await read(shared), own: await read(own), late: await read(late) };
    for (const [name, list] of Object.entries(indicators)) {
      for (const indicator of list) names.set(indicator.id, `${name}:${indicator.type} ${indicator.value}`);
    }
    const pool = [...indicators.shared, ...indicators.own, ...indicators.late];
    expect(pool.length, `seed ${SEED}`).toBeGreaterThan(300);
    expect(new Set(pool.map((i) => i.type)), `seed ${SEED}`).toEqual(new Set(TYPES));
    expect(pool.some((i) => i.c2) && pool.some((i) => i.revoked), `seed ${SEED}`).toBe(true);

    // Phase A: rules on the first two, before any event (their retrohunts find nothing).
    const rules = {
      shared: {
        id: (await createRule(client, shared)).id,
        communities: new Set([top, one, two]),
        indicators: indicators.shared,
      },
      own: { id: (await createRule(client, own)).id, communities: new Set([one]), indicators: indicators.own },
      late: { id: '', communities: new Set([top, one, two]), indicators: indicators.late },
    };
    names.set(rules.shared.id, 'shared rule');
    names.set(rules.own.id, 'own rule');
    for (const rule of [rules.shared, rules.own]) {
      expect(await lastRetrohunt(client, rule.id, 1)).toMatchObject({ status: 'SUCCEEDED', matches: 0 });
    }

    const oracle = new Oracle();
    const used = new Set<number>();
    const stored: Event[] = [];
    const ingest = async (events: Event[], enabled: Rule[]) => {
      for (const batch of batches(rng, events)) {
        const answer = await sendEvents(
          client.withCommunities(batch[0].community),
          batch.map((e) => e.doc),
        );
        expect(answer, `seed ${SEED}: ${JSON.stringify(answer.errors)}`).toMatchObject({
          status: 200,
          accepted: batch.length,
          rejected: 0,
        });
        stored.push(...batch);
        oracle.live(enabled, batch);
      }
    };
    await ingest(makeEvents(rng, 2000, [top, one, two], pool, used), [rules.shared, rules.own]);
    const live = [...oracle.alerts.values()];
    expect(live.length, `seed ${SEED}: too few alerts to mean much`).toBeGreaterThan(40);
    expect(new Set(live.map((a) => a.community)).size).toBe(3);
    expectNoDifferences(await differences(client, oracle, [rules.shared, rules.own], names), 'live detection');

    // Phase B: the late collection's rule, after the events: a retrohunt over them.
    rules.late.id = (await createRule(client, late)).id;
    names.set(rules.late.id, 'late rule');
    let hunt = await lastRetrohunt(client, rules.late.id, 1);
    const lateHunt = oracle.retrohunt(rules.late, stored);
    expect(lateHunt.alertsCreated, `seed ${SEED}: too few retrohunt alerts to mean much`).toBeGreaterThan(10);
    expectNoDifferences(await differences(client, oracle, [rules.late], names), 'retrohunt');
    expect(hunt, `seed ${SEED}`).toMatchObject({ trigger: 'RULE_CREATED', status: 'SUCCEEDED', ...lateHunt });
    expect(hunt.scannedUntil).toBe(hunt.rangeEnd);

    // Phase C: off and on again. The late rule's second retrohunt finds nothing new.
    const before = await allAlerts(client, { ruleId: rules.late.id });
    await setEnabled(client, rules.late.id, false);
    await setEnabled(client, rules.late.id, true);
    hunt = await lastRetrohunt(client, rules.late.id, 2);
    expect(hunt, `seed ${SEED}`).toMatchObject({ trigger: 'RULE_ENABLED', matches: 0, alertsCreated: 0 });
    expectNoDifferences(await differences(client, oracle, [rules.late], names), 'after re-enabling the late rule');
    expect(await allAlerts(client, { ruleId: rules.late.id }), `seed ${SEED}: not even updatedAt changes`).toEqual(
      before,
    );

    // The shared rule is off while more events come (the other two see them live); on again,
    // its retrohunt counts those and the ones its indicators' margins reach, none twice.
    await setEnabled(client, rules.shared.id, false);
    await ingest(makeEvents(rng, 300, [top, one, two], pool, used), [rules.own, rules.late]);
    await setEnabled(client, rules.shared.id, true);
    hunt = await lastRetrohunt(client, rules.shared.id, 2);
    const sharedHunt = oracle.retrohunt(rules.shared, stored);
    expect(sharedHunt.matches, `seed ${SEED}: the retrohunt should find events`).toBeGreaterThan(0);
    expect(hunt, `seed ${SEED}`).toMatchObject({ trigger: 'RULE_ENABLED', status: 'SUCCEEDED', ...sharedHunt });
    const all = [rules.shared, rules.own, rules.late];
    expectNoDifferences(await differences(client, oracle, all, names), 'after re-enabling the shared rule');
  }, 300_000);
});
