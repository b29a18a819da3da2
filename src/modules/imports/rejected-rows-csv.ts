// GET /api/imports/<job id>/errors.csv: the rejected rows of an import as a CSV a person
// can fix and import again. File imports give back the original cells (and header) with
// the reason appended; text imports give the value. Same authentication as GraphQL.
import type { Plugin } from 'graphql-yoga';
import { rawIdFromPath } from '../../graphql/global-id.ts';
import { endpoint, errorResponse } from '../../http-endpoint.ts';
import type { Services } from '../../services.ts';
import { importJobFilter } from './service.ts';

const PATH = /^\/api\/imports\/([^/]+)\/errors\.csv$/;
const PAGE = 5000;

/**
 * One CSV field. Values that a spreadsheet would run as a formula (starting with = + - @,
 * tab or CR) are neutralised with a leading apostrophe: the file comes from untrusted input.
 */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]|^\s|\s$/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

const csvLine = (cells: string[]) => `${cells.map(csvField).join(',')}\r\n`;

export const useRejectedRowsCsv = (services: Services): Plugin =>
  endpoint(services, 'GET', PATH, async ({ params: [rawId], ctx, fetchAPI }) => {
    const jobId = rawIdFromPath(rawId, 'ImportJob');
    const job = jobId
      ? await services.prisma.importJob.findFirst({ where: { id: jobId, ...importJobFilter(ctx.access) } })
      : null;
    if (!job) return errorResponse(fetchAPI, 404, 'Import job not found');

    const { prisma } = services;
    const file = job.kind === 'FILE';
    const header = file
      ? [...job.header, 'error_line', 'error_code', 'error_message']
      : ['value', 'error_line', 'error_code', 'error_message'];
    const encoder = new TextEncoder();
    let afterLine = -1;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        // A BOM so that Excel opens the UTF-8 file with the right characters.
        controller.enqueue(encoder.encode(`\uFEFF${csvLine(header)}`));
      },
      async pull(controller) {
        const rows = await prisma.importRowError.findMany({
          where: { jobId: job.id, line: { gt: afterLine } },
          orderBy: { line: 'asc' },
          take: PAGE,
        });
        let chunk = '';
        for (const row of rows) {
          const cells = file && row.cells.length ? row.cells : [row.value];
          chunk += csvLine([...cells, String(row.line), row.code, row.message]);
        }
        if (chunk) controller.enqueue(encoder.encode(chunk));
        if (rows.length < PAGE) controller.close();
        else afterLine = rows[rows.length - 1].line;
      },
    });
    return new fetchAPI.Response(body, {
      headers: {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="import-${job.id}-rejected-rows.csv"`,
      },
    });
  });
