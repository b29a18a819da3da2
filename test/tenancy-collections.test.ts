// Tenant isolation of collections (see test/tenancy-kit.ts): foreign collections and
// communities answer like missing ones in node, lists and mutations; an MSSP shares a
// collection down to its sub-communities read-only, never sideways.
import { describe, expect, it } from 'vitest';
import {
  CollectionNode,
  Collections,
  CommunityNode,
  CreateCollection,
  ImportText,
  Node,
  UpdateCollection,
} from './documents.ts';
import { fromGlobalId, startTestApp } from './kit.ts';
import {
  ask,
  expectNoTrace,
  type MutationCase,
  msspTree,
  NOT_FOUND,
  payloadOf,
  type PopulatedTenant,
  populatedNodes,
  randomId,
  storedState,
  testForeignIdMutations,
  testForeignNodes,
  testViewerMutations,
  twoTenants,
} from './tenancy-kit.ts';

const app = await startTestApp();

const MUTATIONS: MutationCase<PopulatedTenant>[] = [
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
];

describe('collections', () => {
  testForeignNodes(() => twoTenants(app), populatedNodes('Collection'));

  it("the collections list holds the caller's collections only", async () => {
    const [a, b] = await twoTenants(app);
    const list = await ask(a.client, Collections, { first: 100 });
    expect(list.json.errors).toBeUndefined();
    expect(list.json.data?.collections).toMatchObject({
      totalCount: 1,
      edges: [{ node: { id: a.collectionId, name: expect.any(String), community: { id: a.communityId } } }],
    });
    expectNoTrace(list.body, b);
  });

  it("collections(communityId:) with another tenant's community answers like a random one: empty", async () => {
    const [a, b] = await twoTenants(app);
    const foreign = await ask(a.client, Collections, { communityId: b.communityId });
    expect(foreign).toEqual(await ask(a.client, Collections, { communityId: randomId('Community') }));
    expect(foreign.json.data?.collections.totalCount).toBe(0);
    expect((await b.client.gql(Collections, { communityId: b.communityId })).collections.totalCount).toBe(1);
  });

  testForeignIdMutations({ pair: () => twoTenants(app), stored: (t) => storedState(app, t) }, MUTATIONS);
  testViewerMutations(app, MUTATIONS);
});

describe('MSSP sub-communities', () => {
  it("a sub-community reads the MSSP's shared collection, but not its private ones nor a sibling's", async () => {
    const { mssp, collections, clientUser } = await msspTree(app);
    const seen = await clientUser.gql(Collections, { first: 100 });
    expect(seen.collections.edges.map((e) => e.node.id).sort()).toEqual([collections.own, collections.shared].sort());

    const shared = await clientUser.gql(Node, { id: collections.shared });
    expect(shared.node).toMatchObject({ __typename: 'Collection', id: collections.shared });
    for (const hidden of [collections.private, collections.sibling, mssp.childIds[1]]) {
      const type = fromGlobalId(hidden).type!;
      expect(await ask(clientUser, Node, { id: hidden })).toEqual(await ask(clientUser, Node, { id: randomId(type) }));
      expect((await ask(clientUser, Node, { id: hidden })).json.data?.node).toBeNull();
    }
    // The MSSP above is visible by name (it owns the shared collection), with no permission
    // there and none of its other sub-communities.
    const owner = await clientUser.gql(CommunityNode, { id: mssp.communityId });
    expect(owner.node).toMatchObject({ id: mssp.communityId, permissions: [], children: [{ id: mssp.childIds[0] }] });
    // The MSSP's own user sees all four.
    expect((await mssp.client.gql(Collections, { first: 100 })).collections.totalCount).toBe(4);
  });

  it("a sub-community cannot change the shared collection (forbidden), nor the MSSP's private or a sibling's (not found)", async () => {
    const { mssp, collections, clientUser } = await msspTree(app);
    const before = await storedState(app, mssp);
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
    expect(await storedState(app, mssp)).toEqual(before);
    const shared = await clientUser.gql(CollectionNode, { id: collections.shared });
    expect(shared.node).toMatchObject({ viewerCanManage: false });
  });
});
