// GET /api/imports/<job id>/errors.csv: the rejected rows of an import as a CSV a person
// can fix and import again. File imports give back the original cells (and header) with
// the reason appended; text imports give the value. Same authentication as GraphQL.
import type { Plugin } from 'graphql-yoga';
import { decodeGlobalIdOrFail } from '../../graphql/global-id.ts';
import { createContext } from '../../graphql/context.ts';
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

function jsonResponse(fetchAPI: { Response: typeof Response }, status: number, message: string) {
  return new fetchAPI.Response(JSON.stringify({ errors: [{ message }] }), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}

export function useRejectedRowsCsv(services: Services): Plugin {
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      const match = PATH.exec(url.pathname);
      if (!match) return;
      if (request.method !== 'GET') return endResponse(jsonResponse(fetchAPI, 405, 'Use GET'));
      let ctx;
      try {
        ctx = await createContext(services, { request, params: {} } as never);
      } catch (error) {
        const status = (error as { extensions?: { http?: { status?: number } } }).extensions?.http?.status ?? 500;
        return endResponse(
          jsonResponse(fetchAPI, status, status === 500 ? 'Unexpected error.' : (error as Error).message),
        );
      }
      let jobId: string | null = null;
      try {
        const decoded = decodeGlobalIdOrFail(decodeURIComponent(match[1]));
        if (decoded.typename === 'ImportJob') jobId = decoded.id;
      } catch {
        // answered below like a missing job
      }
      const job = jobId
        ? await services.prisma.importJob.findFirst({ where: { id: jobId, ...importJobFilter(ctx.access) } })
        : null;
      if (!job) return endResponse(jsonResponse(fetchAPI, 404, 'Import job not found'));

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
      endResponse(
        new fetchAPI.Response(body, {
          headers: {
            'content-type': 'text/csv; charset=utf-8',
            'content-disposition': `attachment; filename="import-${job.id}-rejected-rows.csv"`,
          },
        }),
      );
    },
  };
}
