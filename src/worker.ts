// Registers every module's background jobs on this process's pg-boss.
import { eventPipeline } from './event-pipeline.ts';
import { registerImportWorkers } from './modules/imports/import.job.ts';
import { registerDetectionWorkers } from './modules/detection/retrohunt.job.ts';
import { registerEventWorkers } from './modules/events/events.job.ts';
import { registerTelemetryWorkers } from './modules/telemetry/telemetry.job.ts';
import type { Services } from './services.ts';

export async function startWorkers(services: Services): Promise<void> {
  await registerImportWorkers(services);
  await registerEventWorkers(services, eventPipeline(services));
  await registerTelemetryWorkers(services);
  await registerDetectionWorkers(services);
}
