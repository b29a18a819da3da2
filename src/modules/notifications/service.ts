// In-app notifications: stored per user, pushed to that user's subscribers on every process.
import type { Notification } from '../../generated/prisma/client.ts';
import type { NotificationKind } from '../../generated/prisma/enums.ts';
import type { Services } from '../../services.ts';
import type { RequestContext } from '../../services.ts';

export interface NewNotification {
  userId: string;
  communityId: string;
  kind: NotificationKind;
  title: string;
  subject?: { type: string; id: string };
}

export async function notify(
  services: Pick<Services, 'prisma' | 'pubsub'>,
  input: NewNotification,
): Promise<Notification> {
  const notification = await services.prisma.notification.create({
    data: {
      userId: input.userId,
      communityId: input.communityId,
      kind: input.kind,
      title: input.title,
      subjectType: input.subject?.type ?? null,
      subjectId: input.subject?.id ?? null,
    },
  });
  services.pubsub.publish('notificationAdded', input.userId, { id: notification.id, communityId: input.communityId });
  return notification;
}

/** The viewer's own notifications, in the communities the request acts on. */
export function notificationFilter(ctx: RequestContext, unreadOnly?: boolean | null) {
  return {
    userId: ctx.viewer.userId,
    communityId: { in: ctx.access.communityIds },
    ...(unreadOnly ? { readAt: null } : {}),
  };
}

/** Marks the given notifications (or all of the viewer's) read; returns how many changed. */
export async function markNotificationsRead(ctx: RequestContext, ids: string[] | null | undefined): Promise<number> {
  const { count } = await ctx.prisma.notification.updateMany({
    where: { ...notificationFilter(ctx, true), ...(ids ? { id: { in: ids } } : {}) },
    data: { readAt: new Date() },
  });
  return count;
}

/**
 * A new notification, read once per process however many of the user's subscriptions
 * deliver it (a user may have thousands of widgets open): the first read is shared for a
 * few seconds. Each subscription has checked its own access to the notification before.
 */
const deliveries = new Map<string, Promise<Notification | null>>();
const DELIVERY_SHARE_MS = 5000;

export function notificationForDelivery(
  prisma: Services['prisma'],
  id: string,
  query: { select?: object; include?: object },
): Promise<Notification | null> {
  const key = `${id} ${JSON.stringify(query)}`;
  let loading = deliveries.get(key);
  if (!loading) {
    loading = prisma.notification.findUnique({ ...query, where: { id } }) as Promise<Notification | null>;
    deliveries.set(key, loading);
    setTimeout(() => deliveries.delete(key), DELIVERY_SHARE_MS).unref();
  }
  return loading;
}
