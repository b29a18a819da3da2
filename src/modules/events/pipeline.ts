// The event pipeline of an application: the events module's ingest and retention, bound to
// the hooks the other modules add (see hooks.ts; the application's are in src/event-pipeline.ts).
import type { EventHook } from './hooks.ts';
import { ingestEvents, type IngestOptions, type IngestResult, type IngestServices } from './ingest.ts';
import { maintainEventTables } from './retention.ts';

export interface EventPipeline {
  /** Reads newline-delimited ECS events and stores them in batches (see ingest.ts). */
  ingest(body: AsyncIterable<Uint8Array>, options: IngestOptions): Promise<IngestResult>;
  /** The hourly upkeep: partitions made ahead, expired ones dropped (see retention.ts). */
  maintain(now?: Date): Promise<{ dropped: string[] }>;
}

export function createEventPipeline(services: IngestServices, hooks: readonly EventHook[]): EventPipeline {
  return {
    ingest: (body, options) => ingestEvents(services, hooks, body, options),
    maintain: (now) => maintainEventTables(services, hooks, now),
  };
}
