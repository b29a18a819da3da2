// The event pipeline as this application runs it: the events module stores each batch,
// then, in the batch's transaction, detection matches it and telemetry counts its sightings.
import { detectionHook } from './modules/detection/live-detection.ts';
import { createEventPipeline, type EventPipeline } from './modules/events/pipeline.ts';
import { sightingsHook } from './modules/telemetry/sightings.ts';
import type { Services } from './services.ts';

export function eventPipeline(services: Pick<Services, 'env' | 'pool' | 'pubsub' | 'metrics'>): EventPipeline {
  // Detection before sightings: the sightings upsert's row locks (shared by concurrent
  // senders of the community) are then held until COMMIT only, not through matching.
  return createEventPipeline(services, [detectionHook(services), sightingsHook(services)]);
}
