import { filter, pipe } from 'graphql-yoga';
import { resolveNodes } from '@pothos/plugin-relay';
import type { GraphQLResolveInfo } from 'graphql';
import { builder } from '../../graphql/builder.ts';
import { countedConnection } from '../../graphql/counted-connection.ts';
import type { Context } from '../../graphql/context.ts';
import { NotificationKind } from '../../generated/prisma/enums.ts';
import { ForbiddenError } from '../../errors.ts';
import { nodeAccess } from '../../graphql/visible-nodes.ts';
import { notificationFilter } from '../communities/visibility.ts';
import { markNotificationsRead, notificationForDelivery, notificationsWhere, sharedDeliveryLoad } from './service.ts';
import { countNotifications, notificationListing } from './store.ts';

const NotificationKindEnum = builder.enumType(NotificationKind, { name: 'NotificationKind' });

/** A pushed notification's subject, loaded once for all the subscriptions with the same access. */
const deliveredSubject = (ctx: Context, info: GraphQLResolveInfo, typename: string, id: string) =>
  sharedDeliveryLoad(`subject ${ctx.access.fingerprint} ${typename}:${id}`, () =>
    resolveNodes(builder, ctx, info, [{ typename, id }]).then(([node]) => node),
  );

export const Notification = builder.prismaNode('Notification', {
  id: { field: 'id' },
  // node(id) and nodes(ids) answer null for a missing or hidden id, never an error.
  nullable: true,
  description: "An in-app notification of the viewer's.",
  findUnique: nodeAccess('Notification', 'notification', (ctx) => notificationFilter(ctx.access)),
  fields: (t) => ({
    kind: t.field({ type: NotificationKindEnum, resolve: (n) => n.kind }),
    title: t.exposeString('title'),
    subject: t.field({
      type: builder.nodeInterfaceRef(),
      nullable: true,
      description: 'What the notification is about (an import job, a report, …), when the viewer may still see it.',
      resolve: async (n, _, ctx, info) => {
        if (!n.subjectType || !n.subjectId) return null;
        // Loaded like node(id), with the viewer's access.
        if (info.operation.operation === 'subscription') {
          return (await deliveredSubject(ctx, info, n.subjectType, n.subjectId)) as never;
        }
        const [node] = await resolveNodes(builder, ctx, info, [{ typename: n.subjectType, id: n.subjectId }]);
        return node as never;
      },
    }),
    read: t.boolean({ resolve: (n) => n.readAt !== null }),
    readAt: t.expose('readAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.queryField('notifications', (t) =>
  t.prismaConnection(
    {
      type: 'Notification',
      cursor: 'id',
      description:
        'Unread first (newest first), then read ones (most recently read first); `unreadOnly` leaves out what was read.',
      args: { unreadOnly: t.arg.boolean({ defaultValue: false }) },
      ...countedConnection(notificationListing, (ctx, { unreadOnly }: { unreadOnly?: boolean | null }) =>
        notificationsWhere(ctx.access, unreadOnly),
      ),
    },
    { name: 'NotificationConnection' },
    { name: 'NotificationEdge' },
  ),
);

builder.queryField('unreadNotificationCount', (t) =>
  t.int({ resolve: (_, __, ctx) => countNotifications(ctx.prisma, notificationsWhere(ctx.access, true)) }),
);

const MarkNotificationsReadInput = builder.inputType('MarkNotificationsReadInput', {
  fields: (t) => ({
    ids: t.globalIDList({ for: Notification, description: 'Leave out to mark every notification read.' }),
  }),
});

const MarkNotificationsReadPayload = builder
  .objectRef<{ markedRead: number; unreadCount: number }>('MarkNotificationsReadPayload')
  .implement({
    fields: (t) => ({ markedRead: t.exposeInt('markedRead'), unreadCount: t.exposeInt('unreadCount') }),
  });

builder.mutationField('markNotificationsRead', (t) =>
  t.field({
    type: MarkNotificationsReadPayload,
    args: { input: t.arg({ type: MarkNotificationsReadInput, required: true }) },
    errors: { dataField: { name: 'result' } },
    resolve: async (_, { input }, ctx) => ({
      markedRead: await markNotificationsRead(
        ctx,
        input.ids?.map((n) => n.id),
      ),
      unreadCount: await countNotifications(ctx.prisma, notificationsWhere(ctx.access, true)),
    }),
  }),
);

builder.subscriptionField('notificationAdded', (t) =>
  t.prismaField({
    type: 'Notification',
    description: "The viewer's new notifications as they are created, on any server process.",
    // Only those of the communities this subscription acts on (X-Community-Ids). Operators,
    // not a generator: a client leaving stops the listener at once.
    subscribe: (_, __, ctx) =>
      pipe(
        ctx.pubsub.subscribe('notificationAdded', ctx.viewer.userId),
        // The event names its community, so thousands of open widgets cost no query here.
        filter((event) => ctx.access.communityIds.includes(event.communityId)),
      ),
    // The topic is the viewer's own, and the filter above checked the community.
    resolve: async (query, event: { id: string; communityId: string }, _, ctx) => {
      // Checked again with the access of this moment (live-access refreshes it before each
      // event): the filter above may have run just before a membership was taken away.
      if (!ctx.access.communityIds.includes(event.communityId))
        throw new ForbiddenError('Not authorized', 'membership');
      const notification = await notificationForDelivery(ctx.prisma, event.id, query);
      if (!notification) throw new Error(`notification ${event.id} is gone`);
      return notification;
    },
  }),
);
