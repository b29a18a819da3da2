// Retention of events: the partitions for every day events may be kept and the day ahead
// are made, and those past EVENT_RETENTION_DAYS dropped (a day later than needed, so that
// no writer is still on them). The hooks keep their own tables in the same pass.
import { DateTime } from 'luxon';
import type { Services } from '../../services.ts';
import type { EventHook } from './hooks.ts';
import { dropEventPartitionsBefore, ensureEventPartitionRange } from './store.ts';

export async function maintainEventTables(
  { pool, env }: Pick<Services, 'pool' | 'env'>,
  hooks: readonly EventHook[],
  now = new Date(),
): Promise<{ dropped: string[] }> {
  const today = DateTime.fromJSDate(now).toUTC().startOf('day');
  const eventsFrom = today.minus({ days: env.EVENT_RETENTION_DAYS });
  await ensureEventPartitionRange(pool, eventsFrom.toJSDate(), today.plus({ days: 1 }).toJSDate());
  const eventsGoneBefore = eventsFrom.minus({ days: 1 }).toJSDate();
  // The hooks first: rows they keep about the expired events go before the events do.
  const droppedByHooks: string[] = [];
  for (const hook of hooks) droppedByHooks.push(...((await hook.maintain?.(now, eventsGoneBefore)) ?? []));
  return { dropped: [...(await dropEventPartitionsBefore(pool, eventsGoneBefore)), ...droppedByHooks] };
}
