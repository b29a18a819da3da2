// Running a queue's jobs with pg-boss retries: each failed attempt is logged and thrown
// (so pg-boss retries it); the last one also records the failure where users see it, and
// so does the dead-letter queue, for jobs whose worker kept dying (no heartbeat) and so
// never reached the catch. Giving up is idempotent: both may happen.
import type { Services } from '../services.ts';

export interface JobHandler<Data extends object> {
  /** Names the job in logs, e.g. "import". */
  what: string;
  run(data: Data): Promise<void>;
  /** After the last attempt failed: mark the work failed and tell whom it concerns. */
  giveUp(data: Data): Promise<void>;
  /** Jobs of this queue one process runs at once. */
  localConcurrency?: number;
  /** The queue's dead-letter queue (see createQueues). */
  deadLetter: string;
}

export async function workWithRetries<Data extends object>(
  { boss, logger }: Pick<Services, 'boss' | 'logger'>,
  queue: string,
  handler: JobHandler<Data>,
): Promise<void> {
  await boss.work<Data, void, { includeMetadata: true; localConcurrency: number }>(
    queue,
    { includeMetadata: true, localConcurrency: handler.localConcurrency ?? 1 },
    async ([job]) => {
      try {
        await handler.run(job.data);
      } catch (error) {
        logger.error({ err: error, job: job.data, attempt: job.retryCount }, `${handler.what} attempt failed`);
        if (job.retryCount >= job.retryLimit) await handler.giveUp(job.data);
        throw error;
      }
    },
  );
  await boss.work<Data>(handler.deadLetter, async ([job]) => handler.giveUp(job.data));
}
