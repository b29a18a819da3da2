// Alerts: who may see them, and their announcement to subscribers.
import type { Services } from '../../services.ts';
import type { Access } from '../communities/access.ts';
import type { AlertChange } from './matching.ts';

/** Alerts of the communities where the viewer may see alerts (an MSSP sees its clients'). */
export const alertFilter = (access: Access) => ({ communityId: { in: access.communitiesWith('VIEW_ALERTS') } });

/** New alerts go to the subscribers of their community only; updates of open ones are not pushed. */
export function publishNewAlerts(services: Pick<Services, 'pubsub' | 'metrics'>, changes: AlertChange[]): void {
  for (const alert of changes) {
    if (alert.created) {
      services.metrics.alertsRaised.inc();
      services.pubsub.publish('alertCreated', alert.communityId, { id: alert.id, collectionId: alert.collectionId });
    }
  }
}
