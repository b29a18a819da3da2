/**
 * Security events in Elastic Common Schema (ECS), one JSON object per line: the timestamp,
 * the document as given (stored as JSONB) and the observables it carries, which detection
 * matches against indicators. Observables are canonical by the one normalisation path of
 * indicators (`parseObservable`), so that an event and an indicator of the same thing compare
 * equal. Fields ECS types strictly (`ip`, hashes) reject a line that breaks the type, as
 * Elasticsearch would; free-text fields (domains, URLs, emails) only yield an observable
 * when their value is one.
 *
 * ECS lets any part of a field path be dotted (`{"source.ip": …}`, `{"source": {"ip": …}}`,
 * `{"email": {"attachments.file": …}}`) and any field hold an array. This runs on every line
 * of bulk ingestion (~1,000,000 lines), where JSON.parse is the main cost: rather than
 * flattening documents, a walk descends only into values whose key leads to a known field, so
 * it never enters the rest of the document and its depth is bounded by the field paths.
 */
import { HASH_ALGORITHM_SPECS, parseObservable, type ObservableType } from '../indicators/observable.ts';

// --- Fields ---------------------------------------------------------------------------------

const IP_FIELDS = Object.freeze(['source.ip', 'destination.ip', 'client.ip', 'server.ip', 'host.ip']);
const DOMAIN_FIELDS = Object.freeze([
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
]);
const URL_FIELDS = Object.freeze(['url.full', 'url.original']);
const EMAIL_FIELDS = Object.freeze([
  'email.from.address',
  'email.sender.address',
  'email.to.address',
  'email.cc.address',
  'email.bcc.address',
  'user.email',
  'source.user.email',
  'destination.user.email',
]);

/** Other ECS hash kinds (sha384, ssdeep, tlsh, …) are not indicator hashes, so they are not read. */
const HASH_ALGORITHMS = HASH_ALGORITHM_SPECS.map(({ key, hexLength, label }) => ({
  key,
  hexLength,
  label: `${label === 'MD5' ? 'an' : 'a'} ${label}`,
}));
const HASHED_OBJECTS = ['file', 'process', 'dll', 'email.attachments.file'] as const;
const FILE_FIELDS = Object.freeze(
  HASHED_OBJECTS.flatMap((object) => HASH_ALGORITHMS.map(({ key }) => `${object}.hash.${key}`)),
);

/** ECS fields holding observables, per type (SPEC): used by telemetry and by detection. */
export const ECS_OBSERVABLE_FIELDS: { readonly [T in ObservableType]: readonly string[] } = Object.freeze({
  IPV4: IP_FIELDS,
  IPV6: IP_FIELDS,
  DOMAIN: DOMAIN_FIELDS,
  URL: URL_FIELDS,
  EMAIL: EMAIL_FIELDS,
  FILE: FILE_FIELDS,
});

// --- API ------------------------------------------------------------------------------------

export interface EventObservable {
  field: string;
  type: ObservableType;
  value: string;
}

export interface ParsedEvent {
  timestamp: Date;
  document: Record<string, unknown>;
  observables: EventObservable[];
}

export type EventParseResult = { ok: true; event: ParsedEvent } | { ok: false; reason: string };

export interface EventParseOptions {
  now: Date;
  /** Oldest accepted @timestamp, in days before `now` (sightings are kept this long). */
  maxAgeDays: number;
  /** How far in the future @timestamp may be (clock skew), in milliseconds. */
  maxFutureMs: number;
}

/** Parses one NDJSON line. Never throws; `document` is the object JSON.parse returned. */
export function parseEventLine(line: string, options: EventParseOptions): EventParseResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return reject(
      `invalid JSON: ${message.length > MAX_PARSER_MESSAGE ? `${message.slice(0, MAX_PARSER_MESSAGE)}…` : message}`,
    );
  }
  if (!isObject(parsed)) return reject('not a JSON object');

  const timestamp = parseTimestamp(own(parsed, '@timestamp'), options);
  if (typeof timestamp === 'string') return reject(timestamp);

  const collector: Collector = { observables: [], seen: new Set() };
  const error = walkObject(parsed, ROOT, collector);
  if (error !== undefined) return reject(error);
  return { ok: true, event: { timestamp, document: parsed, observables: collector.observables } };
}

// --- Helpers --------------------------------------------------------------------------------

/** V8 quotes at most a few characters of the input; the cap is for other engines. */
const MAX_PARSER_MESSAGE = 150;
const MAX_EXCERPT = 80;
const MAX_QUOTED_EXCERPT = 100;

