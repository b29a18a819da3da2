// Every query of the notifications table.
import type { Db } from '../../db/prisma.ts';
import type { Listing } from '../../db/listing.ts';
import type { Notification, Prisma } from '../../generated/prisma/client.ts';

/** What a GraphQL connection asks to load (Pothos' `query`): the selection and the page. */
type PageQuery = Omit<Prisma.NotificationFindManyArgs, 'where' | 'orderBy'>;

export const insertNotification = (db: Db, data: Prisma.NotificationUncheckedCreateInput) =>
  db.notification.create({ data });

/** Notifications: unread first (newest first), then read ones (most recently read first). */
export const notificationListing: Listing<Prisma.NotificationWhereInput, PageQuery> = {
  page: (db, where, query) =>
    db.notification.findMany({
      ...query,
      where,
      orderBy: [{ readAt: { sort: 'desc', nulls: 'first' } }, { id: 'desc' }],
    }),
  count: (db, where) => countNotifications(db, where),
};

export const countNotifications = (db: Db, where: Prisma.NotificationWhereInput) => db.notification.count({ where });

/** Marks the matching unread notifications read; answers how many. */
export const markRead = async (db: Db, where: Prisma.NotificationWhereInput) =>
  (await db.notification.updateMany({ where, data: { readAt: new Date() } })).count;

export const findNotification = (db: Db, id: string, query: { select?: object; include?: object }) =>
  db.notification.findUnique({ ...query, where: { id } }) as Promise<Notification | null>;
