// pg-boss workers of the telemetry module: reports, and the hourly partition upkeep.
import { Queue, type TelemetryReportJobData } from '../../jobs/queues.ts';
import { workWithRetries } from '../../jobs/work.ts';
import { observed } from '../../observability/job-log.ts';
import type { Services } from '../../services.ts';
import { failTelemetryReport, maintainTelemetryTables, runTelemetryReport } from './service.ts';

export async function registerTelemetryWorkers(services: Services): Promise<void> {
  const { boss, logger } = services;
  await workWithRetries<TelemetryReportJobData>(services, Queue.telemetryReport, {
    what: 'telemetry report',
    run: (data) => runTelemetryReport(services, data.reportId),
    giveUp: (data) => failTelemetryReport(services, data.reportId, 'an internal error stopped it; see the service log'),
    deadLetter: Queue.telemetryReportDead,
  });
  await boss.work(
    Queue.telemetryMaintenance,
    observed(services, async () => {
      const { dropped } = await maintainTelemetryTables(services);
      if (dropped.length) logger.info({ dropped }, 'expired telemetry partitions dropped');
    }),
  );
  await boss.schedule(Queue.telemetryMaintenance, '17 * * * *');
  // The partitions for today exist before the first event of a new deployment arrives.
  await maintainTelemetryTables(services);
}
