// pg-boss queues and how their jobs are retried.
import type { PgBoss } from 'pg-boss';

export const Queue = {
  /** Runs one import job (text or file). */
  import: 'import',
  /** Imports whose retries are exhausted or that kept dying: marked failed, user notified. */
  importDead: 'import-dead',
  /** Periodic clean-up of expired import sources. */
  importSourceCleanup: 'import-source-cleanup',
  /** Builds one telemetry report. */
  telemetryReport: 'telemetry-report',
  /** Reports whose retries are exhausted or whose worker kept dying: marked failed, requester notified. */
  telemetryReportDead: 'telemetry-report-dead',
  /** Hourly: makes the coming days' partitions, drops the expired ones. */
  telemetryMaintenance: 'telemetry-maintenance',
  /** Scans stored events for one rule. */
  retrohunt: 'retrohunt',
  /** Retrohunts whose retries are exhausted or whose worker kept dying: marked failed. */
  retrohuntDead: 'retrohunt-dead',
} as const;

export interface ImportJobData {
  importJobId: string;
}

export interface TelemetryReportJobData {
  reportId: string;
}

export interface RetrohuntJobData {
  retrohuntId: string;
}

type QueueOptions = Parameters<PgBoss['createQueue']>[1];

/**
 * Queues whose jobs, once their retries are exhausted or their worker kept dying, move to a
 * dead-letter queue, where a handler marks them failed and tells the user (src/jobs/work.ts).
 */
const RETRIED_QUEUES: Record<string, { deadLetter: string; options: QueueOptions }> = {
  [Queue.import]: {
    deadLetter: Queue.importDead,
    options: {
      retryLimit: 3,
      retryDelay: 2,
      retryBackoff: true,
      // A worker that dies (SIGKILL, lost host) stops sending heartbeats; the job is
      // retried after this long and resumes from its last committed checkpoint.
      heartbeatSeconds: 15,
      expireInSeconds: 6 * 3600,
    },
  },
  // A report is one statement: a retry starts it over.
  [Queue.telemetryReport]: {
    deadLetter: Queue.telemetryReportDead,
    options: { retryLimit: 2, retryDelay: 2, heartbeatSeconds: 30, expireInSeconds: 3600 },
  },
  // Each scanned day commits its progress: a retry resumes after the last one.
  [Queue.retrohunt]: {
    deadLetter: Queue.retrohuntDead,
    options: { retryLimit: 3, retryDelay: 2, heartbeatSeconds: 30, expireInSeconds: 6 * 3600 },
  },
};

/** Periodic housekeeping: one attempt more, and the next run catches up anyway. */
const PERIODIC_QUEUES = [Queue.importSourceCleanup, Queue.telemetryMaintenance];

export function deadLetterOf(queue: string): string {
  const retried = RETRIED_QUEUES[queue];
  if (!retried) throw new Error(`queue ${queue} has no dead-letter queue`);
  return retried.deadLetter;
}

export async function createQueues(boss: PgBoss): Promise<void> {
  for (const [name, { deadLetter, options }] of Object.entries(RETRIED_QUEUES)) {
    // The dead-letter queue retries its own handler: a database blip must not lose the failure notice.
    await boss.createQueue(deadLetter, { retryLimit: 5, retryDelay: 5 });
    await boss.createQueue(name, { ...options, deadLetter, notify: true });
  }
  for (const name of PERIODIC_QUEUES) await boss.createQueue(name, { retryLimit: 1 });
}
