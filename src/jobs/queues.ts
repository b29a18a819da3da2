// pg-boss queues and how their jobs are retried.
import type { PgBoss } from 'pg-boss';

export const Queue = {
  /** Runs one import job (text or file). */
  import: 'import',
  /** Imports whose retries are exhausted or that kept dying: marked failed, user notified. */
  importDead: 'import-dead',
  /** Periodic clean-up of expired import sources. */
  importSourceCleanup: 'import-source-cleanup',
} as const;

export interface ImportJobData {
  importJobId: string;
}

export async function createQueues(boss: PgBoss): Promise<void> {
  await boss.createQueue(Queue.importDead, { retryLimit: 5, retryDelay: 5 });
  await boss.createQueue(Queue.import, {
    retryLimit: 3,
    retryDelay: 2,
    retryBackoff: true,
    // A worker that dies (SIGKILL, lost host) stops sending heartbeats; the job is
    // retried after this long and resumes from its last committed checkpoint.
    heartbeatSeconds: 15,
    expireInSeconds: 6 * 3600,
    deadLetter: Queue.importDead,
    notify: true,
  });
  await boss.createQueue(Queue.importSourceCleanup, { retryLimit: 1 });
}
