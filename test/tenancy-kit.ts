// The tenant isolation matrix (test/tenancy-*.test.ts, one file per area): whatever one
// tenant (A) does with the ids of another (B), it learns nothing and changes nothing. A
// foreign id must answer exactly like a random (missing) id of the same type, on every path.
// Here: tenants with data of every kind, each made fresh by the test that uses it; raw
// answers (status and body text, which "answers alike" compares) over HTTP, SSE and
// graphql-ws; and the tests every area runs for its node types and mutations.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { createClient, type Client as WsClient } from 'graphql-ws';
import { randomUUID } from 'node:crypto';
import { expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { Node } from './documents.ts';
import {
  type Client,
  createCollection,
  createTenant,
  createUser,
  fromGlobalId,
  importIntoNewCollection,
  type TestApp,
  type Tenant,
  toGlobalId,
  unique,
  waitFor,
} from './kit.ts';

export const randomId = (type: string) => toGlobalId(type, randomUUID());

export const NOT_FOUND = (what: string) => ({
  __typename: 'NotFoundError',
  code: 'NOT_FOUND',
  message: `${what} not found`,
});

/** Fails if the answer mentions anything of the tenant's (ids, raw ids, names). */
export function expectNoTrace(body: string, of: { traces: string[] }) {
  for (const trace of of.traces) expect(body, `the answer mentions "${trace}"`).not.toContain(trace);
}

// ---------------------------------------------------------------------------------------
// Tenants with data

/** A tenant with one collection filled by a text import (3 indicators, 1 rejected line) and its notification. */
export interface PopulatedTenant extends Tenant {
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

export async function populatedTenant(
  app: TestApp,
  options: Parameters<typeof createTenant>[1] = {},
): Promise<PopulatedTenant> {
  const { prisma } = app.services;
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
export const twoTenants = (app: TestApp) => Promise.all([populatedTenant(app), populatedTenant(app)]);

/** Every row of the tenant's communities, as stored: compared before and after another's attempts. */
export async function storedState(app: TestApp, tenant: Tenant) {
  const { prisma } = app.services;
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

/** Where each kind of a populated tenant's objects is. */
const POPULATED_IDS = {
  Community: (t: PopulatedTenant) => t.communityId,
  Collection: (t: PopulatedTenant) => t.collectionId,
  Indicator: (t: PopulatedTenant) => t.indicatorId,
  ImportJob: (t: PopulatedTenant) => t.importJobId,
  Notification: (t: PopulatedTenant) => t.notificationId,
};

export interface NodeKind<T> {
  type: string;
  of: (tenant: T) => string;
}

/** The named kinds of a populated tenant's objects, with where to find each. */
export const populatedNodes = (...types: (keyof typeof POPULATED_IDS)[]): NodeKind<PopulatedTenant>[] =>
  types.map((type) => ({ type, of: POPULATED_IDS[type] }));

/** An MSSP with two client sub-communities and their collections, and a user of the first client. */
export async function msspTree(app: TestApp) {
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

// ---------------------------------------------------------------------------------------
// Raw answers

export interface RawAnswer<TData> {
  status: number;
  body: string;
  json: { data?: TData | null; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

export const bearer = (client: Client) => ({ authorization: `Bearer ${client.key}` });

/** An operation POSTed with exactly these headers. */
export async function post<TData, TVars>(
  app: TestApp,
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

/** An operation as the client asks it. */
export const ask = <TData, TVars>(client: Client, document: TypedDocumentNode<TData, TVars>, variables?: TVars) =>
  post(client.app, bearer(client), document, variables);

/** The one payload of a single-field operation (a mutation result union). */
export const payloadOf = (answer: RawAnswer<unknown>) =>
  Object.values((answer.json.data ?? {}) as Record<string, unknown>)[0] as Record<string, unknown> | null | undefined;

/** A subscription over Server-Sent Events, read until the server ends the stream: status, body and results. */
export async function sseAnswer<TData, TVars>(
  client: Client,
  document: TypedDocumentNode<TData, TVars>,
  variables: TVars,
) {
  const response = await client.app.yoga.fetch('http://yoga/graphql', {
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

/** A graphql-ws client of the app's real server, closed when the test ends. */
export async function openWs(app: TestApp, connectionParams: Record<string, unknown>): Promise<WsClient> {
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
export async function wsResults<TData, TVars>(
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

/** A subscription that keeps running in the background while the test acts: what it has received so far. */
export function recordWs<TData>(ws: WsClient, document: TypedDocumentNode<TData, Record<string, never>>) {
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
// The tests every area runs

/** node(id): for each kind, another tenant's object answers exactly like a random id of its type. */
export function testForeignNodes<T extends Tenant>(pair: () => Promise<[T, T]>, kinds: NodeKind<T>[]) {
  it.each(kinds)("node(id) of another tenant's $type answers exactly like a random $type id", async ({ type, of }) => {
    const [a, b] = await pair();
    // The ids are real: their owner reads them, and A reads its own of the same type.
    expect((await b.client.gql(Node, { id: of(b) })).node).toMatchObject({ __typename: type, id: of(b) });
    expect((await a.client.gql(Node, { id: of(a) })).node).toMatchObject({ __typename: type, id: of(a) });

    const foreign = await ask(a.client, Node, { id: of(b) });
    expect(foreign).toEqual(await ask(a.client, Node, { id: randomId(type) }));
    expect(foreign.body).toBe('{"data":{"node":null}}');
  });
}

export interface MutationCase<T> {
  name: string;
  /** Type of the id argument, for the random id. */
  type: string;
  id: (tenant: T) => string;
  run: (client: Client, id: string) => Promise<RawAnswer<unknown>>;
  /** What a caller who may not see the object gets (with B's id or a random one). */
  outsider: Record<string, unknown>;
  /** What B itself gets for the same call: proof that the id was real and usable. */
  owner: string;
}

/** For each mutation: another tenant's id answers like a random id and changes nothing; its owner's call goes through. */
export function testForeignIdMutations<T extends { client: Client; traces: string[] }>(
  world: { pair: () => Promise<[T, T]>; stored: (tenant: T) => Promise<unknown> },
  cases: MutationCase<T>[],
) {
  it.each(cases)("$name with another tenant's id answers like a random id and changes nothing", async (m) => {
    const [a, b] = await world.pair();
    const before = await world.stored(b);

    const foreign = await m.run(a.client, m.id(b));
    expect(foreign).toEqual(await m.run(a.client, randomId(m.type)));
    expect(foreign.json.errors).toBeUndefined();
    expect(payloadOf(foreign)).toMatchObject(m.outsider);
    expectNoTrace(foreign.body, b);
    expect(await world.stored(b)).toEqual(before);

    expect(payloadOf(await m.run(b.client, m.id(b)))).toMatchObject({ __typename: m.owner });
  });
}

/**
 * For each mutation: a viewer of the owning community gets a ForbiddenError and changes
 * nothing; the permission is checked in the community of the object, so managing another
 * community does not help.
 */
export function testViewerMutations(app: TestApp, cases: MutationCase<PopulatedTenant>[]) {
  const viewers = [
    { viewer: 'a viewer', adminElsewhere: false },
    { viewer: 'a viewer who is admin of another community', adminElsewhere: true },
  ];
  it.each(viewers.flatMap((v) => cases.map((m) => ({ ...v, ...m }))))(
    '$viewer gets a ForbiddenError from $name and changes nothing',
    async ({ adminElsewhere, ...m }) => {
      const tenant = await populatedTenant(app);
      const elsewhere = adminElsewhere
        ? [{ communityId: (await createTenant(app)).communityRawId, role: 'admin' as const }]
        : [];
      const viewer = await createUser(app, [{ communityId: tenant.communityRawId, role: 'viewer' }, ...elsewhere]);
      const before = await storedState(app, tenant);
      const answer = await m.run(viewer, m.id(tenant));
      expect(answer.json.errors).toBeUndefined();
      expect(payloadOf(answer)).toMatchObject({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
      expect(await storedState(app, tenant)).toEqual(before);
    },
  );
}
