// Every query of the event tables (`events`, `event_observables`), partitioned by day. Other
// modules read them only through the read-only functions at the end of this file.
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import {
  dropPartitionsBefore,
  ensurePartitionKeys,
  ensurePartitionRange,
  type PartitionedTable,
} from '../../db/partitions.ts';
import type { ParsedEvent } from './ecs.ts';

const EVENTS: PartitionedTable = { name: 'events', granularity: 'day' };
const EVENT_OBSERVABLES: PartitionedTable = { name: 'event_observables', granularity: 'day' };
const EVENT_TABLES = [EVENTS, EVENT_OBSERVABLES];

// ---- writing a batch

/** COPY text format: backslash, newline, carriage return and tab are escaped. */
function copyText(value: string): string {
  return /[\\\n\r\t]/.test(value)
    ? value.replace(/[\\\n\r\t]/g, (c) => ({ '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c]!)
    : value;
}

/** A batch's rows in COPY text format, made before its transaction, and the days they fall on. */
export interface EventRows {
  events: string;
  observables: string;
  days: Set<string>;
}

/** The rows of the events at or after `keepFrom` (older ones are not kept). */
export function eventRows(
  communityId: string,
  events: ReadonlyArray<{ id: string; event: ParsedEvent; json: string }>,
  keepFrom: Date,
): EventRows {
  const rows: EventRows = { events: '', observables: '', days: new Set() };
  const keepFromMs = keepFrom.getTime();
  for (const { id, event, json } of events) {
    if (event.timestamp.getTime() < keepFromMs) continue;
    const ts = event.timestamp.toISOString();
    rows.days.add(ts.slice(0, 10));
    rows.events += `${id}\t${communityId}\t${ts}\t${copyText(json)}\n`;
    for (const o of event.observables) {
      rows.observables += `${id}\t${communityId}\t${ts}\t${copyText(o.field)}\t${o.type}\t${copyText(o.value)}\n`;
    }
  }
  return rows;
}

/** Makes the partitions of the rows' days; before the batch's transaction (DDL takes its own). */
export async function ensureEventPartitions(pool: pg.Pool, rows: EventRows): Promise<void> {
  for (const table of EVENT_TABLES) await ensurePartitionKeys(pool, table, rows.days);
}

async function copyRows(client: pg.PoolClient, statement: string, rows: string): Promise<void> {
  if (!rows) return;
  await pipeline(Readable.from([rows]), client.query(copyFrom(statement)));
}

/** By COPY, the fastest way into PostgreSQL; in the batch's transaction. */
export async function copyEventRows(client: pg.PoolClient, rows: EventRows): Promise<void> {
  await copyRows(client, 'COPY events (id, community_id, ts, document) FROM STDIN', rows.events);
  await copyRows(
    client,
    'COPY event_observables (event_id, community_id, ts, field, type, value) FROM STDIN',
    rows.observables,
  );
}

/**
 * The documents (by index) PostgreSQL's jsonb refuses, with its message. Each document is
 * cast on its own and its failure caught, all in one statement: a batch of bad lines costs
 * one query, where halving cost two failed transactions per line, each also costing its
 * connection (a failed COPY's is closed): 500 bad lines took 48 s, now 1 s. A temporary
 * function (it lasts as long as the connection) works on PostgreSQL 15 too; 16 could ask
 * pg_input_is_valid.
 */
export async function findRefusedDocuments(pool: pg.Pool, documents: string[]): Promise<Map<number, string>> {
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
      [documents],
    );
    client.release();
    return new Map(rows.map((row) => [row.document_index, row.message]));
  } catch (error) {
    client.release(error as Error);
    throw error;
  }
}

// ---- retention

/** Makes the partitions of every day from `from` to `to`, both included. */
export async function ensureEventPartitionRange(pool: pg.Pool, from: Date, to: Date): Promise<void> {
  for (const table of EVENT_TABLES) await ensurePartitionRange(pool, table, from, to);
}

/** Drops the partitions of the days before `before`; returns their names. */
export async function dropEventPartitionsBefore(pool: pg.Pool, before: Date): Promise<string[]> {
  const dropped: string[] = [];
  for (const table of EVENT_TABLES) dropped.push(...(await dropPartitionsBefore(pool, table, before)));
  return dropped;
}

// ---- read-only, for other modules (detection's matching statements)

/**
 * SQL of the stored observables of the communities `communityIds` (a uuid[] expression) at
 * times in [`from`, `to`): rows (event_id, community_id, ts, field, type, value).
 */
export const storedObservablesSql = (from: string, to: string, communityIds: string) =>
  `SELECT event_id, community_id, ts, field, type, value
     FROM event_observables
    WHERE ts >= ${from} AND ts < ${to} AND community_id = ANY(${communityIds}::uuid[])`;

/** SQL of the stored document (jsonb, as sent) of the event at `ts` with `id`: no row once it has expired. */
export const eventDocumentSql = (ts: string, id: string) =>
  `SELECT document FROM events WHERE ts = ${ts} AND id = ${id}`;

/** The times of the oldest and (plus a millisecond, as an end) the newest stored event; null when none. */
export async function storedEventsSpan(pool: pg.Pool): Promise<{ from: Date | null; to: Date | null }> {
  const { rows } = await pool.query<{ from: Date | null; to: Date | null }>(
    `SELECT min(ts) AS from, max(ts) + interval '1 millisecond' AS to FROM events`,
  );
  return rows[0];
}
