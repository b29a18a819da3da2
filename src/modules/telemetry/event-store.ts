// Writes one batch of parsed events in one transaction: the events and their observables
// by COPY (the fastest way into PostgreSQL), the daily sighting counts by an upsert of the
// batch's aggregate (one row per value and day, not per event), and detection's matches.
// A batch PostgreSQL refuses because of a value in it is stored without the lines at
// fault, which are reported (see storeEvents).
import pg from 'pg';
import { inTransaction } from '../../db/transaction.ts';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { v7 as uuidv7 } from 'uuid';
import {
  detectInBatch,
  holdDetectionShared,
  type AlertChange,
  type EventObservableRow,
} from '../detection/matching.ts';
import type { ObservableType } from '../indicators/observable.ts';
import type { ParsedEvent } from './ecs.ts';
import { ensurePartitionKeys, EVENT_OBSERVABLES, EVENTS, partitionKey, SIGHTINGS } from './partitions.ts';

/** Telemetry covers these; URLs and e-mail addresses are matched by detection only. */
const SIGHTED_TYPES: ReadonlySet<ObservableType> = new Set(['IPV4', 'IPV6', 'DOMAIN', 'FILE']);

export interface IncomingEvent {
  /** Its line in the body, to report it if PostgreSQL refuses it. */
  line: number;
  event: ParsedEvent;
  /** The line as received (valid JSON): stored as is, cheaper than serialising again. */
  json: string;
}

interface DailySighting {
  type: ObservableType;
  value: string;
  day: string;
  count: number;
  firstSeen: number;
  lastSeen: number;
}

