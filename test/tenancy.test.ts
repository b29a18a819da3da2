// The tenant isolation matrix: whatever one tenant (A) does with the ids of another (B),
// it learns nothing and changes nothing. A foreign id must answer exactly like a random
// (missing) id of the same type, on every path: node/nodes, lists, mutations and
// subscriptions. Then the MSSP tree (sharing down, never sideways or up), malformed ids
// and authentication.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { createClient, type Client as WsClient } from 'graphql-ws';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { notify } from '../src/modules/notifications/service.ts';
import { graphql } from './generated/gql.ts';
import {
  type Client,
  createCollection,
  createTenant,
  createUser,
  daysAgo,
  expectMember,
  fromGlobalId,
  generateReport,
  importIntoNewCollection,
  importText,
  sendEvents,
  startTestApp,
  type Tenant,
  toGlobalId,
  unique,
  waitFor,
  waitForReport,
} from './kit.ts';
import {
  Collections,
  CreateCollection,
  CreateDetectionRule,
  GenerateTelemetryReport,
  ImportText,
  Indicators,
  MarkNotificationsRead,
  RevokeIndicator,
  UpdateCollection,
  UpdateDetectionRule,
} from './operations.ts';

const app = await startTestApp();
const { prisma } = app.services;

// ---------------------------------------------------------------------------------------
// Operations

/** What node(id) and nodes(ids) show of each type (spread by name in both queries). */
graphql(`
  fragment TenancyNodeFields on Node {
    __typename
    id
    ... on Community {
      name
    }
    ... on Collection {
      name
      indicatorCount
    }
    ... on Indicator {
      value
    }
    ... on ImportJob {
      status
      invalid
    }
    ... on Notification {
      title
      read
    }
    ... on Threat {
      name
    }
  }
`);

const NodeQuery = graphql(`
  query TenancyNode($id: ID!) {
    node(id: $id) {
      ...TenancyNodeFields
    }
  }
`);

const NodesQuery = graphql(`
  query TenancyNodes($ids: [ID!]!) {
    nodes(ids: $ids) {
      ...TenancyNodeFields
    }
  }
`);

const VisibleLists = graphql(`
  query TenancyVisibleLists {
    communities {
      id
      name
      parent {
        id
      }
      children {
        id
      }
    }
    viewer {
      communities {
        id
      }
      memberships {
        community {
          id
        }
      }
    }
    collections(first: 100) {
      totalCount
      edges {
        node {
          id
          name
          community {
            id
          }
        }
      }
    }
    notifications(first: 100) {
      totalCount
      edges {
        node {
          id
          title
          subject {
            id
          }
        }
      }
    }
    unreadNotificationCount
  }
`);

const CollectionIndicators = graphql(`
  query TenancyCollectionIndicators($id: ID!, $threatIds: [ID!]) {
    node(id: $id) {
      ... on Collection {
        indicators(first: 100, threatIds: $threatIds) {
          edges {
            node {
              id
              value
              threats {
                id
              }
            }
          }
        }
      }
    }
  }
`);

const UpdateIndicator = graphql(`
  mutation TenancyUpdateIndicator($input: UpdateIndicatorInput!) {
    updateIndicator(input: $input) {
      __typename
      ... on UpdateIndicatorSuccess {
        indicator {
          id
          description
          threats {
            id
          }
        }
      }
      ...MutationError
    }
  }
`);

const ImportJobUpdated = graphql(`
  subscription TenancyImportJobUpdated($id: ID!) {
    importJobUpdated(id: $id) {
      id
      status
      invalid
      collection {
        id
      }
    }
  }
`);

const NotificationAdded = graphql(`
  subscription TenancyNotificationAdded {
    notificationAdded {
      id
      title
    }
  }
`);

// ---------------------------------------------------------------------------------------
// Tenants with data

/** A tenant with one collection filled by a text import (3 indicators, 1 rejected line) and its notification. */
interface PopulatedTenant extends Tenant {
  collectionId: string;
  indicatorId: string;
  importJobId: string;
  notificationId: string;
  /** Everything of this tenant a leak would show: global ids, raw ids and names. */
  traces: string[];
}

/** The same observables for every tenant: isolation must hold by owner, not by value. */
const IMPORT_TEXT = ['198.51.100.7', 'evil.example', 'hxxps://bad[.]example/payload', 'this is no indicator'].join(
  '\n',
);

async function populatedTenant(options: Parameters<typeof createTenant>[1] = {}): Promise<PopulatedTenant> {
  const tenant = await createTenant(app, options);
  const { collection, job: importJob } = await importIntoNewCollection(tenant, IMPORT_TEXT);
  expect(importJob).toMatchObject({ status: 'SUCCEEDED', created: 3, invalid: 1, errors: { totalCount: 1 } });
  const jobRawId = fromGlobalId(importJob.id).id!;
  const notification = await waitFor(() => prisma.notification.findFirst({ where: { subjectId: jobRawId } }), {
    what: 'the import notification',
  });
  const indicator = await prisma.indicator.findFirstOrThrow({
    where: { collectionId: fromGlobalId(collection.id).id },
  });
  const community = await prisma.community.findUniqueOrThrow({ where: { id: tenant.communityRawId } });
  const indicatorId = toGlobalId('Indicator', indicator.id);
  const notificationId = toGlobalId('Notification', notification.id);
  const ids = [tenant.communityId, collection.id, indicatorId, importJob.id, notificationId];
  return {
    ...tenant,
    collectionId: collection.id,
    indicatorId,
    importJobId: importJob.id,
    notificationId,
    traces: [...ids, ...ids.map((id) => fromGlobalId(id).id!), community.name, collection.name, notification.title],
  };
}

/** A (the one asking) and B (the one whose ids are used), each created fresh. */
async function twoTenants() {
  const [a, b] = await Promise.all([populatedTenant(), populatedTenant()]);
  return { a, b };
}

/** Every row of B's communities, as stored: compared before and after A's attempts. */
async function storedState(tenant: Tenant) {
  const communityId = { in: [tenant.communityRawId, ...tenant.childRawIds] };
  const [communities, collections, indicators, importJobs, notifications] = await Promise.all([
    prisma.community.findMany({
      where: { OR: [{ id: communityId }, { parentId: communityId }] },
      orderBy: { id: 'asc' },
    }),
    prisma.collection.findMany({ where: { communityId }, orderBy: { id: 'asc' } }),
    prisma.indicator.findMany({ where: { collection: { communityId } }, orderBy: { id: 'asc' } }),
    prisma.importJob.findMany({ where: { collection: { communityId } }, orderBy: { id: 'asc' } }),
    prisma.notification.findMany({ where: { communityId }, orderBy: { id: 'asc' } }),
  ]);
  return { communities, collections, indicators, importJobs, notifications };
}

const randomId = (type: string) => toGlobalId(type, randomUUID());

function expectNoTrace(body: string, of: PopulatedTenant) {
  for (const trace of of.traces) expect(body, `the answer mentions "${trace}"`).not.toContain(trace);
}

// ---------------------------------------------------------------------------------------
// Transports: the raw answer (status and body text) is what "answers alike" compares.

