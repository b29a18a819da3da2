// Runs an import job: every row through the one normalisation path, in batches that
// commit with the job's checkpoint, with progress pushed after each batch.
import { ImportKind } from '../../generated/prisma/enums.ts';
import type { Services } from '../../services.ts';
import { parseObservable } from '../indicators/observable.ts';
import type { IndicatorProperties } from '../indicators/properties.ts';
import { notify } from '../notifications/service.ts';
import { writeBatch, type ParsedRow, type RowError } from './batch-writer.ts';
import { decodeImportOptions } from './options.ts';
import { textRows } from './text-source.ts';

export const BATCH_SIZE = 5000;

/** A row as a source gives it: an observable still to parse, or a row the source rejected. */
export type SourceRow =
  | { line: number; raw: string; properties: IndicatorProperties }
  | { line: number; raw: string; error: { code: string; message: string } };

type ImportServices = Pick<Services, 'prisma' | 'pool' | 'pubsub' | 'env' | 'logger'>;

const publishProgress = (services: ImportServices, jobId: string) =>
  services.pubsub.publish('importJobUpdated', jobId, { id: jobId });

export async function runImportJob(services: ImportServices, importJobId: string): Promise<void> {
  const { prisma } = services;
  const job = await prisma.importJob.findUnique({
    where: { id: importJobId },
    include: { collection: { select: { communityId: true, name: true } }, source: true },
  });
  if (!job || job.status === 'SUCCEEDED' || job.status === 'FAILED') return;
  if (!job.source) throw new Error(`import ${job.id}: its source is gone`);

  if (job.kind !== ImportKind.TEXT) throw new Error(`import ${job.id}: kind ${job.kind} has no reader`);
  const options = decodeImportOptions(job.options);
  const rows = [...textRows(Buffer.from(job.source.content).toString('utf8'), options.properties)];

  // Only while the job is still open: another attempt may have finished it meanwhile,
  // and a finished job must not go back to RUNNING.
  const started = await prisma.importJob.updateMany({
    where: { id: job.id, status: { in: ['QUEUED', 'RUNNING'] } },
    data: { status: 'RUNNING', startedAt: job.startedAt ?? new Date(), total: rows.length },
  });
  if (!started.count) return;
  publishProgress(services, job.id);

  const target = {
    jobId: job.id,
    collectionId: job.collectionId,
    communityId: job.collection.communityId,
    importTime: job.createdAt,
    quota: services.env.INDICATOR_QUOTA,
  };
  // Resume after the last committed batch of an earlier attempt.
  for (let start = job.processed; start < rows.length; start += BATCH_SIZE) {
    const end = Math.min(start + BATCH_SIZE, rows.length);
    const parsed: ParsedRow[] = [];
    const invalid: RowError[] = [];
    for (let i = start; i < end; i += 1) {
      const row = rows[i];
      if ('error' in row) {
        invalid.push({ line: row.line, value: row.raw, ...row.error });
        continue;
      }
      const result = parseObservable(row.raw);
      if (result.ok)
        parsed.push({ line: row.line, raw: row.raw, observable: result.observable, properties: row.properties });
      else invalid.push({ line: row.line, value: row.raw, code: result.error.code, message: result.error.message });
    }
    await writeBatch(services.pool, target, parsed, invalid, start, end);
    publishProgress(services, job.id);
  }

  const [done] = await prisma.importJob.updateManyAndReturn({
    where: { id: job.id, status: 'RUNNING' },
    data: { status: 'SUCCEEDED', finishedAt: new Date(), sourceId: null },
  });
  // Another attempt of this job ended it first, and told the user.
  if (!done) return;
  // A text is only needed by this job; uploaded files stay until they expire (re-import).
  if (job.kind === ImportKind.TEXT) await prisma.importSource.delete({ where: { id: job.source.id } }).catch(() => {});
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
  const { count } = await services.prisma.importJob.updateMany({
    where: { id: importJobId, status: { in: ['QUEUED', 'RUNNING'] } },
    data: { status: 'FAILED', finishedAt: new Date(), failureMessage: reason.slice(0, 1000) },
  });
  if (!count) return;
  const job = await services.prisma.importJob.findUniqueOrThrow({
    where: { id: importJobId },
    include: { collection: { select: { communityId: true, name: true } } },
  });
  publishProgress(services, job.id);
  await notify(services, {
    userId: job.requestedById,
    communityId: job.collection.communityId,
    kind: 'IMPORT_FAILED',
    title: `Import into "${job.collection.name}" failed after ${job.processed} rows; nothing after them was imported`,
    subject: { type: 'ImportJob', id: job.id },
  });
}