/** COPY text format: backslash, newline, carriage return and tab are escaped. */
function copyText(value: string): string {
  return /[\\\n\r\t]/.test(value)
    ? value.replace(/[\\\n\r\t]/g, (c) => ({ '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c]!)
    : value;
}

/** Adds an event's sightings to the batch's daily counts: once per value, however many fields carry it. */
function countSightings(daily: Map<string, DailySighting>, event: ParsedEvent, day: string): void {
  const time = event.timestamp.getTime();
  const counted = new Set<string>();
  for (const { type, value } of event.observables) {
    if (!SIGHTED_TYPES.has(type) || counted.has(value)) continue;
    counted.add(value);
    const key = `${day} ${value}`;
    const sighting = daily.get(key);
    if (!sighting) daily.set(key, { type, value, day, count: 1, firstSeen: time, lastSeen: time });
    else {
      sighting.count += 1;
      if (time < sighting.firstSeen) sighting.firstSeen = time;
      if (time > sighting.lastSeen) sighting.lastSeen = time;
    }
  }
}

/** One order for every writer: concurrent batches lock the same rows in the same order. */
const inLockOrder = (daily: Map<string, DailySighting>) =>
  [...daily.values()].sort((a, b) =>
    a.value < b.value ? -1 : a.value > b.value ? 1 : a.day < b.day ? -1 : a.day > b.day ? 1 : 0,
  );

async function copyRows(client: pg.PoolClient, statement: string, rows: string): Promise<void> {
  if (!rows) return;
  await pipeline(Readable.from([rows]), client.query(copyFrom(statement)));
}

export interface StoreEventsOptions {
  communityId: string;
  /** The communities above it, nearest first: their shared collections' rules apply too. */
  ancestorIds: readonly string[];
  /** Events older than this are counted and matched but not kept (past the event retention). */
  keepEventsFrom: Date;
}

export interface StoredEvents {
  alerts: AlertChange[];
  /** Lines PostgreSQL refused, with why; every other event of the batch is stored. */
  refused: Array<{ line: number; reason: string }>;
}

/**
 * A failure caused by a value in the rows, which the same rows would meet again and the
 * others would not: a data exception (class 22, such as a number jsonb cannot hold) or a
 * program limit (class 54, such as nesting past max_stack_depth). Any other failure (the
 * connection, a deadlock) is the database's and is thrown.
 */
const refusesValue = (error: unknown): error is pg.DatabaseError =>
  error instanceof pg.DatabaseError && /^(22|54)/.test(error.code ?? '');

const refusal = (message: string) => `the database cannot store this event: ${message}`;

/**
 * Stores a batch (see writeBatch). When PostgreSQL refuses a value of it, the lines whose
 * document it refuses are set aside and the rest is stored; should that still be refused
 * (a value outside the document), it is halved and each half stored on its own, down to
 * single lines. Lines refused alone are reported and every other line is stored, counted
 * and matched, so a bad line can neither fail the request nor hide the events around it
 * from detection. Only a batch that fails pays for this.
 */
export async function storeEvents(
  pool: pg.Pool,
  batch: IncomingEvent[],
  options: StoreEventsOptions,
): Promise<StoredEvents> {
  try {
    return { alerts: await writeBatch(pool, batch, options), refused: [] };
  } catch (error) {
    if (!refusesValue(error)) throw error;
  }
  const refusedDocuments = await findRefusedDocuments(pool, batch);
  const stored: StoredEvents = { alerts: [], refused: [] };
  const rest: IncomingEvent[] = [];
  batch.forEach((event, index) => {
    const reason = refusedDocuments.get(index);
    if (reason === undefined) rest.push(event);
    else stored.refused.push({ line: event.line, reason: refusal(reason) });
  });
  const store = async (events: IncomingEvent[]): Promise<void> => {
    try {
      const alerts = await writeBatch(pool, events, options);
      stored.alerts = stored.alerts.length ? stored.alerts.concat(alerts) : alerts;
    } catch (error) {
      if (!refusesValue(error)) throw error;
      if (events.length === 1) {
        stored.refused.push({ line: events[0].line, reason: refusal(error.message) });
        return;
      }
      // In line order, one after the other, as batches are written.
      const half = Math.ceil(events.length / 2);
      await store(events.slice(0, half));
      await store(events.slice(half));
    }
  };
  if (rest.length) await store(rest);
  return stored;
}

/**
 * The events (by index) whose document PostgreSQL's jsonb refuses, with its message. Each
 * document is cast on its own and its failure caught, all in one statement: a batch of bad
 * lines costs one query, where halving cost two failed transactions per line, each also
 * costing its connection (a failed COPY's is closed): 500 bad lines took 48 s, now 1 s.
 * A temporary function (it lasts as long as the connection) works on PostgreSQL 15 too;
 * 16 could ask pg_input_is_valid.
 */
async function findRefusedDocuments(pool: pg.Pool, batch: IncomingEvent[]): Promise<Map<number, string>> {
  const client = await pool.connect();
  try {
    await client.query(`
      CREATE OR REPLACE FUNCTION pg_temp.refused_jsonb(documents text[])
        RETURNS TABLE (document_index int, message text) LANGUAGE plpgsql AS $$
      BEGIN
        FOR i IN 1 .. coalesce(array_length(documents, 1), 0) LOOP
          BEGIN
            PERFORM documents[i]::jsonb;
          EXCEPTION WHEN data_exception OR program_limit_exceeded THEN
            document_index := i - 1;
            message := SQLERRM;
            RETURN NEXT;
          END;
        END LOOP;
      END $$`);
    const { rows } = await client.query<{ document_index: number; message: string }>(
      'SELECT document_index, message FROM pg_temp.refused_jsonb($1::text[])',
      [batch.map((event) => event.json)],
    );
    client.release();
    return new Map(rows.map((row) => [row.document_index, row.message]));
  } catch (error) {
    client.release(error as Error);
    throw error;
  }
}

/**
 * Stores events, counts their sightings and runs detection on them, all in one transaction:
 * they are either wholly in (events, sightings, alerts) or not at all.
 */
async function writeBatch(
  pool: pg.Pool,
  batch: IncomingEvent[],
  { communityId, ancestorIds, keepEventsFrom }: StoreEventsOptions,
): Promise<AlertChange[]> {
  const keepFrom = keepEventsFrom.getTime();
  const daily = new Map<string, DailySighting>();
  const days = new Set<string>();
  let eventRows = '';
  let observableRows = '';
  const observed: EventObservableRow[] = [];
  for (const { event, json } of batch) {
    const eventId = uuidv7();
    const ts = event.timestamp.toISOString();
    const day = ts.slice(0, 10);
    countSightings(daily, event, day);
    for (const o of event.observables) observed.push({ eventId, ts: event.timestamp, ...o });
    if (event.timestamp.getTime() < keepFrom) continue;
    days.add(day);
    eventRows += `${eventId}\t${communityId}\t${ts}\t${copyText(json)}\n`;
    for (const o of event.observables) {
      observableRows += `${eventId}\t${communityId}\t${ts}\t${copyText(o.field)}\t${o.type}\t${copyText(o.value)}\n`;
    }
  }
  const sightings = inLockOrder(daily);

  await ensurePartitionKeys(pool, EVENTS, days);
  await ensurePartitionKeys(pool, EVENT_OBSERVABLES, days);
  await ensurePartitionKeys(pool, SIGHTINGS, new Set(sightings.map((s) => partitionKey(SIGHTINGS, s.day))));

  return inTransaction(pool, async (client) => {
    await holdDetectionShared(client, [communityId, ...ancestorIds]);
    await copyRows(client, 'COPY events (id, community_id, ts, document) FROM STDIN', eventRows);
    await copyRows(
      client,
      'COPY event_observables (event_id, community_id, ts, field, type, value) FROM STDIN',
      observableRows,
    );
    // Detection before the sightings upsert: the upsert's row locks (shared by concurrent
    // senders of the community) are then held until COMMIT only, not through matching.
    const { alerts } = await detectInBatch(client, { communityId, ancestorIds }, observed);
    if (sightings.length) {
      await client.query(
        `INSERT INTO sightings (community_id, type, value, day, count, first_seen, last_seen)
         SELECT $1::uuid, u.type, u.value, u.day, u.count, u.first_seen, u.last_seen
           FROM unnest($2::"ObservableType"[], $3::text[], $4::date[], $5::bigint[], $6::timestamptz[], $7::timestamptz[])
                AS u(type, value, day, count, first_seen, last_seen)
         ON CONFLICT (community_id, value, day) DO UPDATE
            SET count = sightings.count + EXCLUDED.count,
                first_seen = LEAST(sightings.first_seen, EXCLUDED.first_seen),
                last_seen = GREATEST(sightings.last_seen, EXCLUDED.last_seen)`,
        [
          communityId,
          sightings.map((s) => s.type),
          sightings.map((s) => s.value),
          sightings.map((s) => s.day),
          sightings.map((s) => s.count),
          sightings.map((s) => new Date(s.firstSeen).toISOString()),
          sightings.map((s) => new Date(s.lastSeen).toISOString()),
        ],
      );
    }
    return alerts;
  });
}
