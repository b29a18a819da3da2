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
  // A report is one statement: a retry starts it over.
  await boss.createQueue(Queue.telemetryReportDead, { retryLimit: 5, retryDelay: 5 });
  await boss.createQueue(Queue.telemetryReport, {
    retryLimit: 2,
    retryDelay: 2,
    heartbeatSeconds: 30,
    expireInSeconds: 3600,
    deadLetter: Queue.telemetryReportDead,
    notify: true,
  });
  await boss.createQueue(Queue.telemetryMaintenance, { retryLimit: 1 });
  // Each scanned day commits its progress: a retry resumes after the last one.
  await boss.createQueue(Queue.retrohuntDead, { retryLimit: 5, retryDelay: 5 });
  await boss.createQueue(Queue.retrohunt, {
    retryLimit: 3,
    retryDelay: 2,
    heartbeatSeconds: 30,
    expireInSeconds: 6 * 3600,
    deadLetter: Queue.retrohuntDead,
    notify: true,
  });
}
