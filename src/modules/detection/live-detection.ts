// Detection's hook of the event pipeline: each batch of new events is matched against the
// indicators of the rules that apply to its community, in the batch's own transaction, and
// the alerts it raised are announced once that has committed.
import { holdDetectionShared } from '../../db/detection-lock.ts';
import type { Services } from '../../services.ts';
import type { EventHook } from '../events/hooks.ts';
import { publishNewAlerts } from './alerts.ts';
import { deleteMatchesBefore, detectInBatch, type AlertChange, type ObservedRow } from './store.ts';

/** See src/db/detection-lock.ts: a batch holds its communities' detection locks, shared, from its start. */
export function detectionHook(services: Pick<Services, 'pool' | 'pubsub' | 'metrics'>): EventHook {
  return {
    async batch({ communityId, ancestorIds, events }) {
      const observed: ObservedRow[] = [];
      for (const { id, event } of events) {
        for (const o of event.observables) observed.push({ eventId: id, ts: event.timestamp, ...o });
      }
      let alerts: AlertChange[] = [];
      return {
        lock: (client) => holdDetectionShared(client, [communityId, ...ancestorIds]),
        write: async (client) => {
          ({ alerts } = await detectInBatch(client, { communityId, ancestorIds }, observed));
        },
        publish: () => publishNewAlerts(services, alerts),
      };
    },
    async maintain(_now, eventsGoneBefore) {
      await deleteMatchesBefore(services.pool, eventsGoneBefore);
      return [];
    },
  };
}