function reject(reason: string): EventParseResult {
  return { ok: false, reason };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Own properties only: a key inherited from a (polluted) prototype is not part of the event. */
function own(object: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/** Short, printable excerpt of user input for reasons. */
function excerpt(text: string): string {
  const quoted = JSON.stringify(text.length > MAX_EXCERPT ? `${text.slice(0, MAX_EXCERPT)}…` : text);
  // Escaped control characters can make the quoted form much longer than the text.
  return quoted.length > MAX_QUOTED_EXCERPT ? `${quoted.slice(0, MAX_QUOTED_EXCERPT)}…"` : quoted;
}

function describeType(value: unknown): string {
  if (isObject(value)) return 'an object';
  return typeof value === 'number' ? 'a number' : `a ${typeof value}`;
}

// --- Timestamp ------------------------------------------------------------------------------

const MS_PER_DAY = 86_400_000;
/** Time zones are at most 14 hours from UTC; allow a margin, reject nonsense like +99:00. */
const MAX_OFFSET_HOURS = 18;
/**
 * Date and time (seconds and fraction optional), then `Z`, an offset or nothing (UTC).
 * Parsed here rather than by luxon: this runs once per line, and luxon's fromISO costs about
 * ten times as much (seconds per million lines). Fractions go to nanoseconds (Beats write them).
 */
const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:[Zz]|([+-])(\d{2})(?::?(\d{2}))?)?$/;

/** The time, or the reason it is not acceptable. */
function parseTimestamp(value: unknown, options: EventParseOptions): Date | string {
  if (value === undefined || value === null) return '@timestamp is missing';
  let time: number;
  if (typeof value === 'string') {
    time = parseIsoDateTime(value);
    if (Number.isNaN(time)) return `@timestamp: ${excerpt(value)} is not an ISO-8601 date-time`;
  } else if (typeof value === 'number') {
    // JSON numbers such as 1e400 parse to Infinity, and Date has a range of its own.
    time = new Date(value).getTime();
    if (Number.isNaN(time)) return `@timestamp: ${value} is not a time in epoch milliseconds`;
  } else {
    return `@timestamp must be an ISO-8601 date-time or epoch milliseconds, not ${describeType(value)}`;
  }
  const now = options.now.getTime();
  if (time < now - options.maxAgeDays * MS_PER_DAY) return `@timestamp is older than ${options.maxAgeDays} days`;
  if (time > now + options.maxFutureMs) return '@timestamp is in the future';
  return new Date(time);
}

/** Epoch milliseconds, or NaN when `text` is not a valid date-time of the accepted form. */
function parseIsoDateTime(text: string): number {
  const match = ISO_DATE_TIME.exec(text);
  if (!match) return NaN;
  const [, year, month, day, hour, minute, second, fraction, sign, offsetHours, offsetMinutes] = match;
  if (+hour > 23 || +minute > 59 || +(second ?? 0) > 59) return NaN;
  if (sign !== undefined && (+offsetHours > MAX_OFFSET_HOURS || +(offsetMinutes ?? 0) > 59)) return NaN;
  // setUTCFullYear, unlike Date.UTC, does not read years below 100 as 19xx.
  const date = new Date(0);
  date.setUTCFullYear(+year, +month - 1, +day);
  // Date rolls 31 April over to 1 May: a date that moved did not exist.
  if (date.getUTCMonth() !== +month - 1 || date.getUTCDate() !== +day) return NaN;
  const milliseconds = fraction ? +fraction.slice(0, 3).padEnd(3, '0') : 0;
  const local = date.setUTCHours(+hour, +minute, +(second ?? 0), milliseconds);
  if (sign === undefined) return local;
  const offset = (+offsetHours * 60 + +(offsetMinutes ?? 0)) * 60_000;
  return sign === '-' ? local + offset : local - offset;
}

// --- Field walk -----------------------------------------------------------------------------

type Leaf =
  | { readonly kind: 'ip'; readonly field: string }
  | { readonly kind: 'text'; readonly field: string; readonly type: 'DOMAIN' | 'URL' | 'EMAIL' }
  | { readonly kind: 'hash'; readonly field: string; readonly label: string; readonly hexLength: number };

/**
 * A position in the field paths. `keys` maps every key that may lead on from here, in each
 * dotted spelling of the path it covers (at the root: `source`, `source.user` and
 * `source.user.email`), so any mix of nested and dotted resolves with one lookup per key.
 */
interface Branch {
  readonly kind: 'branch';
  readonly keys: ReadonlyMap<string, Node>;
}
type Node = Branch | Leaf;

const ROOT = buildTree([
  ...IP_FIELDS.map((field): Leaf => ({ kind: 'ip', field })),
  ...DOMAIN_FIELDS.map((field): Leaf => ({ kind: 'text', field, type: 'DOMAIN' })),
  ...URL_FIELDS.map((field): Leaf => ({ kind: 'text', field, type: 'URL' })),
  ...EMAIL_FIELDS.map((field): Leaf => ({ kind: 'text', field, type: 'EMAIL' })),
  ...HASHED_OBJECTS.flatMap((object) =>
    HASH_ALGORITHMS.map(({ key, label, hexLength }): Leaf => ({
      kind: 'hash',
      field: `${object}.hash.${key}`,
      label,
      hexLength,
    })),
  ),
]);

interface Segments {
  leaf?: Leaf;
  children: Map<string, Segments>;
}

function buildTree(leaves: readonly Leaf[]): Branch {
  const root: Segments = { children: new Map() };
  for (const leaf of leaves) {
    let node = root;
    for (const segment of leaf.field.split('.')) {
      let child = node.children.get(segment);
      if (!child) node.children.set(segment, (child = { children: new Map() }));
      node = child;
    }
    node.leaf = leaf;
  }
  return toBranch(root);
}

function toBranch(segments: Segments): Branch {
  const keys = new Map<string, Node>();
  for (const [segment, child] of segments.children) {
    if (child.leaf) {
      keys.set(segment, child.leaf);
      continue;
    }
    const next = toBranch(child);
    keys.set(segment, next);
    for (const [key, node] of next.keys) keys.set(`${segment}.${key}`, node);
  }
  return { kind: 'branch', keys };
}

interface Collector {
  observables: EventObservable[];
  /** `field value`: field names have no spaces, so the pair is unambiguous. */
  seen: Set<string>;
}

/** Walks `object` from `branch`; returns the reason when a field breaks its ECS type. */
function walkObject(object: Record<string, unknown>, branch: Branch, collector: Collector): string | undefined {
  // for-in allocates no key array, unlike Object.keys; hasOwn skips anything a prototype adds.
  for (const key in object) {
    const next = branch.keys.get(key);
    if (next === undefined || !Object.hasOwn(object, key)) continue;
    const value = object[key];
    const error = Array.isArray(value) ? visitArray(value, next, collector) : visit(value, next, collector);
    if (error !== undefined) return error;
  }
  return undefined;
}

/**
 * Elasticsearch reads an array of arrays as one flat array, so nested arrays are visited as
 * one too; with an explicit stack, since hostile nesting must not reach the call stack.
 */
function visitArray(array: unknown[], node: Node, collector: Collector): string | undefined {
  const arrays = [array];
  const positions = [0];
  while (arrays.length > 0) {
    const top = arrays.length - 1;
    const current = arrays[top];
    const position = positions[top]++;
    if (position === current.length) {
      arrays.pop();
      positions.pop();
      continue;
    }
    const element = current[position];
    if (Array.isArray(element)) {
      arrays.push(element);
      positions.push(0);
      continue;
    }
    const error = visit(element, node, collector);
    if (error !== undefined) return error;
  }
  return undefined;
}

function visit(value: unknown, node: Node, collector: Collector): string | undefined {
  if (node.kind === 'branch') return isObject(value) ? walkObject(value, node, collector) : undefined;
  // null is how ECS (and Elasticsearch) spells "no value".
  if (value === null) return undefined;
  switch (node.kind) {
    case 'ip':
      return collectIp(value, node.field, collector);
    case 'hash':
      return collectHash(value, node, collector);
    case 'text':
      if (typeof value !== 'string') return undefined;
      collectText(value, node.field, node.type, collector);
      return undefined;
  }
}

function collectIp(value: unknown, field: string, collector: Collector): string | undefined {
  if (typeof value !== 'string') return `${field}: expected an IP address as a string, not ${describeType(value)}`;
  const result = parseObservable(value);
  if (!result.ok || (result.observable.type !== 'IPV4' && result.observable.type !== 'IPV6')) {
    return `${field}: ${excerpt(value)} is not an IP address`;
  }
  add(collector, field, result.observable.type, result.observable.value);
  return undefined;
}

const HEX = /^[0-9a-f]+$/i;

function collectHash(value: unknown, leaf: Leaf & { kind: 'hash' }, collector: Collector): string | undefined {
  if (typeof value !== 'string') {
    return `${leaf.field}: expected ${leaf.label} hash as a string, not ${describeType(value)}`;
  }
  if (value.length !== leaf.hexLength || !HEX.test(value)) {
    return `${leaf.field}: ${excerpt(value)} is not ${leaf.label} hash`;
  }
  add(collector, leaf.field, 'FILE', value.toLowerCase());
  return undefined;
}

/** An IP in a domain field, or a relative path in `url.original`, is simply no observable. */
function collectText(value: string, field: string, type: 'DOMAIN' | 'URL' | 'EMAIL', collector: Collector): void {
  const result = parseObservable(value);
  if (result.ok && result.observable.type === type) add(collector, field, type, result.observable.value);
}

function add(collector: Collector, field: string, type: ObservableType, value: string): void {
  const key = `${field} ${value}`;
  if (collector.seen.has(key)) return;
  collector.seen.add(key);
  collector.observables.push({ field, type, value });
}
