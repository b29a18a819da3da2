// pg-boss workers of the imports module.
import { Queue, type ImportJobData } from '../../jobs/queues.ts';
import { workWithRetries } from '../../jobs/work.ts';
import { observed } from '../../observability/job-log.ts';
import type { Services } from '../../services.ts';
import { failImportJob, runImportJob } from './runner.ts';
import { deleteExpiredImportSources } from './store.ts';

export async function registerImportWorkers(services: Services): Promise<void> {
  const { boss, env, logger } = services;
  await workWithRetries<ImportJobData>(services, Queue.import, {
    what: 'import',
    localConcurrency: env.IMPORT_CONCURRENCY,
    run: (data) => runImportJob(services, data.importJobId),
    giveUp: (data) =>
      failImportJob(
        services,
        data.importJobId,
        'The import stopped on an internal error or was interrupted too often; see the service log.',
      ),
  });
  await boss.work(
    Queue.importSourceCleanup,
    observed(services, async () => {
      const removed = await deleteExpiredImportSources(services.prisma);
      if (removed) logger.info({ removed }, 'expired import sources removed');
    }),
  );
  await boss.schedule(Queue.importSourceCleanup, '*/15 * * * *');
}
