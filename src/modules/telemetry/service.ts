// Telemetry reports: which indicators of a collection were seen in the events of the
// selected communities over the past year. Requested by a user, built by a job, announced
// by a notification.
import { DateTime } from 'luxon';
import { fromPrisma } from 'pg-boss';
import type { TelemetryReport } from '../../generated/prisma/client.ts';
import { ForbiddenError } from '../../errors.ts';
import { Queue, type TelemetryReportJobData } from '../../jobs/queues.ts';
import type { RequestContext, Services } from '../../services.ts';
import { findReadableCollection } from '../collections/service.ts';
import { notify } from '../notifications/service.ts';
import { buildReportEntries, createReport, findReport, markReportFailed, markReportRunning } from './store.ts';

/** Reports look back this many days, today included. */
export const REPORT_DAYS = 365;

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
    const report = await createReport(tx, {
      collectionId: collection.id,
      requestedById: ctx.viewer.userId,
      periodStart: now
        .minus({ days: REPORT_DAYS - 1 })
        .startOf('day')
        .toJSDate(),
      periodEnd: now.toJSDate(),
      communityIds,
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
 * period (see buildReportEntries). Runs again from scratch when retried.
 */
export async function runTelemetryReport(services: ReportServices, reportId: string): Promise<void> {
  const { prisma, pool } = services;
  const found = await findReport(prisma, reportId);
  if (!found || found.status === 'SUCCEEDED' || found.status === 'FAILED') return;
  await markReportRunning(prisma, reportId);
  publish(services, reportId);

  const communityIds = found.communities.map((c) => c.communityId);
  const { seen, checked } = await buildReportEntries(pool, { ...found, communityIds });
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
  if (!(await markReportFailed(services.prisma, reportId, message))) return;
  publish(services, reportId);
  const report = await findReport(services.prisma, reportId);
  if (!report) return;
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
