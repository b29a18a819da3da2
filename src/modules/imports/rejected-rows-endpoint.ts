// GET /api/imports/<job id>/errors.csv: the rejected rows of an import as a CSV a person
// can fix and import again. File imports give back the original cells (and header) with
// the reason appended; text imports give the value. Same authentication as GraphQL.
import type { Plugin } from 'graphql-yoga';
import { csvStream } from '../../csv-writer.ts';
import { rawIdFromPath } from '../../graphql/global-id.ts';
import { endpoint, errorResponse } from '../../http-endpoint.ts';
import type { Services } from '../../services.ts';
import { findVisibleImportJob, rowErrorsAfter } from './store.ts';

const PATH = /^\/api\/imports\/([^/]+)\/errors\.csv$/;
const PAGE = 5000;

export const useRejectedRowsCsv = (services: Services): Plugin =>
  endpoint(services, 'GET', PATH, async ({ params: [rawId], caller, fetchAPI }) => {
    const jobId = rawIdFromPath(rawId, 'ImportJob');
    const job = jobId ? await findVisibleImportJob(services.prisma, caller.access, jobId) : null;
    if (!job) return errorResponse(fetchAPI, 404, 'Import job not found');

    const file = job.kind === 'FILE';
    const header = file
      ? [...job.header, 'error_line', 'error_code', 'error_message']
      : ['value', 'error_line', 'error_code', 'error_message'];
    // Read a page at a time, as the client takes the file.
    const rows = async function* () {
      yield header;
      for (let afterLine = -1; ;) {
        const page = await rowErrorsAfter(services.prisma, job.id, afterLine, PAGE);
        for (const row of page) {
          const cells = file && row.cells.length ? row.cells : [row.value];
          yield [...cells, String(row.line), row.code, row.message];
        }
        if (page.length < PAGE) return;
        afterLine = page[page.length - 1].line;
      }
    };
    const body = csvStream(rows(), (error) =>
      services.logger.error({ err: error, jobId: job.id }, 'rejected rows CSV failed'),
    );
    return new fetchAPI.Response(body, {
      headers: {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="import-${job.id}-rejected-rows.csv"`,
      },
    });
  });
