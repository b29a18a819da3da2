// pg-boss workers of the detection module: retrohunts.
import { Queue, type RetrohuntJobData } from '../../jobs/queues.ts';
import type { Services } from '../../services.ts';
import { failRetrohunt, runRetrohunt } from './service.ts';

export async function registerDetectionWorkers(services: Services): Promise<void> {
  const { boss, logger } = services;
  await boss.work<RetrohuntJobData, void, { includeMetadata: true }>(
    Queue.retrohunt,
    { includeMetadata: true },
    async ([job]) => {
      try {
        await runRetrohunt(services, job.data.retrohuntId);
      } catch (error) {
        logger.error({ err: error, retrohuntId: job.data.retrohuntId, attempt: job.retryCount }, 'retrohunt failed');
        if (job.retryCount >= job.retryLimit) {
          await failRetrohunt(services, job.data.retrohuntId, 'an internal error stopped it; see the service log');
        }
        throw error;
      }
    },
  );
}
