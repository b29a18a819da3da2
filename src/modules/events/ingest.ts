// Event ingest: newline-delimited JSON read as a stream, parsed line by line, stored in
// batches as it arrives. A bad line is reported (line number, reason) and skipped; it never
// costs the good ones (not even when only PostgreSQL refuses it, see storeEvents), and
// batches already stored stay stored whatever comes later.
import { DateTime } from 'luxon';
import type { Services } from '../../services.ts';
import { storeEvents, type IncomingEvent } from './batch.ts';
import { parseEventLine } from './ecs.ts';
import type { EventHook } from './hooks.ts';

const BATCH_EVENTS = 5000;
const BATCH_CHARS = 8 * 1024 * 1024;
/** Reasons listed in the answer; `rejected` counts them all. */
const MAX_LISTED_ERRORS = 100;
/** How far ahead of the server's clock an event may be. */
const MAX_FUTURE_MS = 24 * 3600 * 1000;

export interface IngestResult {
  accepted: number;
  rejected: number;
  /** The first rejections, in line order. */
  errors: Array<{ line: number; reason: string }>;
  /** Set when reading stopped early (size limit, broken compression): lines after `lastLine` were not read. */
  truncated?: { lastLine: number; reason: string; cause: 'TOO_LARGE' | 'UNREADABLE' };
}

type Line = { number: number; text: string } | { number: number; tooLong: true };

/** Splits a byte stream into lines, never holding more than one line (up to the limit) in memory. */
async function* lines(
  body: AsyncIterable<Uint8Array>,
  limits: { maxBytes: number; maxLineBytes: number },
  onStop: (lastLine: number, cause: 'TOO_LARGE' | 'UNREADABLE', detail: string) => void,
): AsyncGenerator<Line> {
  const decoder = new TextDecoder('utf-8');
  let pending = '';
  let skipping = false;
  let number = 0;
  let bytes = 0;
  const longerThanLimit = (text: string) =>
    text.length > limits.maxLineBytes ||
    (text.length * 3 > limits.maxLineBytes && Buffer.byteLength(text) > limits.maxLineBytes);

  function* split(text: string, final: boolean): Generator<Line> {
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      const line = pending + text.slice(start, end);
      pending = '';
      start = end + 1;
      number += 1;
      if (skipping || longerThanLimit(line)) yield { number, tooLong: true };
      else yield { number, text: line };
      skipping = false;
    }
    if (!skipping) {
      pending += text.slice(start);
      // Past the limit the rest of the line is dropped unread, so memory stays bounded.
      if (longerThanLimit(pending)) {
        skipping = true;
        pending = '';
      }
    }
    if (final && (pending || skipping)) {
      number += 1;
      yield skipping ? { number, tooLong: true } : { number, text: pending };
    }
  }

  const reader = body[Symbol.asyncIterator]();
  for (;;) {
    let chunk: IteratorResult<Uint8Array>;
    try {
      chunk = await reader.next();
    } catch (error) {
      onStop(number, 'UNREADABLE', (error as Error).message);
      return;
    }
    if (chunk.done) break;
    bytes += chunk.value.byteLength;
    if (bytes > limits.maxBytes) {
      // The lines that end inside the limit are read too: dropping the whole chunk that
      // crosses it lost them (all of a body that arrived as one chunk).
      const inside = chunk.value.subarray(0, chunk.value.byteLength - (bytes - limits.maxBytes));
      yield* split(decoder.decode(inside, { stream: true }), false);
      await reader.return?.();
      onStop(number, 'TOO_LARGE', `larger than ${limits.maxBytes} bytes`);
      return;
    }
    yield* split(decoder.decode(chunk.value, { stream: true }), false);
  }
  yield* split(decoder.decode(), true);
}

/**
 * One escape of a JSON string; group 1 is set for those PostgreSQL's jsonb refuses:
 * `\u0000` and a UTF-16 surrogate escape that is not half of a pair.
 */
const JSON_ESCAPE = /\\(?:u(?:d[89ab][0-9a-f]{2}\\ud[c-f][0-9a-f]{2}|(0000|d[89a-f][0-9a-f]{2})|[0-9a-f]{4})|[^u])/gi;

/**
 * PostgreSQL's jsonb refuses `\u0000` and unpaired UTF-16 surrogates that JSON allows.
 * Only lines with a `\u` escape can hold them, so the common case costs one indexOf.
 *
 * The line is scanned as sent, escape by escape (in valid JSON every backslash starts one),
 * because PostgreSQL parses the line itself. Checking JSON.stringify of the parsed document
 * instead missed a `\u0000` under a duplicate key (JSON.parse keeps only the last value; the
 * COPY then failed, losing the whole batch with a 500) and rejected the text `\\u0000` (a
 * backslash, then "u0000"), which is storable.
 */
function unstorableText(line: string): boolean {
  if (!line.includes('\\u')) return false;
  for (const escape of line.matchAll(JSON_ESCAPE)) if (escape[1] !== undefined) return true;
  return false;
}

/** How many times `bracket` occurs in `line`, counting no further than `limit` + 1. */
function occurrences(line: string, bracket: string, limit: number): number {
  let count = 0;
  for (let at = line.indexOf(bracket); at !== -1 && count <= limit; at = line.indexOf(bracket, at + 1)) count += 1;
  return count;
}

/** Whether the quote at `at` is escaped: preceded by an odd number of backslashes. */
function escapedAt(line: string, at: number): boolean {
  let backslashes = 0;
  while (line.charCodeAt(at - 1 - backslashes) === 0x5c) backslashes += 1;
  return backslashes % 2 === 1;
}

