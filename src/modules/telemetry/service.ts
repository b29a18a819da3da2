// Telemetry reports: which indicators of a collection were seen in the events of the
// selected communities over the past year. Requested by a user, built by a job, announced
// by a notification. Also the retention of the telemetry tables.
import { DateTime } from 'luxon';
import { fromPrisma } from 'pg-boss';
import type { Prisma, TelemetryReport } from '../../generated/prisma/client.ts';
import { ForbiddenError } from '../../errors.ts';
import { Queue, type TelemetryReportJobData } from '../../jobs/queues.ts';
import { inTransaction } from '../../db/transaction.ts';
import type { RequestContext, Services } from '../../services.ts';
import { findReadableCollection } from '../collections/service.ts';
import type { Access } from '../communities/access.ts';
import { notify } from '../notifications/service.ts';
import { dropPartitionsBefore, ensurePartitionRange, EVENT_OBSERVABLES, EVENTS, SIGHTINGS } from './partitions.ts';

/** Reports look back this many days, today included. */
export const REPORT_DAYS = 365;

/**
 * Reports the viewer may read: of a readable collection, and only over communities whose
 * telemetry the viewer may see, every one of them (a report mixes their sightings).
 */
export function telemetryReportFilter(access: Access) {
  return {
    collection: access.collectionFilter(),
    communities: { every: { communityId: { in: access.communitiesWith('VIEW_IOC_COLLECTIONS_TELEMETRY') } } },
  } satisfies Prisma.TelemetryReportWhereInput;
}

type ReportRequestContext = RequestContext & Pick<Services, 'boss'>;

/** Stores a report for the collection and the request's communities, and queues its job. */
export async function requestTelemetryReport(
  ctx: ReportRequestContext,
  collectionId: string,
): Promise<TelemetryReport> {
  const collection = await findReadableCollection(ctx, collectionId);
  const communityIds = ctx.access.communitiesWith('VIEW_IOC_COLLECTIONS_TELEMETRY').sort();
  if (!communityIds.length) {
    throw new ForbiddenError(
      'Seeing telemetry needs the VIEW_IOC_COLLECTIONS_TELEMETRY permission in one of the selected communities',
      'VIEW_IOC_COLLECTIONS_TELEMETRY',
    );
  }
  const now = DateTime.utc();
  return ctx.prisma.$transaction(async (tx) => {
    const report = await tx.telemetryReport.create({
      data: {
        collectionId: collection.id,
        requestedById: ctx.viewer.userId,
        periodStart: now
          .minus({ days: REPORT_DAYS - 1 })
          .startOf('day')
          .toJSDate(),
        periodEnd: now.toJSDate(),
        communities: { create: communityIds.map((communityId) => ({ communityId })) },
      },
    });
    const data: TelemetryReportJobData = { reportId: report.id };
    await ctx.boss.send(Queue.telemetryReport, data, { db: fromPrisma(tx) });
    return report;
  });
}

type ReportServices = Pick<Services, 'prisma' | 'pool' | 'pubsub'>;

const publish = (services: ReportServices, reportId: string) =>
  services.pubsub.publish('telemetryReportUpdated', reportId, { id: reportId });

