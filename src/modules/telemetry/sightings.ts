// Sightings: how often each observable was seen per community and day, counted in every
// event batch (telemetry's hook of the event pipeline) and kept SIGHTING_RETENTION_DAYS.
// The batch's aggregate is upserted (one row per value and day, not per event).
import { DateTime } from 'luxon';
import type { Services } from '../../services.ts';
import type { ParsedEvent } from '../events/ecs.ts';
import type { EventHook } from '../events/hooks.ts';
import type { ObservableType } from '../indicators/observable.ts';
import {
  addSightings,
  dropSightingPartitionsBefore,
  ensureSightingPartitionRange,
  ensureSightingPartitions,
  type DailySighting,
} from './store.ts';

/** Telemetry covers these; URLs and e-mail addresses are matched by detection only. */
const SIGHTED_TYPES: ReadonlySet<ObservableType> = new Set(['IPV4', 'IPV6', 'DOMAIN', 'FILE']);

/** Adds an event's sightings to the batch's daily counts: once per value, however many fields carry it. */
function countSightings(daily: Map<string, DailySighting>, event: ParsedEvent): void {
  const time = event.timestamp.getTime();
  const day = event.timestamp.toISOString().slice(0, 10);
  const counted = new Set<string>();
  for (const { type, value } of event.observables) {
    if (!SIGHTED_TYPES.has(type) || counted.has(value)) continue;
    counted.add(value);
    const key = `${day} ${value}`;
    const sighting = daily.get(key);
    if (!sighting) daily.set(key, { type, value, day, count: 1, firstSeen: time, lastSeen: time });
    else {
      sighting.count += 1;
      if (time < sighting.firstSeen) sighting.firstSeen = time;
      if (time > sighting.lastSeen) sighting.lastSeen = time;
    }
  }
}

/** One order for every writer: concurrent batches lock the same rows in the same order. */
const inLockOrder = (daily: Map<string, DailySighting>) =>
  [...daily.values()].sort((a, b) =>
    a.value < b.value ? -1 : a.value > b.value ? 1 : a.day < b.day ? -1 : a.day > b.day ? 1 : 0,
  );

/**
 * Makes the partitions for every month sightings may be kept and the day ahead, and drops
 * those past retention (a day later than needed, so that no writer is still on them).
 */
async function maintainSightingTables({ pool, env }: Pick<Services, 'pool' | 'env'>, now: Date): Promise<string[]> {
  const today = DateTime.fromJSDate(now).toUTC().startOf('day');
  const sightingsFrom = today.minus({ days: env.SIGHTING_RETENTION_DAYS });
  await ensureSightingPartitionRange(pool, sightingsFrom.toJSDate(), today.plus({ days: 1 }).toJSDate());
  return dropSightingPartitionsBefore(pool, sightingsFrom.minus({ days: 1 }).toJSDate());
}

/** Counts every event of a batch, those past the event retention too (sightings are kept longer). */
export function sightingsHook(services: Pick<Services, 'pool' | 'env'>): EventHook {
  return {
    async batch({ communityId, events }) {
      const daily = new Map<string, DailySighting>();
      for (const { event } of events) countSightings(daily, event);
      const sightings = inLockOrder(daily);
      await ensureSightingPartitions(
        services.pool,
        sightings.map((s) => s.day),
      );
      return { write: (client) => addSightings(client, communityId, sightings) };
    },
    maintain: (now) => maintainSightingTables(services, now),
  };
}