/**
 * Whether objects and arrays nest deeper than `maxDepth` in a line (brackets inside strings
 * do not count). Checked before JSON.parse, on the text: PostgreSQL's jsonb parser recurses,
 * so one line nested 50,000 deep failed the COPY of its whole batch ("stack depth limit
 * exceeded"), and such a document breaks any recursive walk of it (JSON.stringify).
 * A line with no more brackets than the limit cannot nest deeper; counting them (indexOf)
 * is all most lines cost. Others are scanned, skipping string contents.
 */
function nestedDeeperThan(line: string, maxDepth: number): boolean {
  if (occurrences(line, '{', maxDepth) + occurrences(line, '[', maxDepth) <= maxDepth) return false;
  let depth = 0;
  for (let at = 0; at < line.length; at += 1) {
    switch (line.charCodeAt(at)) {
      case 0x22: // "
        do at = line.indexOf('"', at + 1);
        while (at !== -1 && escapedAt(line, at));
        // An unterminated string: not JSON, which JSON.parse reports.
        if (at === -1) return false;
        break;
      case 0x7b: // {
      case 0x5b: // [
        depth += 1;
        if (depth > maxDepth) return true;
        break;
      case 0x7d: // }
      case 0x5d: // ]
        depth -= 1;
    }
  }
  return false;
}

export interface IngestOptions {
  communityId: string;
  /** The communities above it, nearest first (for the rules of collections they share down). */
  ancestorIds: readonly string[];
  now?: Date;
}

export type IngestServices = Pick<Services, 'pool' | 'env' | 'metrics'>;

export async function ingestEvents(
  services: IngestServices,
  hooks: readonly EventHook[],
  body: AsyncIterable<Uint8Array>,
  { communityId, ancestorIds, now = new Date() }: IngestOptions,
): Promise<IngestResult> {
  const { env, pool } = services;
  const result: IngestResult = { accepted: 0, rejected: 0, errors: [] };
  const { errors } = result;
  // Lines the database refuses are known a batch late, after later lines were rejected:
  // each goes to its place in line order, and the list keeps the first ones.
  const reject = (line: number, reason: string) => {
    result.rejected += 1;
    services.metrics.eventsIngested.inc({ outcome: 'rejected' });
    if (errors.length === MAX_LISTED_ERRORS && errors[errors.length - 1].line < line) return;
    let at = errors.length;
    while (at > 0 && errors[at - 1].line > line) at -= 1;
    errors.splice(at, 0, { line, reason });
    if (errors.length > MAX_LISTED_ERRORS) errors.pop();
  };
  const parseOptions = { now, maxAgeDays: env.SIGHTING_RETENTION_DAYS, maxFutureMs: MAX_FUTURE_MS };
  const keepEventsFrom = DateTime.fromJSDate(now)
    .toUTC()
    .minus({ days: env.EVENT_RETENTION_DAYS })
    .startOf('day')
    .toJSDate();

  let batch: IncomingEvent[] = [];
  let batchChars = 0;
  // One batch is written while the next is parsed: the database and this thread work at
  // the same time, and memory stays bounded to two batches.
  let writing: Promise<void> = Promise.resolve();
  const flush = async () => {
    if (!batch.length) return;
    const events = batch;
    batch = [];
    batchChars = 0;
    await writing;
    writing = storeEvents(pool, hooks, events, { communityId, ancestorIds, keepEventsFrom }).then((refused) => {
      result.accepted += events.length - refused.length;
      services.metrics.eventsIngested.inc({ outcome: 'accepted' }, events.length - refused.length);
      for (const { line, reason } of refused) reject(line, reason);
    });
    // Awaited at the next flush or at the end; until then a failure must not count as unhandled.
    writing.catch(() => {});
  };

  const limits = { maxBytes: env.EVENTS_MAX_BYTES, maxLineBytes: env.EVENT_MAX_LINE_BYTES };
  const stop = (lastLine: number, cause: 'TOO_LARGE' | 'UNREADABLE', detail: string) => {
    result.truncated = {
      lastLine,
      cause,
      reason: `The body could not be read past line ${lastLine} (${detail}); the lines after it were not read.`,
    };
  };
  for await (const line of lines(body, limits, stop)) {
    if ('tooLong' in line) {
      reject(line.number, `event larger than ${env.EVENT_MAX_LINE_BYTES} bytes`);
      continue;
    }
    let text = line.text.endsWith('\r') ? line.text.slice(0, -1) : line.text;
    if (line.number === 1 && text.startsWith('\uFEFF')) text = text.slice(1);
    if (!text.trim()) continue;
    if (nestedDeeperThan(text, env.EVENT_MAX_DEPTH)) {
      reject(line.number, `objects and arrays nested deeper than ${env.EVENT_MAX_DEPTH} levels (EVENT_MAX_DEPTH)`);
      continue;
    }
    const parsed = parseEventLine(text, parseOptions);
    if (!parsed.ok) {
      reject(line.number, parsed.reason);
      continue;
    }
    if (unstorableText(text)) {
      reject(line.number, 'contains \\u0000 or an unpaired surrogate escape, which cannot be stored');
      continue;
    }
    batch.push({ line: line.number, event: parsed.event, json: text });
    batchChars += text.length;
    if (batch.length >= BATCH_EVENTS || batchChars >= BATCH_CHARS) await flush();
  }
  await flush();
  await writing;
  return result;
}
