// pg-boss workers of the telemetry module: reports, and the hourly partition upkeep.
import { Queue, type TelemetryReportJobData } from '../../jobs/queues.ts';
import type { Services } from '../../services.ts';
import { failTelemetryReport, maintainTelemetryTables, runTelemetryReport } from './service.ts';

export async function registerTelemetryWorkers(services: Services): Promise<void> {
  const { boss, logger } = services;
  await boss.work<TelemetryReportJobData, void, { includeMetadata: true }>(
    Queue.telemetryReport,
    { includeMetadata: true },
    async ([job]) => {
      try {
        await runTelemetryReport(services, job.data.reportId);
      } catch (error) {
        logger.error({ err: error, reportId: job.data.reportId, attempt: job.retryCount }, 'telemetry report failed');
        if (job.retryCount >= job.retryLimit) {
          await failTelemetryReport(services, job.data.reportId, 'an internal error stopped it; see the service log');
        }
        throw error;
      }
    },
  );
  await boss.work(Queue.telemetryMaintenance, async () => {
    const { dropped } = await maintainTelemetryTables(services);
    if (dropped.length) logger.info({ dropped }, 'expired telemetry partitions dropped');
  });
  await boss.schedule(Queue.telemetryMaintenance, '17 * * * *');
  // The partitions for today exist before the first event of a new deployment arrives.
  await maintainTelemetryTables(services);
}
