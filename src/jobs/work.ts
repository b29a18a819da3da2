// Running a queue's jobs with pg-boss retries: each failed attempt is logged and thrown
// (so pg-boss retries it); the last one also records the failure where users see it, and
// so does the dead-letter queue, for jobs whose worker kept dying (no heartbeat) and so
// never reached the catch. Giving up is idempotent: both may happen.
import type { WorkOptions } from 'pg-boss';
import { observed } from '../observability/job-log.ts';
import { deadLetterOf } from './queues.ts';
import type { Services } from '../services.ts';

export interface JobHandler<Data extends object> {
  /** Names the job in logs, e.g. "import". */
  what: string;
  run(data: Data): Promise<void>;
  /** After the last attempt failed: mark the work failed and tell whom it concerns. */
  giveUp(data: Data): Promise<void>;
  /** Jobs of this queue one process runs at once. */
  localConcurrency?: number;
}

/**
 * How often an idle worker looks for jobs without being woken. NOTIFY wakes workers for new
 * jobs only: a retried job (a failed attempt, or one a stopping process handed back) becomes
 * due later without one, and pg-boss's own backstop for NOTIFY queues is 30 s.
 */
const IDLE_POLL_SECONDS = 2;

export async function workWithRetries<Data extends object>(
  services: Pick<Services, 'boss' | 'logger' | 'metrics'>,
  queue: string,
  handler: JobHandler<Data>,
): Promise<void> {
  const { boss, logger } = services;
  await boss.work<Data, void, { includeMetadata: true } & WorkOptions>(
    queue,
    {
      includeMetadata: true,
      localConcurrency: handler.localConcurrency ?? 1,
      pollingIntervalSeconds: IDLE_POLL_SECONDS,
      notifyPollingIntervalSeconds: IDLE_POLL_SECONDS,
    },
    observed(services, async (job) => {
      try {
        await handler.run(job.data);
      } catch (error) {
        logger.error({ err: error, job: job.data, attempt: job.retryCount }, `${handler.what} attempt failed`);
        if (job.retryCount >= job.retryLimit) await handler.giveUp(job.data);
        throw error;
      }
    }),
  );
  await boss.work<Data>(
    deadLetterOf(queue),
    { pollingIntervalSeconds: IDLE_POLL_SECONDS, notifyPollingIntervalSeconds: IDLE_POLL_SECONDS },
    observed(services, (job) => handler.giveUp(job.data)),
  );
}
