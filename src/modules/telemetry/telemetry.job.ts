// pg-boss workers of the telemetry module: reports. (Sightings are kept with the events'
// hourly upkeep, through telemetry's hook: see sightings.ts.)
import { Queue, type TelemetryReportJobData } from '../../jobs/queues.ts';
import { workWithRetries } from '../../jobs/work.ts';
import type { Services } from '../../services.ts';
import { failTelemetryReport, runTelemetryReport } from './service.ts';

export async function registerTelemetryWorkers(services: Services): Promise<void> {
  await workWithRetries<TelemetryReportJobData>(services, Queue.telemetryReport, {
    what: 'telemetry report',
    run: (data) => runTelemetryReport(services, data.reportId),
    giveUp: (data) => failTelemetryReport(services, data.reportId, 'an internal error stopped it; see the service log'),
  });
}
