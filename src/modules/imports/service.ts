// Import requests: checked here, then run by a pg-boss job (see runner.ts).
import { fromPrisma } from 'pg-boss';
import type { ImportJob } from '../../generated/prisma/client.ts';
import type { Context } from '../../graphql/context.ts';
import { ValidationError } from '../../graphql/errors.ts';
import type { Db } from '../../db/prisma.ts';
import { Queue, type ImportJobData } from '../../jobs/queues.ts';
import { findManageableCollection } from '../collections/service.ts';
import { parseIndicatorProperties, type IndicatorPropertiesInput } from '../indicators/properties.ts';
import { encodeImportOptions } from './options.ts';

export interface TextImportInput {
  collectionId: string;
  text: string;
  properties?: IndicatorPropertiesInput | null;
}

export async function requestTextImport(ctx: Context, input: TextImportInput): Promise<ImportJob> {
  const collection = await findManageableCollection(ctx, input.collectionId);
  const size = Buffer.byteLength(input.text, 'utf8');
  if (!input.text.trim()) throw new ValidationError('input.text', 'The text is empty: give one observable per line');
  if (size > ctx.env.TEXT_IMPORT_MAX_BYTES) {
    throw new ValidationError(
      'input.text',
      `The text is ${size} bytes; at most ${ctx.env.TEXT_IMPORT_MAX_BYTES} are accepted (import a file instead)`,
    );
  }
  const properties = await parseIndicatorProperties(ctx.prisma, input.properties ?? {}, 'input.properties');
  // The job row and its queue entry are written in one transaction: no job without a
  // worker to run it, and no queued work for a job that was never stored.
  return ctx.prisma.$transaction(async (tx) => {
    const source = await tx.importSource.create({
      data: {
        collectionId: collection.id,
        uploadedById: ctx.viewer.userId,
        kind: 'TEXT',
        content: Buffer.from(input.text, 'utf8'),
        size,
        expiresAt: new Date(Date.now() + ctx.env.IMPORT_SOURCE_TTL_HOURS * 3600_000),
      },
    });
    const job = await tx.importJob.create({
      data: {
        collectionId: collection.id,
        requestedById: ctx.viewer.userId,
        kind: 'TEXT',
        sourceId: source.id,
        options: encodeImportOptions({ properties }) as object,
      },
    });
    const data: ImportJobData = { importJobId: job.id };
    await ctx.boss.send(Queue.import, data, { db: fromPrisma(tx) });
    return job;
  });
}

/** Sources past their expiry that no queued or running import still needs. */
export async function deleteExpiredImportSources(db: Db): Promise<number> {
  const { count } = await db.importSource.deleteMany({
    where: { expiresAt: { lt: new Date() }, jobs: { none: { status: { in: ['QUEUED', 'RUNNING'] } } } },
  });
  return count;
}
