// GET /api/telemetry-reports/<report id>/heatmaps/<indicator id>.svg: a report entry's
// heatmap as an SVG calendar, for widgets that would rather show than draw. Same
// authentication and visibility as the report itself.
import type { Plugin } from 'graphql-yoga';
import { rawIdFromPath } from '../../graphql/global-id.ts';
import { endpoint, errorResponse } from '../../http-endpoint.ts';
import type { Services } from '../../services.ts';
import { renderHeatmapSvg } from './heatmap-svg.ts';
import { telemetryReportFilter } from '../communities/visibility.ts';
import { findReportEntry } from './store.ts';

const PATH = /^\/api\/telemetry-reports\/([^/]+)\/heatmaps\/([^/]+)\.svg$/;
const isoDay = (date: Date) => date.toISOString().slice(0, 10);

export const useHeatmapSvg = (services: Services): Plugin =>
  endpoint(services, 'GET', PATH, async ({ params: [reportSegment, indicatorSegment], caller, fetchAPI, request }) => {
    const reportId = rawIdFromPath(reportSegment, 'TelemetryReport');
    const indicatorId = rawIdFromPath(indicatorSegment, 'Indicator');
    const entry =
      reportId && indicatorId
        ? await findReportEntry(services.prisma, reportId, indicatorId, telemetryReportFilter(caller.access))
        : null;
    if (!entry) return errorResponse(fetchAPI, 404, 'No such report entry');
    const firstDay = isoDay(entry.report.periodStart);
    const lastDay = isoDay(entry.report.periodEnd);
    const svg = renderHeatmapSvg({
      title: `Sightings of ${entry.indicator.value}, ${firstDay} to ${lastDay}`,
      firstDay,
      lastDay,
      days: entry.heatmapDays.map((day, i) => ({ date: isoDay(day), count: entry.heatmapCounts[i] })),
    });
    // A finished report never changes, so its picture can be cached by whoever may see it.
    const etag = `"${reportId}-${indicatorId}"`;
    const headers = { etag, 'cache-control': 'private, max-age=86400' };
    if (request.headers.get('if-none-match') === etag) return new fetchAPI.Response(null, { status: 304, headers });
    return new fetchAPI.Response(svg, { headers: { ...headers, 'content-type': 'image/svg+xml; charset=utf-8' } });
  });
