// Access over time: open subscriptions follow key revocations and role changes as they
// happen, over graphql-ws and SSE against a real server, and are bounded per connection
// and per API key. Changes go through the functions the CLI runs (`key revoke`, `member add`),
// which announce them to every API process over PostgreSQL.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { revokeApiKey, setMembership } from '../src/modules/communities/service.ts';
import { AlertCreated, NotificationAdded, Viewer } from './documents.ts';
import {
  collectionWith,
  createTenant,
  createTestApp,
  createUser,
  daysAgo,
  notifyUser,
  sendAccepted,
  startTestApp,
  waitFor,
  type Client,
  type Role,
  type Tenant,
} from './kit.ts';
import { connectWs, connectWsAs, subscribeSse, type Result } from './transports.ts';

const app = await startTestApp();
const { prisma } = app.services;

/** How long a change may take to reach an open subscription ("within seconds"). */
const DEADLINE_MS = 5_000;

/** `promise`'s value, or a failure if it has not come within the deadline. */
async function withinDeadline<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${DEADLINE_MS} ms`)), DEADLINE_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

/** The app's HTTP address, for real clients. */
const { url } = await app.http();

// ---------------------------------------------------------------------------------------
// Alerts, notifications and access changes.

/**
 * A tenant whose collection has a rule watching fresh IPs; `alert()` sends an event that
 * raises a new alert in the tenant's community and answers its IP.
 */
async function watchedTenant(): Promise<Tenant & { alert(): Promise<string> }> {
  const tenant = await createTenant(app);
  const ips = Array.from({ length: 60 }, (_, i) => `10.77.${Math.floor(i / 250)}.${(i % 250) + 1}`);
  await collectionWith(tenant, ips, { createDetectionRule: true, properties: { validFrom: daysAgo(1) } });
  let sent = 0;
  return {
    ...tenant,
    async alert() {
      const ip = ips[sent++];
      await sendAccepted(tenant.client, [{ '@timestamp': new Date().toISOString(), 'destination.ip': ip }]);
      return ip;
    },
  };
}

async function keyIdOf(user: Client): Promise<string> {
  return (await prisma.apiKey.findFirstOrThrow({ where: { userId: user.userId }, select: { id: true } })).id;
}

/** `member add` as the CLI runs it: replaces the user's role in the community. */
async function giveRole(user: Client, communityRawId: string, role: Role) {
  const { id: roleId } = await prisma.role.findUniqueOrThrow({ where: { name: role }, select: { id: true } });
  await setMembership(prisma, { userId: user.userId, communityId: communityRawId, roleId });
}

const alertValues = (results: Result[]) =>
  results.flatMap((r) => (r.data?.alertCreated ? [(r.data.alertCreated as { value: string }).value] : []));
const notificationTitles = (results: Result[]) =>
  results.flatMap((r) => (r.data?.notificationAdded ? [(r.data.notificationAdded as { title: string }).title] : []));
const errorCodes = (results: Result[]) => results.flatMap((r) => (r.errors ?? []).map((e) => e.extensions?.code));

describe('a revoked key', () => {
  it('closes its graphql-ws socket with 4403 and ends its SSE streams; nothing more is delivered and new requests get 401', async () => {
    const tenant = await watchedTenant();
    const viewer = await createUser(app, [{ communityId: tenant.communityRawId, role: 'viewer' }]);
    const socket = connectWsAs(url, viewer);
    const feeds = {
      wsAlerts: socket.subscribe(AlertCreated),
      wsNotifications: socket.subscribe(NotificationAdded),
      sseAlerts: await subscribeSse(url, viewer, AlertCreated),
      sseNotifications: await subscribeSse(url, viewer, NotificationAdded),
    };
    for (const feed of [feeds.wsAlerts, feeds.sseAlerts]) await feed.primed(tenant.alert);
    for (const feed of [feeds.wsNotifications, feeds.sseNotifications]) {
      await feed.primed(() => notifyUser(app, viewer, tenant.communityRawId));
    }

    // `key revoke` as the CLI runs it: the change is announced through PostgreSQL.
    expect(await revokeApiKey(prisma, await keyIdOf(viewer))).toMatchObject({ alreadyRevoked: false });
    // Sent right after the revocation: must reach no one.
    const lateIp = await tenant.alert();
    const lateTitle = (await notifyUser(app, viewer, tenant.communityRawId)).title;

    expect(await withinDeadline(socket.closed, 'close')).toEqual({ code: 4403, reason: 'Forbidden' });
    for (const [name, feed] of Object.entries(feeds)) {
      const { results } = await feed.collect();
      expect(alertValues(results), name).not.toContain(lateIp);
      expect(notificationTitles(results), name).not.toContain(lateTitle);
      expect(
        errorCodes(results).filter((code) => code !== 'UNAUTHENTICATED'),
        name,
      ).toEqual([]);
    }
    expect((await viewer.execute(Viewer)).status).toBe(401);
  });
});

describe('a demotion', () => {
  it('to sensor ends alertCreated with FORBIDDEN over both transports; notificationAdded goes on', async () => {
    const tenant = await watchedTenant();
    const viewer = await createUser(app, [{ communityId: tenant.communityRawId, role: 'viewer' }]);
    const socket = connectWsAs(url, viewer);
    const wsAlerts = socket.subscribe(AlertCreated);
    const wsNotifications = socket.subscribe(NotificationAdded);
    const sseAlerts = await subscribeSse(url, viewer, AlertCreated);
    for (const feed of [wsAlerts, sseAlerts]) await feed.primed(tenant.alert);
    await wsNotifications.primed(() => notifyUser(app, viewer, tenant.communityRawId));

    await giveRole(viewer, tenant.communityRawId, 'sensor');
    const lateIp = await tenant.alert();

    for (const feed of [wsAlerts, sseAlerts]) {
      const { results, end } = await feed.collect();
      expect(end, 'the subscription ends').toBeDefined();
      expect(end?.error, 'the subscription completes, the socket stays').toBeUndefined();
      expect(alertValues(results)).not.toContain(lateIp);
      expect(results.at(-1)).toEqual({
        data: null,
        errors: [
          expect.objectContaining({
            message:
              'alertCreated needs the VIEW_ALERTS permission in one of the communities this subscription acts on',
            extensions: { code: 'FORBIDDEN' },
          }),
        ],
      });
    }
    // Still a member (as sensor): its notifications go on, on the same socket.
    const title = (await notifyUser(app, viewer, tenant.communityRawId)).title;
    const results = await wsNotifications.until((r) => notificationTitles([r]).includes(title));
    expect(errorCodes(results)).toEqual([]);
  });

  it('in one of two communities: alertCreated goes on with the new access, without the lost community', async () => {
    const [kept, lost] = [await watchedTenant(), await watchedTenant()];
    const viewer = await createUser(app, [
      { communityId: kept.communityRawId, role: 'viewer' },
      { communityId: lost.communityRawId, role: 'viewer' },
    ]);
    const wsAlerts = connectWsAs(url, viewer).subscribe(AlertCreated);
    const sseAlerts = await subscribeSse(url, viewer, AlertCreated);
    // The same viewer acting on the lost community only: it ends when the demotion is seen.
    const lostOnly = connectWs(url, {
      authorization: `Bearer ${viewer.key}`,
      'x-community-ids': lost.communityId,
    }).subscribe(AlertCreated);
    for (const feed of [wsAlerts, sseAlerts]) await feed.primed(kept.alert);
    await lostOnly.primed(lost.alert);

    // An unrelated change first (another user's key revoked): nothing stops.
    const other = await createUser(app, [{ communityId: kept.communityRawId, role: 'viewer' }]);
    await revokeApiKey(prisma, await keyIdOf(other));
    const afterUnrelated = await kept.alert();
    for (const feed of [wsAlerts, sseAlerts]) {
      const results = await feed.until((r) => alertValues([r]).includes(afterUnrelated));
      expect(errorCodes(results)).toEqual([]);
    }

    await giveRole(viewer, lost.communityRawId, 'sensor');
    const { results: lostResults } = await lostOnly.collect();
    expect(errorCodes(lostResults).at(-1)).toBe('FORBIDDEN');

    const inLost = await lost.alert();
    const inKept = await kept.alert();
    for (const feed of [wsAlerts, sseAlerts]) {
      const results = await feed.until((r) => alertValues([r]).includes(inKept));
      expect(errorCodes(results)).toEqual([]);
      expect(alertValues(results)).not.toContain(inLost);
      expect(results.at(-1)?.data?.alertCreated).toMatchObject({ community: { id: kept.communityId } });
    }
  });
});

// ---------------------------------------------------------------------------------------
// Limits.

describe('subscription limits', () => {
  it('refuses the 51st subscription on one socket, which goes on serving the other 50; a completed one frees its slot', async () => {
    const tenant = await createTenant(app);
    const socket = connectWsAs(url, tenant.client);
    const poke = () => notifyUser(app, tenant.client, tenant.communityRawId);
    const [first, ...others] = Array.from({ length: 50 }, () => socket.subscribe(NotificationAdded));
    for (const feed of [first, ...others]) await feed.primed(poke);

    expect(await socket.subscribe(NotificationAdded).next()).toEqual({
      ended: true,
      error: [
        {
          message:
            'Subscription limit reached: a connection may hold at most 50 open subscriptions ' +
            '(WS_MAX_SUBSCRIPTIONS_PER_SOCKET); end one, or open another connection',
          extensions: { code: 'SUBSCRIPTION_LIMIT' },
        },
      ],
    });

    const title = (await notifyUser(app, tenant.client, tenant.communityRawId)).title;
    for (const feed of [first, ...others]) await feed.until((r) => notificationTitles([r]).includes(title));

    // Completing one (the client's return) makes room for another.
    await first.close();
    await socket.subscribe(NotificationAdded).primed(poke);
  });

  it('refuses a key more than SUBSCRIPTIONS_MAX_PER_KEY subscriptions over its sockets and SSE streams; an ended one frees its slot', async () => {
    const limited = await createTestApp({ SUBSCRIPTIONS_MAX_PER_KEY: '3' }, { workers: false });
    cleanups.push(() => limited.close());
    const tenant = await createTenant(app);
    // Leases of a process that died without giving them back (no heartbeat for an hour) do not count.
    const dead = randomUUID();
    await prisma.subscriptionProcess.create({ data: { id: dead, heartbeatAt: new Date(Date.now() - 3_600_000) } });
    const apiKeyId = await keyIdOf(tenant.client);
    await prisma.subscriptionLease.createMany({
      data: Array.from({ length: 3 }, () => ({ id: randomUUID(), processId: dead, apiKeyId })),
    });

    const poke = () => notifyUser(app, tenant.client, tenant.communityRawId);
    const { url: limitedUrl } = await limited.http();
    const [one, two] = [connectWsAs(limitedUrl, tenant.client), connectWsAs(limitedUrl, tenant.client)];
    const open = [one.subscribe(NotificationAdded), one.subscribe(NotificationAdded)];
    for (const feed of open) await feed.primed(poke);
    const sse = await subscribeSse(limitedUrl, tenant.client, NotificationAdded);
    await sse.primed(poke);

    const refusal = [
      'Subscription limit reached: an API key may hold at most 3 open subscriptions over all its connections ' +
        '(SUBSCRIPTIONS_MAX_PER_KEY); end one before starting another',
    ];
    const overWs = await two.subscribe(NotificationAdded).collect();
    const overSse = await (await subscribeSse(limitedUrl, tenant.client, NotificationAdded)).collect();
    for (const { results } of [overWs, overSse]) {
      expect(errorCodes(results)).toEqual(['SUBSCRIPTION_LIMIT']);
      expect(results.flatMap((r) => r.errors!.map((e) => e.message))).toEqual(refusal);
    }

    // The SSE stream's client leaves: its lease goes back (soon after, so asked again until then).
    await sse.close();
    const accepted = await waitFor(
      async () => {
        const feed = two.subscribe(NotificationAdded);
        const step = await feed.next(300);
        if (step !== 'timeout' && ('ended' in step || step.errors)) return null;
        return feed;
      },
      { timeoutMs: DEADLINE_MS, what: 'a slot to free' },
    );
    await accepted.primed(poke);
  });
});

describe('graphql-ws connection parameters', () => {
  /** The close event of a socket whose ConnectionInit carries `payload`, or the ack. */
  async function connectionInit(payload: Record<string, unknown>) {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    cleanups.push(() => ws.terminate());
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })),
    );
    const acked = new Promise<'ack'>((resolve) =>
      ws.on('message', (data) => JSON.parse(String(data)).type === 'connection_ack' && resolve('ack')),
    );
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ type: 'connection_init', payload }));
    return Promise.race([closed, acked]);
  }

  it('reads authorization in any casing, and refuses two casings that carry different keys (4400)', async () => {
    const [a, b] = [await createTenant(app), await createTenant(app)];
    expect(await connectionInit({ AUTHORIZATION: `Bearer ${a.client.key}` })).toBe('ack');
    expect(
      await connectionInit({ authorization: `Bearer ${a.client.key}`, Authorization: `Bearer ${a.client.key}` }),
    ).toBe('ack');
    expect(
      await connectionInit({ authorization: `Bearer ${a.client.key}`, Authorization: `Bearer ${b.client.key}` }),
    ).toEqual({ code: 4400, reason: 'authorization given twice with different values' });
    expect(await connectionInit({ Authorization: `Bearer ${randomUUID()}` })).toEqual({
      code: 4403,
      reason: 'Forbidden',
    });
  });
});
