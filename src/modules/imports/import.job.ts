// pg-boss workers of the imports module.
import { Queue, type ImportJobData } from '../../jobs/queues.ts';
import type { Services } from '../../services.ts';
import { failImportJob, runImportJob } from './runner.ts';
import { deleteExpiredImportSources } from './service.ts';

export async function registerImportWorkers(services: Services): Promise<void> {
  const { boss, env, logger } = services;
  await boss.work<ImportJobData, void, { includeMetadata: true; localConcurrency: number }>(
    Queue.import,
    { includeMetadata: true, localConcurrency: env.IMPORT_CONCURRENCY },
    async ([job]) => {
      try {
        await runImportJob(services, job.data.importJobId);
      } catch (error) {
        logger.error(
          { err: error, importJobId: job.data.importJobId, attempt: job.retryCount },
          'import attempt failed',
        );
        if (job.retryCount >= job.retryLimit) {
          await failImportJob(
            services,
            job.data.importJobId,
            'The import stopped on an internal error; see the service log.',
          );
        }
        throw error;
      }
    },
  );
  // Jobs whose worker kept dying (no heartbeat) end here without passing the catch above.
  await boss.work<ImportJobData>(Queue.importDead, async ([job]) => {
    await failImportJob(services, job.data.importJobId, 'The import was interrupted too many times.');
  });
  await boss.work(Queue.importSourceCleanup, async () => {
    const removed = await deleteExpiredImportSources(services.prisma);
    if (removed) logger.info({ removed }, 'expired import sources removed');
  });
  await boss.schedule(Queue.importSourceCleanup, '*/15 * * * *');
}
