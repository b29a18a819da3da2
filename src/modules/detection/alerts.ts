// Alerts: which ones a list shows, and their announcement to subscribers.
import type { AlertStatus, Prisma } from '../../generated/prisma/client.ts';
import type { Services } from '../../services.ts';
import type { Access } from '../communities/access.ts';
import { alertFilter } from '../communities/visibility.ts';
import type { AlertChange } from './store.ts';

/** The alerts a list shows: those the viewer may see, narrowed by the list's arguments. */
export function alertsWhere(
  access: Access,
  args: {
    collectionId?: { id: string } | null;
    ruleId?: { id: string } | null;
    status?: AlertStatus | null;
    retrohunt?: boolean | null;
  },
): Prisma.AlertWhereInput {
  return {
    ...alertFilter(access),
    ...(args.collectionId ? { collectionId: args.collectionId.id } : {}),
    ...(args.ruleId ? { ruleId: args.ruleId.id } : {}),
    ...(args.status ? { status: args.status } : {}),
    ...(args.retrohunt != null ? { retrohunt: args.retrohunt } : {}),
  };
}

/** New alerts go to the subscribers of their community only; updates of open ones are not pushed. */
export function publishNewAlerts(services: Pick<Services, 'pubsub' | 'metrics'>, changes: AlertChange[]): void {
  for (const alert of changes) {
    if (alert.created) {
      services.metrics.alertsRaised.inc();
      services.pubsub.publish('alertCreated', alert.communityId, { id: alert.id, collectionId: alert.collectionId });
    }
  }
}
