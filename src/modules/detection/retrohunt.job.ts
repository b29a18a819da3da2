// pg-boss workers of the detection module: retrohunts.
import { Queue, type RetrohuntJobData } from '../../jobs/queues.ts';
import { workWithRetries } from '../../jobs/work.ts';
import type { Services } from '../../services.ts';
import { failRetrohunt, runRetrohunt } from './service.ts';

export async function registerDetectionWorkers(services: Services): Promise<void> {
  await workWithRetries<RetrohuntJobData>(services, Queue.retrohunt, {
    what: 'retrohunt',
    run: (data) => runRetrohunt(services, data.retrohuntId),
    giveUp: (data) => failRetrohunt(services, data.retrohuntId, 'an internal error stopped it; see the service log'),
  });
}
