// Every query of the telemetry tables: sightings (partitioned by month), reports, their
// communities and entries.
import { DateTime } from 'luxon';
import type pg from 'pg';
import type { Selection } from '../../db/listing.ts';
import type { Db } from '../../db/prisma.ts';
import {
  dropPartitionsBefore,
  ensurePartitionKeys,
  ensurePartitionRange,
  partitionKey,
  type PartitionedTable,
} from '../../db/partitions.ts';
import { inTransaction } from '../../db/transaction.ts';
import type { Prisma } from '../../generated/prisma/client.ts';
import type { ObservableType } from '../indicators/observable.ts';

export const SIGHTINGS: PartitionedTable = { name: 'sightings', granularity: 'month' };

// ---- sightings

/** How often one value was seen in a community on one day. */
export interface DailySighting {
  type: ObservableType;
  value: string;
  /** `YYYY-MM-DD`. */
  day: string;
  count: number;
  /** Epoch milliseconds. */
  firstSeen: number;
  lastSeen: number;
}

/** Makes the partitions of `days`; before the batch's transaction (DDL takes its own). */
export async function ensureSightingPartitions(pool: pg.Pool, days: string[]): Promise<void> {
  await ensurePartitionKeys(pool, SIGHTINGS, new Set(days.map((day) => partitionKey(SIGHTINGS, day))));
}

