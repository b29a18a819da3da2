// What other modules add to the event pipeline. The events module knows them only by these
// types: the application passes them in (src/event-pipeline.ts), so that the walk of an event
// goes one way, endpoint → ingest → store → hooks → publish.
import type pg from 'pg';
import type { ParsedEvent } from './ecs.ts';

/** A batch of one community's events, as its hooks see it. */
export interface EventBatch {
  communityId: string;
  /** The communities above it, nearest first: their shared collections' rules apply too. */
  ancestorIds: readonly string[];
  /** With their new ids; those past the event retention too (not stored, but counted and matched). */
  events: ReadonlyArray<{ id: string; event: ParsedEvent }>;
}

/** A hook's steps in one batch. Each runs for every hook, in the hooks' order, before the next step. */
export interface BatchSteps {
  /** First in the batch's transaction, before any row is written: the locks the hook relies on. */
  lock?(client: pg.PoolClient): Promise<void>;
  /** In the batch's transaction, after its events are written: all of it commits, or none. */
  write?(client: pg.PoolClient): Promise<void>;
  /** Once the transaction has committed: announce what `write` did. */
  publish?(): void;
}

export interface EventHook {
  /** For each batch, before its transaction (partitions are made here, not in it). */
  batch(batch: EventBatch): Promise<BatchSteps>;
  /**
   * Hourly, before the expired event partitions are dropped: upkeep of the hook's own tables
   * (rows about events before `eventsGoneBefore` go, partitions ahead are made). Returns the
   * partitions it dropped.
   */
  maintain?(now: Date, eventsGoneBefore: Date): Promise<string[]>;
}
