// Ids across types (see test/tenancy-kit.ts): nodes(ids) leaves another tenant's objects of
// every kind out exactly like random ids, and every id argument answers a malformed or
// wrong-type id with a clear input error, never a 500 and never data.
import { describe, expect, it } from 'vitest';
import {
  Collections,
  CreateCollection,
  ImportJobUpdated,
  ImportText,
  Indicators,
  MarkNotificationsRead,
  Node,
  Nodes,
  RevokeIndicator,
  UpdateCollection,
  UpdateIndicator,
} from './documents.ts';
import { type Client, createCollection, createTenant, startTestApp, toGlobalId, unique } from './kit.ts';
import { ask, expectNoTrace, populatedNodes, randomId, type RawAnswer, sseAnswer, twoTenants } from './tenancy-kit.ts';

const app = await startTestApp();
const { prisma } = app.services;

const NODE_KINDS = populatedNodes('Community', 'Collection', 'Indicator', 'ImportJob', 'Notification');

describe('node and nodes', () => {
  it("nodes(ids) leaves every object of another tenant out, exactly like random ids, next to the caller's own", async () => {
    const [a, b] = await twoTenants(app);
    const own = NODE_KINDS.map(({ of }) => of(a));
    const foreign = await ask(a.client, Nodes, { ids: [...NODE_KINDS.map(({ of }) => of(b)), ...own] });
    const missing = await ask(a.client, Nodes, { ids: [...NODE_KINDS.map(({ type }) => randomId(type)), ...own] });
    expect(foreign).toEqual(missing);
    expect(foreign.json.data?.nodes.map((n) => n?.__typename ?? null)).toEqual([
      ...NODE_KINDS.map(() => null),
      ...NODE_KINDS.map(({ type }) => type),
    ]);
    expectNoTrace(foreign.body, b);
    // B asking for the same ids gets them all.
    const owner = await b.client.gql(Nodes, { ids: NODE_KINDS.map(({ of }) => of(b)) });
    expect(owner.nodes.map((n) => n?.id)).toEqual(NODE_KINDS.map(({ of }) => of(b)));
  });
});

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
  { name: 'node(id)', expects: 'Node', run: (c, id) => ask(c, Node, { id }) },
  { name: 'nodes(ids)', expects: 'Node', run: (c, id) => ask(c, Nodes, { ids: [id] }) },
  { name: 'collections(communityId)', expects: 'Community', run: (c, id) => ask(c, Collections, { communityId: id }) },
  {
    name: 'Collection.indicators(threatIds)',
    expects: 'Threat',
    run: (c, id, own) => ask(c, Indicators, { id: own.collectionId, first: 100, threatIds: [id] }),
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
      const { status, body, events } = await sseAnswer(c, ImportJobUpdated, { id });
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
