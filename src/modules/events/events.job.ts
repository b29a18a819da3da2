// pg-boss workers of the events module: the hourly upkeep of the event tables.
import { Queue } from '../../jobs/queues.ts';
import { observed } from '../../observability/job-log.ts';
import type { Services } from '../../services.ts';
import type { EventPipeline } from './pipeline.ts';

export async function registerEventWorkers(services: Services, pipeline: EventPipeline): Promise<void> {
  const { boss, logger } = services;
  await boss.work(
    Queue.telemetryMaintenance,
    observed(services, async () => {
      const { dropped } = await pipeline.maintain();
      if (dropped.length) logger.info({ dropped }, 'expired telemetry partitions dropped');
    }),
  );
  await boss.schedule(Queue.telemetryMaintenance, '17 * * * *');
  // The partitions for today exist before the first event of a new deployment arrives.
  await pipeline.maintain();
}