/** Adds a batch's counts, in the batch's transaction; `sightings` in one lock order for every writer. */
export async function addSightings(
  client: pg.PoolClient,
  communityId: string,
  sightings: DailySighting[],
): Promise<void> {
  if (!sightings.length) return;
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

/** Makes the partitions of every month from `from` to `to`, both included. */
export const ensureSightingPartitionRange = (pool: pg.Pool, from: Date, to: Date) =>
  ensurePartitionRange(pool, SIGHTINGS, from, to);

/** Drops the partitions of the months that end at or before `before`; returns their names. */
export const dropSightingPartitionsBefore = (pool: pg.Pool, before: Date) =>
  dropPartitionsBefore(pool, SIGHTINGS, before);

// ---- reports

export interface NewReport {
  collectionId: string;
  requestedById: string;
  periodStart: Date;
  periodEnd: Date;
  communityIds: string[];
}

/** In the caller's transaction (which also queues the report's job). */
export const createReport = (tx: Prisma.TransactionClient, { communityIds, ...report }: NewReport) =>
  tx.telemetryReport.create({
    data: { ...report, communities: { create: communityIds.map((communityId) => ({ communityId })) } },
  });

/** A report with its communities and collection. */
export const findReport = (db: Db, id: string) =>
  db.telemetryReport.findUnique({ where: { id }, include: { communities: true, collection: true } });

export const markReportRunning = (db: Db, id: string) =>
  db.telemetryReport.update({ where: { id }, data: { status: 'RUNNING', startedAt: new Date() } });

/** Marks a report that has not ended failed; false when it had ended. */
export async function markReportFailed(db: Db, id: string, message: string): Promise<boolean> {
  const { count } = await db.telemetryReport.updateMany({
    where: { id, status: { in: ['QUEUED', 'RUNNING'] } },
    data: { status: 'FAILED', failureMessage: message, completedAt: new Date() },
  });
  return count > 0;
}

/**
 * Ranks the collection's indicators by their sightings in the report's communities and
 * period, in one statement. Validity and revocation are ignored: the question is "was it
 * seen", not "should it alert".
 */
const BUILD_ENTRIES = `
  WITH indicator_values AS (
    -- Written as two plain selects (not unnest of an array per row): the planner then
    -- estimates the rows right and joins the sightings once, instead of once per value.
    SELECT id, value FROM indicators
     WHERE collection_id = $1 AND type IN ('IPV4', 'IPV6', 'DOMAIN')
    UNION ALL
    SELECT i.id, h.value
      FROM indicators i CROSS JOIN LATERAL (VALUES (i.md5), (i.sha1), (i.sha256), (i.sha512)) AS h(value)
     WHERE i.collection_id = $1 AND i.type = 'FILE' AND h.value IS NOT NULL
  ), value_days AS (
    SELECT iv.id, s.day, sum(s.count) AS count, min(s.first_seen) AS first_seen, max(s.last_seen) AS last_seen
      FROM indicator_values iv
      JOIN sightings s ON s.value = iv.value
     WHERE s.community_id = ANY($2::uuid[]) AND s.day BETWEEN $3::date AND $4::date
     GROUP BY iv.id, iv.value, s.day
  ), days AS (
    -- Events often carry several hashes of one file: a file's day counts its best-seen
    -- hash, not the sum of its hashes.
    SELECT id, day, max(count) AS count, min(first_seen) AS first_seen, max(last_seen) AS last_seen
      FROM value_days
     GROUP BY id, day
  ), totals AS (
    SELECT id, sum(count) AS total, min(first_seen) AS first_seen, max(last_seen) AS last_seen,
           array_agg(day ORDER BY day) AS days,
           array_agg(LEAST(count, 2147483647)::int ORDER BY day) AS counts
      FROM days
     GROUP BY id
  )
  INSERT INTO telemetry_report_entries
         (report_id, rank, indicator_id, sightings, first_seen, last_seen, heatmap_days, heatmap_counts)
  SELECT $5, row_number() OVER (ORDER BY total DESC, id), id, LEAST(total, 2147483647)::int,
         first_seen, last_seen, days, counts
    FROM totals`;

/**
 * Builds a report's entries from scratch (a retried job starts over) and marks it
 * SUCCEEDED, in one transaction. Returns the indicators seen and those checked.
 */
export async function buildReportEntries(
  pool: pg.Pool,
  report: { id: string; collectionId: string; communityIds: string[]; periodStart: Date; periodEnd: Date },
): Promise<{ seen: number; checked: number }> {
  return inTransaction(pool, async (client) => {
    // The aggregation of a large collection's year is hashed in memory rather than sorted on disk.
    await client.query("SET LOCAL work_mem = '256MB'");
    await client.query('DELETE FROM telemetry_report_entries WHERE report_id = $1', [report.id]);
    const built = await client.query(BUILD_ENTRIES, [
      report.collectionId,
      report.communityIds,
      DateTime.fromJSDate(report.periodStart).toUTC().toISODate(),
      DateTime.fromJSDate(report.periodEnd).toUTC().toISODate(),
      report.id,
    ]);
    const { rows } = await client.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM indicators
        WHERE collection_id = $1 AND type IN ('IPV4', 'IPV6', 'DOMAIN', 'FILE')`,
      [report.collectionId],
    );
    const counts = { seen: built.rowCount ?? 0, checked: rows[0].count };
    // clock_timestamp(), not now(): completedAt is when the work was done, not when it began.
    await client.query(
      `UPDATE telemetry_reports
          SET status = 'SUCCEEDED', completed_at = clock_timestamp(), indicators_seen = $2, indicators_checked = $3
        WHERE id = $1`,
      [report.id, counts.seen, counts.checked],
    );
    return counts;
  });
}

/** What a GraphQL field asks to load with a row (Pothos' `query`). */
type ReportSelection = Selection<Prisma.TelemetryReportSelect, Prisma.TelemetryReportInclude>;

/** The newest report of a collection among those `visible`. */
export const findLatestReport = (
  db: Db,
  query: ReportSelection,
  collectionId: string,
  visible: Prisma.TelemetryReportWhereInput,
) => db.telemetryReport.findFirst({ ...query, where: { collectionId, ...visible }, orderBy: { id: 'desc' } });

/** One entry of a report among those `visible`, with its report and its indicator's value. */
export const findReportEntry = (
  db: Db,
  reportId: string,
  indicatorId: string,
  visible: Prisma.TelemetryReportWhereInput,
) =>
  db.telemetryReportEntry.findFirst({
    where: { reportId, indicatorId, report: visible },
    include: { report: true, indicator: { select: { value: true } } },
  });
