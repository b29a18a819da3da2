// Tenant isolation of notifications (see test/tenancy-kit.ts): another tenant's notifications
// answer like missing ones in node, the list, markNotificationsRead and notificationAdded.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { MarkNotificationsRead, NotificationAdded, Notifications } from './documents.ts';
import { createTenant, notifyUser, startTestApp, type Tenant, unique, waitFor } from './kit.ts';
import {
  ask,
  bearer,
  expectNoTrace,
  type MutationCase,
  openWs,
  type PopulatedTenant,
  populatedNodes,
  recordWs,
  storedState,
  testForeignIdMutations,
  testForeignNodes,
  twoTenants,
} from './tenancy-kit.ts';

const app = await startTestApp();

const MUTATIONS: MutationCase<PopulatedTenant>[] = [
  {
    name: 'markNotificationsRead(ids)',
    type: 'Notification',
    id: (t) => t.notificationId,
    run: (client, id) => ask(client, MarkNotificationsRead, { input: { ids: [id] } }),
    // Nothing of the caller's matched: nothing marked, the caller's own notification still unread.
    outsider: { __typename: 'MarkNotificationsReadSuccess', result: { markedRead: 0, unreadCount: 1 } },
    owner: 'MarkNotificationsReadSuccess',
  },
];

describe('notifications', () => {
  testForeignNodes(() => twoTenants(app), populatedNodes('Notification'));
  testForeignIdMutations({ pair: () => twoTenants(app), stored: (t) => storedState(app, t) }, MUTATIONS);

  it("the notification list and the unread count hold the caller's notifications only", async () => {
    const [a, b] = await twoTenants(app);
    const list = await ask(a.client, Notifications, { first: 100 });
    expect(list.json.errors).toBeUndefined();
    expect(list.json.data).toMatchObject({
      notifications: {
        totalCount: 1,
        edges: [{ node: { id: a.notificationId, title: expect.any(String), subject: { id: a.importJobId } } }],
      },
      unreadNotificationCount: 1,
    });
    expectNoTrace(list.body, b);
  });

  it("markNotificationsRead without ids marks the caller's own notifications only", async () => {
    const [a, b] = await twoTenants(app);
    const before = await storedState(app, b);
    const result = await a.client.gql(MarkNotificationsRead, { input: {} });
    expect(result.markNotificationsRead).toEqual({
      __typename: 'MarkNotificationsReadSuccess',
      result: { markedRead: 1, unreadCount: 0 },
    });
    expect(await storedState(app, b)).toEqual(before);
  });

  it("notificationAdded delivers the subscriber's own notifications, never another tenant's", async () => {
    const [a, b] = await Promise.all([createTenant(app), createTenant(app)]);
    const send = (t: Tenant, title: string) => notifyUser(app, t.client, t.communityRawId, title);
    const [fromA, fromB] = [
      recordWs(await openWs(app, bearer(a.client)), NotificationAdded),
      recordWs(await openWs(app, bearer(b.client)), NotificationAdded),
    ];
    // A subscription is live once something sent after it has arrived.
    for (const [tenant, received] of [
      [a, fromA],
      [b, fromB],
    ] as const) {
      await waitFor(
        async () => {
          await send(tenant, 'warm-up');
          await sleep(150);
          return received.length > 0;
        },
        { what: 'the subscription to be live' },
      );
    }

    const forB = await send(b, unique('for B'));
    const forA = await send(a, unique('for A'));
    const titles = (received: typeof fromA) => received.map((r) => r.data?.notificationAdded.title);
    // B's is published first; once A's has arrived, B's would have too (one ordered channel).
    await waitFor(async () => titles(fromA).includes(forA.title) && titles(fromB).includes(forB.title), {
      what: 'both notifications',
    });
    expect(titles(fromA).filter((t) => t !== 'warm-up')).toEqual([forA.title]);
    expect(titles(fromB).filter((t) => t !== 'warm-up')).toEqual([forB.title]);
    expect(JSON.stringify(fromA)).not.toContain(forB.id);
  });
});
