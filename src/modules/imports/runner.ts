// Runs an import job: every row through the one normalisation path, in batches that
// commit with the job's checkpoint, with progress pushed after each batch.
import type { ImportJob } from '../../generated/prisma/client.ts';
import { ImportKind } from '../../generated/prisma/enums.ts';
import type { Services } from '../../services.ts';
import { parseObservable } from '../indicators/observable.ts';
import type { Db } from '../../db/prisma.ts';
import { queueRetrohuntsForNewIndicators } from '../detection/service.ts';
import { notify } from '../notifications/service.ts';
import { loadThreatMatcher } from '../threats/service.ts';
import { writeBatch } from './batch-writer.ts';
import type { ParsedRow, RowError, SourceRow } from './import-rows.ts';
import { decodeImportOptions, type ImportOptions } from './options.ts';
import { mapRow } from './row-mapping.ts';
import {
  deleteImportSource,
  findImportJobToRun,
  loadSourceContent,
  markImportJobFailed,
  markImportJobRunning,
  markImportJobSucceeded,
  setImportJobHeader,
  setImportJobTotal,
} from './store.ts';
import { readTable } from './tabular/read-table.ts';
import { countTextRows, textRows } from './text-source.ts';

export const BATCH_SIZE = 5000;

type ImportServices = Pick<Services, 'prisma' | 'pool' | 'pubsub' | 'env' | 'logger' | 'boss' | 'metrics'>;

const publishProgress = (services: ImportServices, jobId: string) =>
  services.pubsub.publish('importJobUpdated', jobId, { id: jobId });

/** The rows of a job's source, in the same order on every attempt (checkpoints count them). */
async function* sourceRows(
  services: ImportServices,
  job: ImportJob,
  content: Buffer,
  options: ImportOptions,
  onHeader: (cells: string[]) => Promise<void>,
): AsyncGenerator<SourceRow> {
  if (job.kind === ImportKind.TEXT) {
    yield* textRows(content.toString('utf8'), options.properties);
    return;
  }
  const file = options.file;
  if (!file) throw new Error(`import ${job.id}: a file import without a mapping`);
  const table = await readTable(content, { sheet: file.sheet });
  const threats = await loadThreatMatcher(services.prisma);
  let first = true;
  for await (const row of table.rows) {
    if (first) {
      first = false;
      const header = file.ignoreFirstLine ? row.cells : table.commentedHeader?.cells;
      if (header) await onHeader(header);
      if (file.ignoreFirstLine) continue;
    }
    yield { ...mapRow(row, file.mapping, options.properties, threats), cells: row.cells };
  }
}

function parseRow(row: SourceRow): ParsedRow | RowError {
  if ('error' in row) return { line: row.line, value: row.raw, cells: row.cells, ...row.error };
  const result = parseObservable(row.raw);
  return result.ok
    ? { line: row.line, raw: row.raw, observable: result.observable, properties: row.properties, cells: row.cells }
    : { line: row.line, value: row.raw, cells: row.cells, code: result.error.code, message: result.error.message };
}

export async function runImportJob(services: ImportServices, importJobId: string): Promise<void> {
  const { prisma } = services;
  const job = await findImportJobToRun(prisma, importJobId);
  if (!job || job.status === 'SUCCEEDED' || job.status === 'FAILED') return;
  if (!job.sourceId) throw new Error(`import ${job.id}: its source is gone`);
  const options = decodeImportOptions(job.options);

  // Only while the job is still open: another attempt may have finished it meanwhile,
  // and a finished job must not go back to RUNNING.
  if (!(await markImportJobRunning(prisma, job.id, job.startedAt ?? new Date()))) return;
  const content = await loadSourceContent(services.pool, job.sourceId);
  // A text's size is known at once; a file's once it has been read.
  if (job.kind === ImportKind.TEXT) await setImportJobTotal(prisma, job.id, countTextRows(content.toString('utf8')));
  publishProgress(services, job.id);

  const target = {
    jobId: job.id,
    collectionId: job.collectionId,
    communityId: job.collection.communityId,
    importTime: job.createdAt,
    quota: services.env.INDICATOR_QUOTA,
  };
  const saveHeader = async (header: string[]) => {
    await setImportJobHeader(prisma, job.id, header);
  };
  // Resume after the last committed batch of an earlier attempt.
  let index = 0;
  let batchStart = job.processed;
  let parsed: ParsedRow[] = [];
  let invalid: RowError[] = [];
  const flush = async () => {
    await writeBatch(services.pool, target, parsed, invalid, batchStart, index);
    services.metrics.importRows.inc(index - batchStart);
    publishProgress(services, job.id);
    batchStart = index;
    parsed = [];
    invalid = [];
  };
  for await (const row of sourceRows(services, job, content, options, saveHeader)) {
    index += 1;
    if (index <= job.processed) continue;
    const result = parseRow(row);
    if ('observable' in result) parsed.push(result);
    else invalid.push(result);
    if (index - batchStart === BATCH_SIZE) await flush();
  }
  if (index > batchStart) await flush();

  const done = await prisma.$transaction(async (tx) => {
    const ended = await markImportJobSucceeded(tx, job.id, index);
    if (ended?.created) await queueRetrohuntsForNewIndicators(tx as Db, services.boss, job.collectionId, job.createdAt);
    return ended;
  });
  // Another attempt of this job ended it first, and told the user.
  if (!done) return;
  // A text is only needed by this job; uploaded files stay until they expire (re-import).
  if (job.kind === ImportKind.TEXT) await deleteImportSource(prisma, job.sourceId).catch(() => {});
  publishProgress(services, job.id);
  await notify(services, {
    userId: job.requestedById,
    communityId: job.collection.communityId,
    kind: 'IMPORT_FINISHED',
    title: `Import into "${job.collection.name}" finished: ${done.created} created, ${done.updated} updated, ${done.unchanged} unchanged, ${done.invalid} rejected`,
    subject: { type: 'ImportJob', id: job.id },
  });
}

/** Called once an import has no retries left: the user learns why. */
export async function failImportJob(services: ImportServices, importJobId: string, reason: string): Promise<void> {
  const job = await services.prisma.$transaction(async (tx) => {
    const failed = await markImportJobFailed(tx, importJobId, reason.slice(0, 1000));
    // The batches committed before the failure are in the collection: detection looks back for them too.
    if (failed?.created)
      await queueRetrohuntsForNewIndicators(tx as Db, services.boss, failed.collectionId, failed.createdAt);
    return failed;
  });
  if (!job) return;
  publishProgress(services, job.id);
  await notify(services, {
    userId: job.requestedById,
    communityId: job.collection.communityId,
    kind: 'IMPORT_FAILED',
    title: `Import into "${job.collection.name}" failed after ${job.processed} rows; nothing after them was imported`,
    subject: { type: 'ImportJob', id: job.id },
  });
}