/**
 * Ranks the collection's indicators by their sightings in the report's communities and
 * period, in one statement. Validity and revocation are ignored: the question is "was it
 * seen", not "should it alert". Runs again from scratch when retried.
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

export async function runTelemetryReport(services: ReportServices, reportId: string): Promise<void> {
  const { prisma, pool } = services;
  const found = await prisma.telemetryReport.findUnique({
    where: { id: reportId },
    include: { communities: true, collection: true },
  });
  if (!found || found.status === 'SUCCEEDED' || found.status === 'FAILED') return;
  await prisma.telemetryReport.update({ where: { id: reportId }, data: { status: 'RUNNING', startedAt: new Date() } });
  publish(services, reportId);

  const communityIds = found.communities.map((c) => c.communityId);
  const { seen, checked } = await inTransaction(pool, async (client) => {
    // The aggregation of a large collection's year is hashed in memory rather than sorted on disk.
    await client.query("SET LOCAL work_mem = '256MB'");
    await client.query('DELETE FROM telemetry_report_entries WHERE report_id = $1', [reportId]);
    const built = await client.query(BUILD_ENTRIES, [
      found.collectionId,
      communityIds,
      DateTime.fromJSDate(found.periodStart).toUTC().toISODate(),
      DateTime.fromJSDate(found.periodEnd).toUTC().toISODate(),
      reportId,
    ]);
    const { rows } = await client.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM indicators
        WHERE collection_id = $1 AND type IN ('IPV4', 'IPV6', 'DOMAIN', 'FILE')`,
      [found.collectionId],
    );
    const counts = { seen: built.rowCount ?? 0, checked: rows[0].count };
    // clock_timestamp(), not now(): completedAt is when the work was done, not when it began.
    await client.query(
      `UPDATE telemetry_reports
          SET status = 'SUCCEEDED', completed_at = clock_timestamp(), indicators_seen = $2, indicators_checked = $3
        WHERE id = $1`,
      [reportId, counts.seen, counts.checked],
    );
    return counts;
  });
  publish(services, reportId);
  await notify(services, {
    userId: found.requestedById,
    communityId: notificationCommunity(found.collection.communityId, communityIds),
    kind: 'TELEMETRY_REPORT_READY',
    title: `Telemetry report for "${found.collection.name}": ${seen} of ${checked} indicators seen in the past year`,
    subject: { type: 'TelemetryReport', id: reportId },
  });
}

/** The notification belongs to the collection's community when the report covers it. */
const notificationCommunity = (collectionCommunityId: string, reportCommunityIds: string[]) =>
  reportCommunityIds.includes(collectionCommunityId) ? collectionCommunityId : reportCommunityIds[0];

/** Marks a report failed (retries exhausted) and tells the requester. */
export async function failTelemetryReport(services: ReportServices, reportId: string, message: string) {
  const { count } = await services.prisma.telemetryReport.updateMany({
    where: { id: reportId, status: { in: ['QUEUED', 'RUNNING'] } },
    data: { status: 'FAILED', failureMessage: message, completedAt: new Date() },
  });
  if (!count) return;
  publish(services, reportId);
  const report = await services.prisma.telemetryReport.findUniqueOrThrow({
    where: { id: reportId },
    include: { communities: true, collection: true },
  });
  await notify(services, {
    userId: report.requestedById,
    communityId: notificationCommunity(
      report.collection.communityId,
      report.communities.map((c) => c.communityId),
    ),
    kind: 'TELEMETRY_REPORT_FAILED',
    title: `Telemetry report for "${report.collection.name}" failed: ${message}`,
    subject: { type: 'TelemetryReport', id: reportId },
  });
}

/**
 * Makes the partitions for every day events may be kept and the day ahead, and drops
 * those past retention (a day later than needed, so that no writer is still on them).
 */
export async function maintainTelemetryTables(services: Pick<Services, 'pool' | 'env'>, now = new Date()) {
  const { pool, env } = services;
  const today = DateTime.fromJSDate(now).toUTC().startOf('day');
  const tomorrow = today.plus({ days: 1 }).toJSDate();
  const eventsFrom = today.minus({ days: env.EVENT_RETENTION_DAYS });
  const sightingsFrom = today.minus({ days: env.SIGHTING_RETENTION_DAYS });
  for (const table of [EVENTS, EVENT_OBSERVABLES]) {
    await ensurePartitionRange(pool, table, eventsFrom.toJSDate(), tomorrow);
  }
  await ensurePartitionRange(pool, SIGHTINGS, sightingsFrom.toJSDate(), tomorrow);
  const eventsGoneBefore = eventsFrom.minus({ days: 1 }).toJSDate();
  // Detection's ledger of matched events: no scan can reach an expired event again.
  await pool.query('DELETE FROM detection_matches WHERE ts < $1', [eventsGoneBefore]);
  const dropped = [
    ...(await dropPartitionsBefore(pool, EVENTS, eventsGoneBefore)),
    ...(await dropPartitionsBefore(pool, EVENT_OBSERVABLES, eventsGoneBefore)),
    ...(await dropPartitionsBefore(pool, SIGHTINGS, sightingsFrom.minus({ days: 1 }).toJSDate())),
  ];
  return { dropped };
}
