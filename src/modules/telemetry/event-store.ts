// Writes one batch of parsed events in one transaction: the events and their observables
// by COPY (the fastest way into PostgreSQL), the daily sighting counts by an upsert of the
// batch's aggregate (one row per value and day, not per event), and detection's matches.
import type pg from 'pg';
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

/**
 * Stores a batch, counts its sightings and runs detection on it, all in one transaction:
 * a batch is either wholly in (events, sightings, alerts) or not at all.
 */
export async function storeEvents(
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