interface RawAnswer<TData> {
  status: number;
  body: string;
  json: { data?: TData | null; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

const bearer = (client: Client) => ({ authorization: `Bearer ${client.key}` });

async function post<TData, TVars>(
  headers: Record<string, string>,
  document: TypedDocumentNode<TData, TVars>,
  variables?: TVars,
): Promise<RawAnswer<TData>> {
  const response = await app.yoga.fetch('http://yoga/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = await response.text();
  return { status: response.status, body, json: JSON.parse(body) };
}

const ask = <TData, TVars>(client: Client, document: TypedDocumentNode<TData, TVars>, variables?: TVars) =>
  post(bearer(client), document, variables);

/** The one payload of a single-field operation (a mutation result union). */
const payloadOf = (answer: RawAnswer<unknown>) =>
  Object.values((answer.json.data ?? {}) as Record<string, unknown>)[0] as Record<string, unknown> | null | undefined;

/** A subscription over Server-Sent Events, read until the server ends the stream. */
async function subscribeSse<TData, TVars>(client: Client, document: TypedDocumentNode<TData, TVars>, variables: TVars) {
  const response = await app.yoga.fetch('http://yoga/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...bearer(client) },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = await response.text();
  const events = body
    .split('\n\n')
    .filter((block) => block.startsWith('event: next'))
    .map((block) => JSON.parse(block.slice(block.indexOf('data: ') + 6)));
  return { status: response.status, body, events };
}

async function openWs(connectionParams: Record<string, unknown>): Promise<WsClient> {
  const { url } = await app.http();
  const client = createClient({
    url: `${url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams,
    retryAttempts: 0,
  });
  onTestFinished(() => client.dispose());
  return client;
}

/** Everything a graphql-ws subscription delivers until it completes, or how it failed. */
async function subscribeWs<TData, TVars>(
  ws: WsClient,
  document: TypedDocumentNode<TData, TVars>,
  variables?: TVars,
): Promise<unknown[]> {
  const received: unknown[] = [];
  try {
    for await (const result of ws.iterate({
      query: print(document),
      variables: variables as Record<string, unknown>,
    })) {
      received.push(result);
    }
  } catch (error) {
    // graphql-ws rejects with the errors of an `error` message (an operation that failed
    // before its first result), or with the close event of the socket.
    if (Array.isArray(error)) received.push({ errors: error });
    else {
      const { code, reason } = error as { code?: number; reason?: string };
      received.push(code ? { closed: { code, reason } } : { thrown: String(error) });
    }
  }
  return received;
}

/** A subscription that keeps running in the background while the test acts. */
function record<TData>(ws: WsClient, document: TypedDocumentNode<TData, Record<string, never>>) {
  const received: { data?: TData | null; errors?: unknown[] }[] = [];
  const iterator = ws.iterate<TData>({ query: print(document) });
  const done = (async () => {
    for await (const result of iterator) received.push(result as never);
  })();
  onTestFinished(async () => {
    await iterator.return?.();
    await done.catch(() => {});
  });
  return received;
}

// ---------------------------------------------------------------------------------------

const NODE_TYPES = [
  { type: 'Community', of: (t: PopulatedTenant) => t.communityId },
  { type: 'Collection', of: (t: PopulatedTenant) => t.collectionId },
  { type: 'Indicator', of: (t: PopulatedTenant) => t.indicatorId },
  { type: 'ImportJob', of: (t: PopulatedTenant) => t.importJobId },
  { type: 'Notification', of: (t: PopulatedTenant) => t.notificationId },
];

describe('node and nodes', () => {
  it.each(NODE_TYPES)(
    "node(id) of another tenant's $type answers exactly like a random $type id",
    async ({ type, of }) => {
      const { a, b } = await twoTenants();
      // The ids are real: their owner reads them, and A reads its own of the same type.
      expect((await b.client.gql(NodeQuery, { id: of(b) })).node).toMatchObject({ __typename: type, id: of(b) });
      expect((await a.client.gql(NodeQuery, { id: of(a) })).node).toMatchObject({ __typename: type, id: of(a) });

      const foreign = await ask(a.client, NodeQuery, { id: of(b) });
      const missing = await ask(a.client, NodeQuery, { id: randomId(type) });
      expect(foreign).toEqual(missing);
      expect(foreign.body).toBe('{"data":{"node":null}}');
    },
  );

  it("nodes(ids) leaves every object of another tenant out, exactly like random ids, next to the caller's own", async () => {
    const { a, b } = await twoTenants();
    const own = NODE_TYPES.map(({ of }) => of(a));
    const foreign = await ask(a.client, NodesQuery, { ids: [...NODE_TYPES.map(({ of }) => of(b)), ...own] });
    const missing = await ask(a.client, NodesQuery, { ids: [...NODE_TYPES.map(({ type }) => randomId(type)), ...own] });
    expect(foreign).toEqual(missing);
    expect(foreign.json.data?.nodes.map((n) => n?.__typename ?? null)).toEqual([
      ...NODE_TYPES.map(() => null),
      ...NODE_TYPES.map(({ type }) => type),
    ]);
    expectNoTrace(foreign.body, b);
    // B asking for the same ids gets them all.
    const owner = await b.client.gql(NodesQuery, { ids: NODE_TYPES.map(({ of }) => of(b)) });
    expect(owner.nodes.map((n) => n?.id)).toEqual(NODE_TYPES.map(({ of }) => of(b)));
  });

  it('answers a Threat (the global catalogue) to every tenant alike, and lets every tenant use it', async () => {
    const { a, b } = await twoTenants();
    const threats = await b.client.gql(
      graphql(`
        query TenancyThreats {
          threats(first: 2) {
            edges {
              node {
                id
                name
              }
            }
          }
        }
      `),
    );
    const threat = threats.threats.edges[0].node;
    const fromA = await ask(a.client, NodeQuery, { id: threat.id });
    expect(fromA).toEqual(await ask(b.client, NodeQuery, { id: threat.id }));
    expect(fromA.json.data?.node).toMatchObject({ __typename: 'Threat', id: threat.id, name: threat.name });
    expect((await ask(a.client, NodesQuery, { ids: [threat.id] })).json.data?.nodes).toEqual([fromA.json.data?.node]);

    // Threat ids are not tenant-scoped: A tags its own indicators with a catalogue threat.
    expect(await importText(a.client, a.collectionId, '203.0.113.9', { threatIds: [threat.id] })).toMatchObject({
      created: 1,
      invalid: 0,
    });
    const tagged = (await a.client.gql(CollectionIndicators, { id: a.collectionId, threatIds: [threat.id] })).node;
    expect(tagged && 'indicators' in tagged && tagged.indicators.edges.map((e) => e.node.value)).toEqual([
      '203.0.113.9',
    ]);
    const updated = await a.client.gql(UpdateIndicator, { input: { id: a.indicatorId, threatIds: [threat.id] } });
    expect(expectMember(updated.updateIndicator, 'UpdateIndicatorSuccess').indicator.threats).toEqual([
      { id: threat.id },
    ]);
  });
});

describe('lists', () => {
  it("communities, viewer.communities, collections and notifications hold the caller's objects only", async () => {
    const { a, b } = await twoTenants();
    const lists = await ask(a.client, VisibleLists);
    expect(lists.json.errors).toBeUndefined();
    expect(lists.json.data).toEqual({
      communities: [{ id: a.communityId, name: expect.any(String), parent: null, children: [] }],
      viewer: { communities: [{ id: a.communityId }], memberships: [{ community: { id: a.communityId } }] },
      collections: {
        totalCount: 1,
        edges: [{ node: { id: a.collectionId, name: expect.any(String), community: { id: a.communityId } } }],
      },
      notifications: {
        totalCount: 1,
        edges: [{ node: { id: a.notificationId, title: expect.any(String), subject: { id: a.importJobId } } }],
      },
      unreadNotificationCount: 1,
    });
    expectNoTrace(lists.body, b);
  });

  it("collections(communityId:) with another tenant's community answers like a random one: empty", async () => {
    const { a, b } = await twoTenants();
    const foreign = await ask(a.client, Collections, { communityId: b.communityId });
    expect(foreign).toEqual(await ask(a.client, Collections, { communityId: randomId('Community') }));
    expect(foreign.json.data?.collections.totalCount).toBe(0);
    expect((await b.client.gql(Collections, { communityId: b.communityId })).collections.totalCount).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------

interface MutationCase {
  name: string;
  /** Type of the id argument, for the random id. */
  type: string;
  id: (t: PopulatedTenant) => string;
  run: (client: Client, id: string) => Promise<RawAnswer<unknown>>;
  /** What a caller who may not see the object gets (with B's id or a random one). */
  outsider: Record<string, unknown>;
  /** What B itself gets for the same call: proof that the id was real and usable. */
  owner: string;
}

const NOT_FOUND = (what: string) => ({ __typename: 'NotFoundError', code: 'NOT_FOUND', message: `${what} not found` });

const MUTATIONS: MutationCase[] = [
  {
    name: 'createCollection(communityId)',
    type: 'Community',
    id: (t) => t.communityId,
    run: (client, communityId) => ask(client, CreateCollection, { input: { communityId, name: 'planted' } }),
    outsider: NOT_FOUND('Community'),
    owner: 'CreateCollectionSuccess',
  },
  {
    name: 'updateCollection(id)',
    type: 'Collection',
    id: (t) => t.collectionId,
    run: (client, id) =>
      ask(client, UpdateCollection, {
        input: { id, name: 'hijacked', description: null, availableForSubCommunities: true },
      }),
    outsider: NOT_FOUND('Collection'),
    owner: 'UpdateCollectionSuccess',
  },
  {
    name: 'importIndicatorsFromText(collectionId)',
    type: 'Collection',
    id: (t) => t.collectionId,
    run: (client, collectionId) =>
      ask(client, ImportText, { input: { collectionId, text: '192.0.2.250\nplanted.example' } }),
    outsider: NOT_FOUND('Collection'),
    owner: 'ImportSuccess',
  },
  {
    name: 'updateIndicator(id)',
    type: 'Indicator',
    id: (t) => t.indicatorId,
    run: (client, id) => ask(client, UpdateIndicator, { input: { id, description: 'hijacked', validUntil: null } }),
    outsider: NOT_FOUND('Indicator'),
    owner: 'UpdateIndicatorSuccess',
  },
  {
    name: 'revokeIndicator(id)',
    type: 'Indicator',
    id: (t) => t.indicatorId,
    run: (client, id) => ask(client, RevokeIndicator, { input: { id } }),
    outsider: NOT_FOUND('Indicator'),
    owner: 'RevokeIndicatorSuccess',
  },
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

describe('mutations', () => {
  it.each(MUTATIONS)("$name with another tenant's id answers like a random id and changes nothing", async (m) => {
    const { a, b } = await twoTenants();
    const before = await storedState(b);

    const foreign = await m.run(a.client, m.id(b));
    const missing = await m.run(a.client, randomId(m.type));
    expect(foreign).toEqual(missing);
    expect(foreign.json.errors).toBeUndefined();
    expect(payloadOf(foreign)).toMatchObject(m.outsider);
    expectNoTrace(foreign.body, b);
    expect(await storedState(b)).toEqual(before);

    expect(payloadOf(await m.run(b.client, m.id(b)))).toMatchObject({ __typename: m.owner });
  });

  it("markNotificationsRead without ids marks the caller's own notifications only", async () => {
    const { a, b } = await twoTenants();
    const before = await storedState(b);
    const result = await a.client.gql(MarkNotificationsRead, { input: {} });
    expect(result.markNotificationsRead).toEqual({
      __typename: 'MarkNotificationsReadSuccess',
      result: { markedRead: 1, unreadCount: 0 },
    });
    expect(await storedState(b)).toEqual(before);
  });
});

// ---------------------------------------------------------------------------------------

describe('subscriptions', () => {
  it("importJobUpdated with another tenant's job fails like a random id, over SSE and graphql-ws", async () => {
    const { a, b } = await twoTenants();
    const missingId = randomId('ImportJob');

    const foreignSse = await subscribeSse(a.client, ImportJobUpdated, { id: b.importJobId });
    const missingSse = await subscribeSse(a.client, ImportJobUpdated, { id: missingId });
    expect(foreignSse).toEqual(missingSse);
    const notFound = [
      { errors: [expect.objectContaining({ message: 'ImportJob not found', extensions: { code: 'NOT_FOUND' } })] },
    ];
    expect(foreignSse.events).toEqual(notFound);

    const ws = await openWs(bearer(a.client));
    const foreignWs = await subscribeWs(ws, ImportJobUpdated, { id: b.importJobId });
    expect(foreignWs).toEqual(await subscribeWs(ws, ImportJobUpdated, { id: missingId }));
    expect(foreignWs).toEqual(notFound);
    expectNoTrace(JSON.stringify([foreignSse, foreignWs]), b);

    // Its owner follows it: the ended job once, then the stream completes.
    const owner = await subscribeSse(b.client, ImportJobUpdated, { id: b.importJobId });
    expect(owner.events).toEqual([
      {
        data: {
          importJobUpdated: { id: b.importJobId, status: 'SUCCEEDED', invalid: 1, collection: { id: b.collectionId } },
        },
      },
    ]);
  });

  it("notificationAdded delivers the subscriber's own notifications, never another tenant's", async () => {
    const [a, b] = await Promise.all([createTenant(app), createTenant(app)]);
    const send = (t: Tenant, title: string) =>
      notify(app.services, { userId: t.client.userId, communityId: t.communityRawId, kind: 'IMPORT_FINISHED', title });
    const [fromA, fromB] = [
      record(await openWs(bearer(a.client)), NotificationAdded),
      record(await openWs(bearer(b.client)), NotificationAdded),
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

// ---------------------------------------------------------------------------------------

/** An MSSP with two client sub-communities, and a user of the first client. */
async function msspTree() {
  const mssp = await createTenant(app, { children: 2 });
  const create = async (communityId: string, name: string, availableForSubCommunities = false) =>
    (await createCollection(mssp.client, { communityId, name: unique(name), availableForSubCommunities })).id;
  const collections = {
    shared: await create(mssp.communityId, 'mssp shared', true),
    private: await create(mssp.communityId, 'mssp private'),
    own: await create(mssp.childIds[0], 'client one'),
    sibling: await create(mssp.childIds[1], 'client two'),
  };
  const clientUser = await createUser(app, [{ communityId: mssp.childRawIds[0], role: 'admin' }]);
  return { mssp, collections, clientUser };
}

describe('MSSP sub-communities', () => {
  it("a sub-community reads the MSSP's shared collection, but not its private ones nor a sibling's", async () => {
    const { mssp, collections, clientUser } = await msspTree();
    const seen = await clientUser.gql(Collections, { first: 100 });
    expect(seen.collections.edges.map((e) => e.node.id).sort()).toEqual([collections.own, collections.shared].sort());

    const shared = await clientUser.gql(NodeQuery, { id: collections.shared });
    expect(shared.node).toMatchObject({ __typename: 'Collection', id: collections.shared });
    for (const hidden of [collections.private, collections.sibling, mssp.childIds[1]]) {
      const type = fromGlobalId(hidden).type!;
      expect(await ask(clientUser, NodeQuery, { id: hidden })).toEqual(
        await ask(clientUser, NodeQuery, { id: randomId(type) }),
      );
      expect((await ask(clientUser, NodeQuery, { id: hidden })).json.data?.node).toBeNull();
    }
    // The MSSP above is visible by name (it owns the shared collection), with no permission
    // there and none of its other sub-communities.
    const owner = await clientUser.gql(
      graphql(`
        query TenancyOwnerCommunity($id: ID!) {
          node(id: $id) {
            ... on Community {
              id
              permissions
              children {
                id
              }
            }
          }
        }
      `),
      { id: mssp.communityId },
    );
    expect(owner.node).toEqual({ id: mssp.communityId, permissions: [], children: [{ id: mssp.childIds[0] }] });
    // The MSSP's own user sees all four.
    expect((await mssp.client.gql(Collections, { first: 100 })).collections.totalCount).toBe(4);
  });

  it("a sub-community cannot change the shared collection (forbidden), nor the MSSP's private or a sibling's (not found)", async () => {
    const { mssp, collections, clientUser } = await msspTree();
    const before = await storedState(mssp);
    const rename = (id: string) => ask(clientUser, UpdateCollection, { input: { id, name: 'taken over' } });
    const importInto = (collectionId: string) =>
      ask(clientUser, ImportText, { input: { collectionId, text: '192.0.2.1' } });

    for (const attempt of [rename, importInto]) {
      expect(payloadOf(await attempt(collections.shared))).toMatchObject({
        __typename: 'ForbiddenError',
        code: 'FORBIDDEN',
      });
      for (const hidden of [collections.private, collections.sibling]) {
        expect(await attempt(hidden)).toEqual(await attempt(randomId('Collection')));
        expect(payloadOf(await attempt(hidden))).toMatchObject(NOT_FOUND('Collection'));
      }
    }
    expect(await storedState(mssp)).toEqual(before);
    const shared = await clientUser.gql(
      graphql(`
        query TenancySharedCollection($id: ID!) {
          node(id: $id) {
            ... on Collection {
              name
              viewerCanManage
            }
          }
        }
      `),
      { id: collections.shared },
    );
    expect(shared.node).toMatchObject({ viewerCanManage: false });
  });

  it("a sub-community reads the shared collection's indicators but cannot change them, nor see its imports", async () => {
    const { mssp, collections, clientUser } = await msspTree();
    const job = await importText(mssp.client, collections.shared, '198.51.100.20\nshared.example');
    const shared = await clientUser.gql(Indicators, { id: collections.shared });
    const indicators =
      shared.node && 'indicators' in shared.node ? shared.node.indicators.edges.map((e) => e.node) : [];
    expect(indicators.map((i) => i.value).sort()).toEqual(['198.51.100.20', 'shared.example']);

    const before = await storedState(mssp);
    const { id } = indicators[0];
    for (const change of [
      ask(clientUser, UpdateIndicator, { input: { id, description: 'from below' } }),
      ask(clientUser, RevokeIndicator, { input: { id } }),
    ]) {
      expect(payloadOf(await change)).toMatchObject({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
    }
    expect(await storedState(mssp)).toEqual(before);

    // Import jobs are seen from the owning community only: like a missing job, on every path.
    const missing = randomId('ImportJob');
    expect(await ask(clientUser, NodeQuery, { id: job.id })).toEqual(await ask(clientUser, NodeQuery, { id: missing }));
    expect(await subscribeSse(clientUser, ImportJobUpdated, { id: job.id })).toEqual(
      await subscribeSse(clientUser, ImportJobUpdated, { id: missing }),
    );
  });

  it('X-Community-Ids naming a community the caller cannot see is a 400 that reads the same as a random id', async () => {
    const { mssp, clientUser } = await msspTree();
    const outsider = await createTenant(app);
    const withHeader = (id: string) => post({ ...bearer(clientUser), 'x-community-ids': id }, Collections, {});
    // Above (the MSSP itself), beside (a sibling client) and outside (another tenant).
    for (const foreign of [mssp.communityId, mssp.childIds[1], outsider.communityId]) {
      const missing = randomId('Community');
      const [answer, control] = [await withHeader(foreign), await withHeader(missing)];
      expect(answer.status).toBe(400);
      expect(answer.json.data ?? null).toBeNull();
      expect(answer.json.errors).toEqual([
        expect.objectContaining({ message: expect.stringMatching(/^X-Community-Ids: unknown community/) }),
      ]);
      const anonymise = (a: RawAnswer<unknown>, id: string) => ({
        ...a,
        body: a.body.replaceAll(id, '<id>').replaceAll(fromGlobalId(id).id!, '<id>'),
        json: undefined,
      });
      expect(anonymise(answer, foreign)).toEqual(anonymise(control, missing));
    }
    // Over graphql-ws the same selection travels in the connection parameters, with the same answer.
    const ws = await openWs({ ...bearer(clientUser), 'x-community-ids': outsider.communityId });
    expect(await subscribeWs(ws, NotificationAdded)).toEqual([
      { errors: [expect.objectContaining({ message: expect.stringMatching(/^X-Community-Ids: unknown community/) })] },
    ]);
    // A value that is no community id at all is a 400 too.
    const garbage = await withHeader(randomId('Collection'));
    expect(garbage.status).toBe(400);
    expect(garbage.json.errors?.[0].message).toMatch(/X-Community-Ids: .* is not a community id/);
  });

  it('X-Community-Ids naming communities of the caller narrows what it reads and may change', async () => {
    const { mssp, collections, clientUser } = await msspTree();
    const ids = async (client: Client) =>
      (await client.gql(Collections, { first: 100 })).collections.edges.map((e) => e.node.id).sort();
    const communities = async (client: Client) => (await client.gql(VisibleLists)).communities.map((c) => c.id);

    const clientOne = mssp.client.withCommunities(mssp.childIds[0]);
    expect(await ids(clientOne)).toEqual([collections.own, collections.shared].sort());
    expect(await communities(clientOne)).toEqual([mssp.childIds[0]]);
    const top = mssp.client.withCommunities(mssp.communityId);
    expect(await ids(top)).toEqual([collections.shared, collections.private].sort());
    expect(await communities(top)).toEqual([mssp.communityId]);
    expect(await ids(clientUser.withCommunities(mssp.childIds[0]))).toEqual(
      [collections.own, collections.shared].sort(),
    );

    // Acting as client one only, the MSSP user reads the shared collection but cannot change it there.
    const rename = await clientOne.gql(UpdateCollection, { input: { id: collections.shared, name: 'from below' } });
    expectMember(rename.updateCollection, 'ForbiddenError');
    const hidden = await clientOne.execute(UpdateCollection, {
      input: { id: collections.sibling, name: 'from below' },
    });
    expect(hidden.data?.updateCollection).toMatchObject(NOT_FOUND('Collection'));
  });
});

// ---------------------------------------------------------------------------------------

interface IdArgument {
  name: string;
  /** The type the argument takes ('Node': any). */
  expects: string;
  run: (
    client: Client,
    id: string,
    own: { collectionId: string },
  ) => Promise<{ status: number; body: string; json: unknown }>;
}

const ID_ARGUMENTS: IdArgument[] = [
  { name: 'node(id)', expects: 'Node', run: (c, id) => ask(c, NodeQuery, { id }) },
  { name: 'nodes(ids)', expects: 'Node', run: (c, id) => ask(c, NodesQuery, { ids: [id] }) },
  { name: 'collections(communityId)', expects: 'Community', run: (c, id) => ask(c, Collections, { communityId: id }) },
  {
    name: 'Collection.indicators(threatIds)',
    expects: 'Threat',
    run: (c, id, own) => ask(c, CollectionIndicators, { id: own.collectionId, threatIds: [id] }),
  },
  {
    name: 'createCollection.communityId',
    expects: 'Community',
    run: (c, id) => ask(c, CreateCollection, { input: { communityId: id, name: 'x' } }),
  },
  {
    name: 'updateCollection.id',
    expects: 'Collection',
    run: (c, id) => ask(c, UpdateCollection, { input: { id, name: 'x' } }),
  },
  {
    name: 'importIndicatorsFromText.collectionId',
    expects: 'Collection',
    run: (c, id) => ask(c, ImportText, { input: { collectionId: id, text: '192.0.2.1' } }),
  },
  {
    name: 'importIndicatorsFromText.properties.threatIds',
    expects: 'Threat',
    run: (c, id, own) =>
      ask(c, ImportText, {
        input: { collectionId: own.collectionId, text: '192.0.2.1', properties: { threatIds: [id] } },
      }),
  },
  {
    name: 'updateIndicator.id',
    expects: 'Indicator',
    run: (c, id) => ask(c, UpdateIndicator, { input: { id, description: 'x' } }),
  },
  { name: 'revokeIndicator.id', expects: 'Indicator', run: (c, id) => ask(c, RevokeIndicator, { input: { id } }) },
  {
    name: 'markNotificationsRead.ids',
    expects: 'Notification',
    run: (c, id) => ask(c, MarkNotificationsRead, { input: { ids: [id] } }),
  },
  {
    name: 'importJobUpdated(id) over SSE',
    expects: 'ImportJob',
    run: async (c, id) => {
      const { status, body, events } = await subscribeSse(c, ImportJobUpdated, { id });
      return { status, body, json: events[0] };
    },
  },
];

const BAD_IDS: {
  name: string;
  id: (own: { communityId: string; collectionId: string; userRawId: string }, expects: string) => string;
}[] = [
  {
    // A real object of the caller's own, of the wrong type (for node: a type that is no Node at all).
    name: 'an id of another type',
    id: (own, expects) =>
      expects === 'Node'
        ? toGlobalId('User', own.userRawId)
        : expects === 'Collection'
          ? own.communityId
          : own.collectionId,
  },
  { name: 'an id of an unknown type', id: () => randomId('Nope') },
  { name: 'not base64', id: () => '%%% not base64 %%%' },
  { name: 'a 10 kB string', id: () => 'Q29sbGVjdGlvbj'.repeat(732) },
  { name: 'a type without uuid', id: () => toGlobalId('Collection', '42') },
  { name: 'empty', id: () => '' },
];

describe('malformed and wrong-type ids', () => {
  it.each(
    ID_ARGUMENTS.flatMap((argument) =>
      BAD_IDS.map((bad) => ({ ...argument, bad, label: `${argument.name} given ${bad.name}` })),
    ),
  )('$label is a clear BAD_USER_INPUT error, never a 500 and never data', async ({ run, expects, bad }) => {
    const owner = await createTenant(app);
    const collection = await createCollection(owner.client, { communityId: owner.communityId, name: unique('c') });
    const own = { communityId: owner.communityId, collectionId: collection.id, userRawId: owner.client.userId };
    const answer = await run(owner.client, bad.id(own, expects), own);
    const { data, errors } = answer.json as {
      data?: Record<string, unknown> | null;
      errors?: RawAnswer<unknown>['json']['errors'];
    };

    expect(answer.status).toBeLessThan(500);
    expect(errors, answer.body).toHaveLength(1);
    expect(errors![0].extensions?.code, answer.body).toBe('BAD_USER_INPUT');
    expect(errors![0].message).not.toBe('Unexpected error.');
    expect(errors![0].message.length).toBeLessThan(300);
    expect(Object.values(data ?? {}).filter((value) => value !== null)).toEqual([]);
    expect(await prisma.collection.count({ where: { communityId: owner.communityRawId } })).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------

describe('authentication and roles', () => {
  const Me = graphql(`
    query TenancyMe {
      viewer {
        id
      }
    }
  `);

  it('answers 401 without a key, with an unknown key and with a revoked key', async () => {
    const { client } = await createTenant(app);
    expect((await ask(client, Me)).status).toBe(200);
    const key = await prisma.apiKey.findFirstOrThrow({ where: { userId: client.userId } });

    const missing = await post({}, Me);
    expect(missing.status).toBe(401);
    expect(missing.json).toEqual({
      errors: [expect.objectContaining({ message: expect.stringMatching(/Missing API key/) })],
    });
    const unknown = await post({ authorization: `Bearer ioc_${randomUUID()}` }, Me);
    expect(unknown.status).toBe(401);
    expect(unknown.json.data ?? null).toBeNull();

    await prisma.apiKey.update({ where: { id: key.id }, data: { revokedAt: new Date() } });
    const revoked = await ask(client, Me);
    expect(revoked).toEqual(unknown);
  });

  it('closes a WebSocket without a valid key before any operation (4403)', async () => {
    const { client } = await createTenant(app);
    for (const connectionParams of [{}, { authorization: 'Bearer ioc_nope' }]) {
      const ws = await openWs(connectionParams);
      expect(await subscribeWs(ws, NotificationAdded)).toEqual([{ closed: expect.objectContaining({ code: 4403 }) }]);
    }
    await prisma.apiKey.updateMany({ where: { userId: client.userId }, data: { revokedAt: new Date() } });
    const ws = await openWs(bearer(client));
    expect(await subscribeWs(ws, NotificationAdded)).toEqual([{ closed: expect.objectContaining({ code: 4403 }) }]);
  });

  const MANAGE_MUTATIONS = MUTATIONS.filter((m) => m.name !== 'markNotificationsRead(ids)');

  // The permission is checked in the community of the object: managing another community does not help.
  const VIEWERS = [
    { viewer: 'a viewer', adminElsewhere: false },
    { viewer: 'a viewer who is admin of another community', adminElsewhere: true },
  ];

  it.each(VIEWERS.flatMap((v) => MANAGE_MUTATIONS.map((m) => ({ ...v, ...m }))))(
    '$viewer gets a ForbiddenError from $name and changes nothing',
    async ({ adminElsewhere, ...m }) => {
      const tenant = await populatedTenant();
      const elsewhere = adminElsewhere
        ? [{ communityId: (await createTenant(app)).communityRawId, role: 'admin' as const }]
        : [];
      const viewer = await createUser(app, [{ communityId: tenant.communityRawId, role: 'viewer' }, ...elsewhere]);
      const before = await storedState(tenant);
      const answer = await m.run(viewer, m.id(tenant));
      expect(answer.json.errors).toBeUndefined();
      expect(payloadOf(answer)).toMatchObject({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
      expect(await storedState(tenant)).toEqual(before);
    },
  );
});

// ---------------------------------------------------------------------------------------
// Telemetry reports: the same rules for reports, their subscription, their heatmap
// endpoint and the notifications they leave.

const TelemetryReportUpdated = graphql(`
  subscription TenancyTelemetryReportUpdated($id: ID!) {
    telemetryReportUpdated(id: $id) {
      id
      status
      indicatorsSeen
      collection {
        id
      }
    }
  }
`);

const TelemetryReportNode = graphql(`
  query TenancyTelemetryReportNode($id: ID!) {
    node(id: $id) {
      __typename
      id
      ... on TelemetryReport {
        status
        indicatorsSeen
        communities {
          id
        }
        entries(first: 10) {
          totalCount
          edges {
            node {
              sightings
              indicator {
                value
              }
            }
          }
        }
      }
    }
  }
`);

const CollectionTelemetryReports = graphql(`
  query TenancyCollectionTelemetryReports($id: ID!) {
    node(id: $id) {
      ... on Collection {
        latestTelemetryReport {
          id
        }
        telemetryReports(first: 100) {
          totalCount
          edges {
            node {
              id
            }
          }
        }
      }
    }
  }
`);

/** The observable of IMPORT_TEXT that every tenant's events carry. */
const SEEN_IP = '198.51.100.7';

/** Events of the tenant's (one community) carrying SEEN_IP; all must be accepted. */
async function sendSeen(client: Client, count = 1) {
  const events = Array.from({ length: count }, (_, i) => ({
    '@timestamp': daysAgo(1, 8 + i),
    'source.ip': SEEN_IP,
  }));
  expect(await sendEvents(client, events)).toMatchObject({ status: 200, accepted: count, rejected: 0 });
}

/** Generates a report and waits for it and for its notification. */
async function readyReport(client: Client, collectionId: string) {
  const report = await waitForReport(client, (await generateReport(client, collectionId)).id);
  expect(report.status).toBe('SUCCEEDED');
  const rawId = fromGlobalId(report.id).id!;
  const notification = await waitFor(() => prisma.notification.findFirst({ where: { subjectId: rawId } }), {
    what: 'the report notification',
  });
  const [entry] = report.entries.edges.map((e) => e.node);
  return {
    id: report.id,
    notificationId: toGlobalId('Notification', notification.id),
    notificationTitle: notification.title,
    heatmapUrl: entry.heatmapSvgUrl,
    indicatorId: entry.indicator.id,
  };
}

/** A populated tenant whose events saw SEEN_IP twice, with a ready report on its collection. */
async function tenantWithReport() {
  const tenant = await populatedTenant();
  await sendSeen(tenant.client, 2);
  const report = await readyReport(tenant.client, tenant.collectionId);
  const ids = [report.id, report.notificationId];
  return {
    ...tenant,
    report,
    traces: [...tenant.traces, ...ids, ...ids.map((id) => fromGlobalId(id).id!), report.notificationTitle],
  };
}

/** A plain GET of an /api path: status and body, which "answers alike" compares. */
async function getPath(client: Client, path: string) {
  const response = await client.request(path);
  return { status: response.status, body: await response.text() };
}

const heatmapPath = (reportId: string, indicatorId: string) =>
  `/api/telemetry-reports/${reportId}/heatmaps/${indicatorId}.svg`;

describe('telemetry reports', () => {
  it("node(id) and nodes(ids) of another tenant's TelemetryReport answer exactly like a random id", async () => {
    const [a, b] = await Promise.all([tenantWithReport(), tenantWithReport()]);
    const own = await a.client.gql(TelemetryReportNode, { id: a.report.id });
    expect(own.node).toMatchObject({
      __typename: 'TelemetryReport',
      id: a.report.id,
      entries: { totalCount: 1, edges: [{ node: { sightings: 2, indicator: { value: SEEN_IP } } }] },
    });
    const missing = randomId('TelemetryReport');

    const foreign = await ask(a.client, TelemetryReportNode, { id: b.report.id });
    expect(foreign).toEqual(await ask(a.client, TelemetryReportNode, { id: missing }));
    expect(foreign.body).toBe('{"data":{"node":null}}');
    expect(await ask(a.client, NodeQuery, { id: b.report.id })).toEqual(
      await ask(a.client, NodeQuery, { id: missing }),
    );

    const foreignNodes = await ask(a.client, NodesQuery, { ids: [b.report.id, a.report.id] });
    expect(foreignNodes).toEqual(await ask(a.client, NodesQuery, { ids: [missing, a.report.id] }));
    expect(foreignNodes.json.data?.nodes.map((n) => n?.id ?? null)).toEqual([null, a.report.id]);
    expectNoTrace(foreignNodes.body, b);
  });

  it("generateTelemetryReport with another tenant's collection answers like a random id and makes no report", async () => {
    const { a, b } = await twoTenants();
    const reportsOf = (t: PopulatedTenant) =>
      prisma.telemetryReport.count({ where: { collectionId: fromGlobalId(t.collectionId).id } });
    const generate = (collectionId: string) => ask(a.client, GenerateTelemetryReport, { input: { collectionId } });

    const foreign = await generate(b.collectionId);
    expect(foreign).toEqual(await generate(randomId('Collection')));
    expect(foreign.json.errors).toBeUndefined();
    expect(payloadOf(foreign)).toMatchObject(NOT_FOUND('Collection'));
    expectNoTrace(foreign.body, b);
    expect(await reportsOf(b)).toBe(0);
    expect(await reportsOf(a)).toBe(0);
    // The id was real: its owner gets a report.
    expect(
      payloadOf(await ask(b.client, GenerateTelemetryReport, { input: { collectionId: b.collectionId } })),
    ).toMatchObject({ __typename: 'GenerateTelemetryReportSuccess' });
  });

  it("telemetryReportUpdated with another tenant's report fails like a random id, over SSE and graphql-ws", async () => {
    const [a, b] = await Promise.all([tenantWithReport(), tenantWithReport()]);
    const missing = randomId('TelemetryReport');
    const notFound = [
      {
        errors: [expect.objectContaining({ message: 'TelemetryReport not found', extensions: { code: 'NOT_FOUND' } })],
      },
    ];

    const foreignSse = await subscribeSse(a.client, TelemetryReportUpdated, { id: b.report.id });
    expect(foreignSse).toEqual(await subscribeSse(a.client, TelemetryReportUpdated, { id: missing }));
    expect(foreignSse.events).toEqual(notFound);

    const ws = await openWs(bearer(a.client));
    const foreignWs = await subscribeWs(ws, TelemetryReportUpdated, { id: b.report.id });
    expect(foreignWs).toEqual(await subscribeWs(ws, TelemetryReportUpdated, { id: missing }));
    expect(foreignWs).toEqual(notFound);
    expectNoTrace(JSON.stringify([foreignSse, foreignWs]), b);

    // Its owner follows it: the ready report once, then the stream completes.
    expect((await subscribeSse(b.client, TelemetryReportUpdated, { id: b.report.id })).events).toEqual([
      {
        data: {
          telemetryReportUpdated: {
            id: b.report.id,
            status: 'SUCCEEDED',
            indicatorsSeen: 1,
            collection: { id: b.collectionId },
          },
        },
      },
    ]);
  });

  it("the heatmap endpoint answers another tenant's report and indicator ids exactly like random ones: 404", async () => {
    const [a, b] = await Promise.all([tenantWithReport(), tenantWithReport()]);
    expect((await getPath(b.client, b.report.heatmapUrl)).status).toBe(200);
    expect((await getPath(a.client, a.report.heatmapUrl)).status).toBe(200);

    const missing = await getPath(a.client, heatmapPath(randomId('TelemetryReport'), randomId('Indicator')));
    expect(missing.status).toBe(404);
    for (const path of [
      b.report.heatmapUrl,
      heatmapPath(b.report.id, a.report.indicatorId),
      heatmapPath(a.report.id, b.report.indicatorId),
    ]) {
      const foreign = await getPath(a.client, path);
      expect(foreign, path).toEqual(missing);
      expectNoTrace(foreign.body, b);
    }
  });

  it("a sub-community sees only reports over its own telemetry, not over the MSSP's or a sibling's", async () => {
    const { mssp, collections, clientUser } = await msspTree();
    await importText(mssp.client, collections.shared, SEEN_IP);
    const [top, one, two] = [mssp.communityId, ...mssp.childIds];
    for (const community of [top, one, two]) await sendSeen(mssp.client.withCommunities(community));

    // The MSSP asks for reports on its shared collection: over client one only (first, so
    // that it is not the newest), over everything, over itself, over the sibling.
    const ownOnly = await readyReport(mssp.client.withCommunities(one), collections.shared);
    const hidden = {
      everything: await readyReport(mssp.client, collections.shared),
      msspOnly: await readyReport(mssp.client.withCommunities(top), collections.shared),
      siblingOnly: await readyReport(mssp.client.withCommunities(two), collections.shared),
    };

    const mine = await clientUser.gql(TelemetryReportNode, { id: ownOnly.id });
    expect(mine.node).toMatchObject({
      id: ownOnly.id,
      communities: [{ id: one }],
      entries: { edges: [{ node: { sightings: 1 } }] },
    });
    expect((await getPath(clientUser, ownOnly.heatmapUrl)).status).toBe(200);

    const missing = randomId('TelemetryReport');
    const missingHeatmap = await getPath(clientUser, heatmapPath(missing, ownOnly.indicatorId));
    for (const [name, report] of Object.entries(hidden)) {
      const answer = await ask(clientUser, TelemetryReportNode, { id: report.id });
      expect(answer, name).toEqual(await ask(clientUser, TelemetryReportNode, { id: missing }));
      expect(answer.json.data?.node, name).toBeNull();
      expect(await getPath(clientUser, report.heatmapUrl), name).toEqual(missingHeatmap);
      expect(await subscribeSse(clientUser, TelemetryReportUpdated, { id: report.id }), name).toEqual(
        await subscribeSse(clientUser, TelemetryReportUpdated, { id: missing }),
      );
      // Its notification went to the MSSP user, not to the client's.
      expect(await ask(clientUser, NodeQuery, { id: report.notificationId })).toEqual(
        await ask(clientUser, NodeQuery, { id: randomId('Notification') }),
      );
    }
    const listed = await clientUser.gql(CollectionTelemetryReports, { id: collections.shared });
    expect(listed.node).toEqual({
      latestTelemetryReport: { id: ownOnly.id },
      telemetryReports: { totalCount: 1, edges: [{ node: { id: ownOnly.id } }] },
    });
    // The MSSP user sees all four.
    const all = await mssp.client.gql(CollectionTelemetryReports, { id: collections.shared });
    expect(all.node).toMatchObject({ telemetryReports: { totalCount: 4 } });

    // The client's own report on the shared collection covers its own community only.
    const report = await generateReport(clientUser, collections.shared);
    expect(report.communities).toEqual([{ id: one }]);
  });

  it('report notifications of one tenant never reach another: not in lists, counts, node or notificationAdded', async () => {
    const [a, b] = await Promise.all([populatedTenant(), populatedTenant()]);
    await Promise.all([sendSeen(a.client), sendSeen(b.client)]);
    const fromA = record(await openWs(bearer(a.client)), NotificationAdded);
    // Live once something sent after it has arrived.
    await waitFor(
      async () => {
        await notify(app.services, {
          userId: a.client.userId,
          communityId: a.communityRawId,
          kind: 'IMPORT_FINISHED',
          title: 'warm-up',
        });
        await sleep(150);
        return fromA.length > 0;
      },
      { what: 'the subscription to be live' },
    );

    // B's report is ready first; A's after it, on the same ordered channel.
    const reportOfB = await readyReport(b.client, b.collectionId);
    const reportOfA = await readyReport(a.client, a.collectionId);
    const titles = () => fromA.map((r) => r.data?.notificationAdded.title);
    await waitFor(async () => titles().includes(reportOfA.notificationTitle), { what: "A's notification" });
    expect(titles().filter((t) => t !== 'warm-up')).toEqual([reportOfA.notificationTitle]);
    expect(JSON.stringify(fromA)).not.toContain(reportOfB.notificationId);

    const lists = await ask(a.client, VisibleLists);
    const warmUps = await prisma.notification.count({ where: { userId: a.client.userId, title: 'warm-up' } });
    const listed = lists.json.data!.notifications.edges.map((e) => e.node).filter((n) => n.title !== 'warm-up');
    expect(listed.map((n) => n.id).sort()).toEqual([a.notificationId, reportOfA.notificationId].sort());
    expect(lists.json.data?.unreadNotificationCount).toBe(2 + warmUps);
    expectNoTrace(lists.body, b);
    expect(lists.body).not.toContain(reportOfB.id);
    expect(await ask(a.client, NodeQuery, { id: reportOfB.notificationId })).toEqual(
      await ask(a.client, NodeQuery, { id: randomId('Notification') }),
    );
  });
});

// ---------------------------------------------------------------------------------------
// Detection: rules, retrohunts and alerts follow the same rules, on every path.

graphql(`
  fragment TenancyDetectionFields on Node {
    __typename
    id
    ... on DetectionRule {
      name
      enabled
      collection {
        id
      }
    }
    ... on Retrohunt {
      jobStatus: status
      matches
      rule {
        id
      }
    }
    ... on Alert {
      field
      value
      count
      status
      community {
        id
      }
    }
  }
`);

const DetectionNode = graphql(`
  query TenancyDetectionNode($id: ID!) {
    node(id: $id) {
      ...TenancyDetectionFields
    }
  }
`);

const DetectionNodes = graphql(`
  query TenancyDetectionNodes($ids: [ID!]!) {
    nodes(ids: $ids) {
      ...TenancyDetectionFields
    }
  }
`);

const DetectionAlerts = graphql(`
  query TenancyAlerts($collectionId: ID, $ruleId: ID) {
    alerts(first: 100, collectionId: $collectionId, ruleId: $ruleId) {
      totalCount
      edges {
        node {
          id
          value
          community {
            id
          }
        }
      }
    }
  }
`);

const UpdateAlertStatus = graphql(`
  mutation TenancyUpdateAlertStatus($input: UpdateAlertStatusInput!) {
    updateAlertStatus(input: $input) {
      __typename
      ... on UpdateAlertStatusSuccess {
        alert {
          id
          status
        }
      }
      ...MutationError
    }
  }
`);

const RetrohuntUpdated = graphql(`
  subscription TenancyRetrohuntUpdated($id: ID!) {
    retrohuntUpdated(id: $id) {
      id
      status
      matches
      rule {
        id
      }
    }
  }
`);

/** The observable every detection tenant watches and sees: isolation must hold by owner, not by value. */
const WATCHED_IP = '198.51.100.99';

/** Creates a rule (which must succeed) and waits for its retrohunt to end; answers both ids. */
async function ruleWithRetrohunt(client: Client, collectionId: string) {
  const created = await client.gql(CreateDetectionRule, { input: { collectionId } });
  const rule = expectMember(created.createDetectionRule, 'CreateDetectionRuleSuccess').detectionRule;
  const retrohuntId = rule.latestRetrohunt!.id;
  await waitFor(
    async () => {
      const { node } = await client.gql(DetectionNode, { id: retrohuntId });
      return node && 'matches' in node && (node.jobStatus === 'SUCCEEDED' || node.jobStatus === 'FAILED');
    },
    { what: `retrohunt ${retrohuntId}` },
  );
  return { ruleId: rule.id, retrohuntId };
}

/** A tenant whose rule's retrohunt found WATCHED_IP in an event stored before the rule: one alert. */
async function detectionTenant() {
  const tenant = await createTenant(app);
  const collection = await createCollection(tenant.client, { communityId: tenant.communityId, name: unique('watch') });
  await importText(tenant.client, collection.id, WATCHED_IP, { validFrom: daysAgo(5) });
  expect(await sendEvents(tenant.client, [{ '@timestamp': daysAgo(1), 'destination.ip': WATCHED_IP }])).toMatchObject({
    accepted: 1,
  });
  const { ruleId, retrohuntId } = await ruleWithRetrohunt(tenant.client, collection.id);
  const { alerts } = await tenant.client.gql(DetectionAlerts, {});
  expect(alerts.totalCount).toBe(1);
  const alertId = alerts.edges[0].node.id;
  const ids = [collection.id, ruleId, retrohuntId, alertId];
  return {
    ...tenant,
    collectionId: collection.id,
    ruleId,
    retrohuntId,
    alertId,
    /** Everything of this tenant's detection a leak would show. */
    traces: [...ids, ...ids.map((id) => fromGlobalId(id).id!), collection.name],
  };
}
type DetectionTenant = Awaited<ReturnType<typeof detectionTenant>>;

/** Detection rows of the tenant's communities, as stored: compared before and after another's attempts. */
async function storedDetection(tenant: Tenant) {
  const communityId = { in: [tenant.communityRawId, ...tenant.childRawIds] };
  const [rules, retrohunts, alerts] = await Promise.all([
    prisma.detectionRule.findMany({ where: { collection: { communityId } }, orderBy: { id: 'asc' } }),
    prisma.retrohunt.findMany({ where: { rule: { collection: { communityId } } }, orderBy: { id: 'asc' } }),
    prisma.alert.findMany({ where: { communityId }, orderBy: { id: 'asc' } }),
  ]);
  return { rules, retrohunts, alerts };
}

const noTraceOf = (body: string, of: { traces: string[] }) => {
  for (const trace of of.traces) expect(body, `the answer mentions "${trace}"`).not.toContain(trace);
};

const DETECTION_NODES = [
  { type: 'DetectionRule', of: (t: DetectionTenant) => t.ruleId },
  { type: 'Retrohunt', of: (t: DetectionTenant) => t.retrohuntId },
  { type: 'Alert', of: (t: DetectionTenant) => t.alertId },
];

interface DetectionMutation {
  name: string;
  type: string;
  id: (t: DetectionTenant) => string;
  run: (client: Client, id: string) => Promise<RawAnswer<unknown>>;
  outsider: Record<string, unknown>;
  owner: string;
}

const DETECTION_MUTATIONS: DetectionMutation[] = [
  {
    name: 'createDetectionRule(collectionId)',
    type: 'Collection',
    id: (t) => t.collectionId,
    run: (client, collectionId) => ask(client, CreateDetectionRule, { input: { collectionId, name: 'planted' } }),
    outsider: NOT_FOUND('Collection'),
    owner: 'CreateDetectionRuleSuccess',
  },
  {
    name: 'updateDetectionRule(id)',
    type: 'DetectionRule',
    id: (t) => t.ruleId,
    run: (client, id) => ask(client, UpdateDetectionRule, { input: { id, name: 'hijacked', enabled: false } }),
    outsider: NOT_FOUND('DetectionRule'),
    owner: 'UpdateDetectionRuleSuccess',
  },
  {
    name: 'updateAlertStatus(id)',
    type: 'Alert',
    id: (t) => t.alertId,
    run: (client, id) => ask(client, UpdateAlertStatus, { input: { id, status: 'CLOSED' } }),
    outsider: NOT_FOUND('Alert'),
    owner: 'UpdateAlertStatusSuccess',
  },
];

describe('detection', () => {
  it.each(DETECTION_NODES)(
    "node(id) of another tenant's $type answers exactly like a random $type id",
    async ({ type, of }) => {
      const [a, b] = await Promise.all([detectionTenant(), detectionTenant()]);
      expect((await b.client.gql(DetectionNode, { id: of(b) })).node).toMatchObject({ __typename: type, id: of(b) });
      expect((await a.client.gql(DetectionNode, { id: of(a) })).node).toMatchObject({ __typename: type, id: of(a) });

      const foreign = await ask(a.client, DetectionNode, { id: of(b) });
      expect(foreign).toEqual(await ask(a.client, DetectionNode, { id: randomId(type) }));
      expect(foreign.body).toBe('{"data":{"node":null}}');
    },
  );

  it("nodes(ids) leaves another tenant's rules, retrohunts and alerts out, exactly like random ids", async () => {
    const [a, b] = await Promise.all([detectionTenant(), detectionTenant()]);
    const own = DETECTION_NODES.map(({ of }) => of(a));
    const foreign = await ask(a.client, DetectionNodes, { ids: [...DETECTION_NODES.map(({ of }) => of(b)), ...own] });
    const missing = await ask(a.client, DetectionNodes, {
      ids: [...DETECTION_NODES.map(({ type }) => randomId(type)), ...own],
    });
    expect(foreign).toEqual(missing);
    expect(foreign.json.data?.nodes.map((n) => n?.__typename ?? null)).toEqual([
      null,
      null,
      null,
      'DetectionRule',
      'Retrohunt',
      'Alert',
    ]);
    noTraceOf(foreign.body, b);
  });

  it.each(DETECTION_MUTATIONS)(
    "$name with another tenant's id answers like a random id and changes nothing",
    async (m) => {
      const [a, b] = await Promise.all([detectionTenant(), detectionTenant()]);
      const before = await storedDetection(b);
      const foreign = await m.run(a.client, m.id(b));
      expect(foreign).toEqual(await m.run(a.client, randomId(m.type)));
      expect(foreign.json.errors).toBeUndefined();
      expect(payloadOf(foreign)).toMatchObject(m.outsider);
      noTraceOf(foreign.body, b);
      expect(await storedDetection(b)).toEqual(before);
      expect(payloadOf(await m.run(b.client, m.id(b)))).toMatchObject({ __typename: m.owner });
    },
  );

  it("the alerts connection never lists another tenant's alerts, whatever the filter", async () => {
    const [a, b] = await Promise.all([detectionTenant(), detectionTenant()]);
    const all = await ask(a.client, DetectionAlerts, {});
    expect(all.json.data?.alerts).toEqual({
      totalCount: 1,
      edges: [{ node: { id: a.alertId, value: WATCHED_IP, community: { id: a.communityId } } }],
    });
    noTraceOf(all.body, b);
    const byCollection = await ask(a.client, DetectionAlerts, { collectionId: b.collectionId });
    expect(byCollection).toEqual(await ask(a.client, DetectionAlerts, { collectionId: randomId('Collection') }));
    expect(byCollection.json.data?.alerts.totalCount).toBe(0);
    const byRule = await ask(a.client, DetectionAlerts, { ruleId: b.ruleId });
    expect(byRule).toEqual(await ask(a.client, DetectionAlerts, { ruleId: randomId('DetectionRule') }));
    expect(byRule.json.data?.alerts.totalCount).toBe(0);
  });

  it("a sub-community sees its own alerts of the MSSP's shared rule, never its sibling's", async () => {
    const { mssp, collections, clientUser } = await msspTree();
    const sibling = await createUser(app, [{ communityId: mssp.childRawIds[1], role: 'admin' }]);
    await importText(mssp.client, collections.shared, WATCHED_IP, { validFrom: daysAgo(5) });
    const { ruleId } = await ruleWithRetrohunt(mssp.client, collections.shared);
    // Client one's own collection and rule, which its sibling cannot see either.
    await importText(clientUser, collections.own, WATCHED_IP, { validFrom: daysAgo(5) });
    const own = await ruleWithRetrohunt(clientUser, collections.own);
    const [one, two] = mssp.childIds;
    for (const community of [one, two]) {
      await sendEvents(mssp.client.withCommunities(community), [{ '@timestamp': daysAgo(1), 'source.ip': WATCHED_IP }]);
    }
    const alertsOf = async (client: Client) => (await client.gql(DetectionAlerts, {})).alerts.edges.map((e) => e.node);
    const all = await alertsOf(mssp.client);
    expect(all).toHaveLength(3);
    const alertOf = (community: string) => all.find((x) => x.community.id === community && x.value === WATCHED_IP)!;

    const mine = await alertsOf(clientUser);
    expect(mine.map((x) => x.community.id)).toEqual([one, one]);
    const theirs = await alertsOf(sibling);
    expect(theirs.map((x) => x.community.id)).toEqual([two]);
    const siblingAlert = theirs[0].id;
    expect(mine.map((x) => x.id)).not.toContain(siblingAlert);
    expect(alertOf(two).id).toBe(siblingAlert);

    for (const [id, type] of [
      [siblingAlert, 'Alert'],
      [own.ruleId, 'DetectionRule'],
      [own.retrohuntId, 'Retrohunt'],
    ] as const) {
      const viewer = id === siblingAlert ? clientUser : sibling;
      expect(await ask(viewer, DetectionNode, { id })).toEqual(
        await ask(viewer, DetectionNode, { id: randomId(type) }),
      );
    }
    const close = (client: Client, id: string) => ask(client, UpdateAlertStatus, { input: { id, status: 'CLOSED' } });
    expect(await close(clientUser, siblingAlert)).toEqual(await close(clientUser, randomId('Alert')));
    expect(payloadOf(await close(clientUser, siblingAlert))).toMatchObject(NOT_FOUND('Alert'));
    expect(await prisma.alert.findUniqueOrThrow({ where: { id: fromGlobalId(siblingAlert).id } })).toMatchObject({
      status: 'OPEN',
    });
    // Filtering on the shared collection or its rule does not widen the view.
    for (const filter of [{ collectionId: collections.shared }, { ruleId }]) {
      const seen = await clientUser.gql(DetectionAlerts, filter);
      expect(seen.alerts.edges.map((e) => e.node.community.id)).toEqual([one]);
    }
  });

  it("a sub-community sees the MSSP's shared rule but not its retrohunts, which count every community's events", async () => {
    const { mssp, collections, clientUser } = await msspTree();
    await importText(mssp.client, collections.shared, WATCHED_IP, { validFrom: daysAgo(5) });
    // Events of the sibling (and of the MSSP itself) that the retrohunt will count.
    for (const community of [mssp.communityId, mssp.childIds[1]]) {
      await sendEvents(mssp.client.withCommunities(community), [{ '@timestamp': daysAgo(1), 'source.ip': WATCHED_IP }]);
    }
    const { ruleId, retrohuntId } = await ruleWithRetrohunt(mssp.client, collections.shared);
    const RuleRetrohunts = graphql(`
      query TenancyRuleRetrohunts($id: ID!) {
        node(id: $id) {
          ... on DetectionRule {
            id
            latestRetrohunt {
              id
              matches
            }
            retrohunts(first: 10) {
              totalCount
              edges {
                node {
                  id
                  matches
                }
              }
            }
          }
        }
      }
    `);
    const owner = await mssp.client.gql(RuleRetrohunts, { id: ruleId });
    expect(owner.node).toMatchObject({
      latestRetrohunt: { id: retrohuntId, matches: 2 },
      retrohunts: { totalCount: 1 },
    });

    const below = await ask(clientUser, RuleRetrohunts, { id: ruleId });
    expect(below.json.data?.node).toEqual({
      id: ruleId,
      latestRetrohunt: null,
      retrohunts: { totalCount: 0, edges: [] },
    });
    const missing = randomId('Retrohunt');
    expect(await ask(clientUser, DetectionNode, { id: retrohuntId })).toEqual(
      await ask(clientUser, DetectionNode, { id: missing }),
    );
    expect(await subscribeSse(clientUser, RetrohuntUpdated, { id: retrohuntId })).toEqual(
      await subscribeSse(clientUser, RetrohuntUpdated, { id: missing }),
    );
    // The same for the MSSP's own user acting as the client.
    const asClient = { ...bearer(mssp.client), 'x-community-ids': mssp.childIds[0] };
    expect(await post(asClient, DetectionNode, { id: retrohuntId })).toEqual(
      await post(asClient, DetectionNode, { id: missing }),
    );
  });

  it("retrohuntUpdated with another tenant's retrohunt fails like a random id, over SSE and graphql-ws", async () => {
    const [a, b] = await Promise.all([detectionTenant(), detectionTenant()]);
    const missing = randomId('Retrohunt');
    const notFound = [
      { errors: [expect.objectContaining({ message: 'Retrohunt not found', extensions: { code: 'NOT_FOUND' } })] },
    ];
    const foreignSse = await subscribeSse(a.client, RetrohuntUpdated, { id: b.retrohuntId });
    expect(foreignSse).toEqual(await subscribeSse(a.client, RetrohuntUpdated, { id: missing }));
    expect(foreignSse.events).toEqual(notFound);

    const ws = await openWs(bearer(a.client));
    const foreignWs = await subscribeWs(ws, RetrohuntUpdated, { id: b.retrohuntId });
    expect(foreignWs).toEqual(await subscribeWs(ws, RetrohuntUpdated, { id: missing }));
    expect(foreignWs).toEqual(notFound);
    noTraceOf(JSON.stringify([foreignSse, foreignWs]), b);

    // Its owner follows it: the ended retrohunt once, then the stream completes.
    expect((await subscribeSse(b.client, RetrohuntUpdated, { id: b.retrohuntId })).events).toEqual([
      { data: { retrohuntUpdated: { id: b.retrohuntId, status: 'SUCCEEDED', matches: 1, rule: { id: b.ruleId } } } },
    ]);
  });
});
