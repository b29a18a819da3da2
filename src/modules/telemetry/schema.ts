import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../../graphql/builder.ts';
import { addJobSubscription, JobStatusEnum } from '../../graphql/job-subscription.ts';
import { ForbiddenError, NotFoundError } from '../../errors.ts';
import { Collection } from '../collections/schema.ts';
import { Community } from '../communities/schema.ts';
import { Indicator } from '../indicators/schema.ts';
import { nodeAccess, visibleNode } from '../../graphql/visible-nodes.ts';
import { telemetryReportFilter } from '../communities/visibility.ts';
import { requestTelemetryReport } from './service.ts';
import { findLatestReport } from './store.ts';

export const TelemetryReport = builder.prismaNode('TelemetryReport', {
  id: { field: 'id' },
  // node(id) and nodes(ids) answer null for a missing or hidden id, never an error.
  nullable: true,
  description:
    'Which indicators of a collection were seen in the events of some communities over the past year, most sightings first.',
  findUnique: nodeAccess('TelemetryReport', 'telemetryReport', (ctx) => telemetryReportFilter(ctx.access)),
  fields: (t) => ({
    collection: t.field({ type: Collection, resolve: visibleNode('Collection', (r) => r.collectionId) }),
    communities: t.field({
      type: [Community],
      description: 'The communities whose events the report covers.',
      select: { communities: { select: { community: true } } },
      resolve: (report) => report.communities.map((c) => c.community),
    }),
    status: t.field({ type: JobStatusEnum, resolve: (report) => report.status }),
    requestedAt: t.expose('requestedAt', { type: 'DateTime' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true }),
    periodStart: t.expose('periodStart', {
      type: 'DateTime',
      description: 'The start (UTC midnight) of the first of the 365 days covered.',
    }),
    periodEnd: t.expose('periodEnd', { type: 'DateTime', description: 'When the report was requested.' }),
    indicatorsChecked: t.exposeInt('indicatorsChecked', {
      description: 'Indicators of the types telemetry covers (IP addresses, domains, files), revoked or not.',
    }),
    indicatorsSeen: t.exposeInt('indicatorsSeen'),
    failureMessage: t.exposeString('failureMessage', { nullable: true }),
    entries: t.relatedConnection(
      'entries',
      {
        cursor: 'reportId_rank',
        description: 'The indicators seen, most sightings first.',
        query: { orderBy: { rank: 'asc' } },
        totalCount: true,
      },
      { name: 'TelemetryEntryConnection' },
      { name: 'TelemetryEntryEdge' },
    ),
  }),
});

const DailySightings = builder.objectRef<{ date: Date; count: number }>('DailySightings').implement({
  fields: (t) => ({ date: t.expose('date', { type: 'Date' }), count: t.exposeInt('count') }),
});

builder.prismaObject('TelemetryReportEntry', {
  name: 'TelemetryEntry',
  description: 'One indicator seen in a report: how often, when, and on which days.',
  fields: (t) => ({
    indicator: t.field({ type: Indicator, resolve: visibleNode('Indicator', (e) => e.indicatorId) }),
    sightings: t.exposeInt('sightings', {
      description: 'Events that carried the indicator (for a file, those of its best-seen hash).',
    }),
    firstSeen: t.expose('firstSeen', { type: 'DateTime' }),
    lastSeen: t.expose('lastSeen', { type: 'DateTime' }),
    heatmap: t.field({
      type: [DailySightings],
      description: 'Sightings per day, for the days with any, in day order.',
      resolve: (entry) => entry.heatmapDays.map((date, i) => ({ date, count: entry.heatmapCounts[i] })),
    }),
    heatmapSvgUrl: t.string({
      description:
        'Path of the heatmap as an SVG calendar (same authentication), for widgets that would rather show than draw.',
      resolve: (entry) =>
        `/api/telemetry-reports/${encodeGlobalID('TelemetryReport', entry.reportId)}/heatmaps/${encodeGlobalID('Indicator', entry.indicatorId)}.svg`,
    }),
  }),
});

builder.prismaObjectFields(Collection, (t) => ({
  latestTelemetryReport: t.prismaField({
    type: 'TelemetryReport',
    nullable: true,
    description:
      'The newest report the viewer may see (for the button: none, running or ready); null when there is none.',
    resolve: (query, collection, _, ctx) =>
      findLatestReport(ctx.prisma, query, collection.id, telemetryReportFilter(ctx.access)),
  }),
  telemetryReports: t.relatedConnection(
    'telemetryReports',
    {
      cursor: 'id',
      description: 'Reports the viewer may see, newest first.',
      query: (_, ctx) => ({ where: telemetryReportFilter(ctx.access), orderBy: { id: 'desc' } }),
      totalCount: true,
    },
    { name: 'TelemetryReportConnection' },
    { name: 'TelemetryReportEdge' },
  ),
}));

const GenerateTelemetryReportInput = builder.inputType('GenerateTelemetryReportInput', {
  fields: (t) => ({ collectionId: t.globalID({ for: Collection, required: true }) }),
});

builder.mutationField('generateTelemetryReport', (t) =>
  t.field({
    type: TelemetryReport,
    nullable: false,
    description:
      "Starts a report over the request's selected communities (X-Community-Ids; those whose telemetry the viewer may see) and returns it at once; a notification says when it is ready.",
    authScopes: { permission: 'VIEW_IOC_COLLECTIONS_TELEMETRY' },
    args: { input: t.arg({ type: GenerateTelemetryReportInput, required: true }) },
    errors: { types: [NotFoundError, ForbiddenError], dataField: { name: 'telemetryReport' } },
    resolve: (_, { input }, ctx) => requestTelemetryReport(ctx, input.collectionId.id),
  }),
);

addJobSubscription(
  'telemetryReportUpdated',
  TelemetryReport,
  'The report as it is now, then after every change; completes when it is ready or failed.',
);
