// In-app notifications: stored per user, pushed to that user's subscribers on every process.
import type { Notification, Prisma } from '../../generated/prisma/client.ts';
import type { NotificationKind } from '../../generated/prisma/enums.ts';
import type { RequestContext, Services } from '../../services.ts';
import type { Access } from '../communities/access.ts';
import { notificationFilter } from '../communities/visibility.ts';
import { findNotification, insertNotification, markRead } from './store.ts';

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
  const notification = await insertNotification(services.prisma, {
    userId: input.userId,
    communityId: input.communityId,
    kind: input.kind,
    title: input.title,
    subjectType: input.subject?.type ?? null,
    subjectId: input.subject?.id ?? null,
  });
  services.pubsub.publish('notificationAdded', input.userId, { id: notification.id, communityId: input.communityId });
  return notification;
}

/** The notifications a list shows: the viewer's own, only the unread ones with `unreadOnly`. */
export const notificationsWhere = (access: Access, unreadOnly?: boolean | null): Prisma.NotificationWhereInput => ({
  ...notificationFilter(access),
  ...(unreadOnly ? { readAt: null } : {}),
});

/** Marks the given notifications (or all of the viewer's) read; returns how many changed. */
export const markNotificationsRead = (ctx: RequestContext, ids: string[] | null | undefined): Promise<number> =>
  markRead(ctx.prisma, { ...notificationsWhere(ctx.access, true), ...(ids ? { id: { in: ids } } : {}) });

/**
 * Loads shared by every subscription of this process that delivers the same notification
 * (a user may have thousands of widgets open): they all ask in the same moment, so the
 * first load serves them all for a few seconds. The key must hold everything the result
 * depends on (the caller's access, when it filters).
 */
const deliveryLoads = new Map<string, Promise<unknown>>();
const DELIVERY_SHARE_MS = 3000;

export function sharedDeliveryLoad<T>(key: string, load: () => Promise<T>): Promise<T> {
  let loading = deliveryLoads.get(key) as Promise<T> | undefined;
  if (!loading) {
    loading = load();
    deliveryLoads.set(key, loading);
    setTimeout(() => deliveryLoads.delete(key), DELIVERY_SHARE_MS).unref();
  }
  return loading;
}

/** A new notification; each subscription has checked its own access to it before. */
export const notificationForDelivery = (
  prisma: Services['prisma'],
  id: string,
  query: { select?: object; include?: object },
) => sharedDeliveryLoad(`notification ${id} ${JSON.stringify(query)}`, () => findNotification(prisma, id, query));
