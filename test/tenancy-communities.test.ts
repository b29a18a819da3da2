// Tenant isolation of communities (see test/tenancy-kit.ts): a foreign community answers like
// a missing one, lists hold the caller's communities only, and X-Community-Ids narrows what a
// caller acts on but never names a community it cannot see.
import { describe, expect, it } from 'vitest';
import { Collections, NotificationAdded, UpdateCollection, Viewer } from './documents.ts';
import { type Client, createTenant, expectMember, fromGlobalId, startTestApp } from './kit.ts';
import {
  ask,
  bearer,
  expectNoTrace,
  msspTree,
  NOT_FOUND,
  openWs,
  populatedNodes,
  post,
  randomId,
  type RawAnswer,
  testForeignNodes,
  twoTenants,
  wsResults,
} from './tenancy-kit.ts';

const app = await startTestApp();

describe('communities', () => {
  testForeignNodes(() => twoTenants(app), populatedNodes('Community'));

  it("communities and viewer.communities hold the caller's communities only", async () => {
    const [a, b] = await twoTenants(app);
    const lists = await ask(a.client, Viewer);
    expect(lists.json.errors).toBeUndefined();
    expect(lists.json.data).toMatchObject({
      communities: [{ id: a.communityId, name: expect.any(String), parent: null, children: [] }],
      viewer: { communities: [{ id: a.communityId }], memberships: [{ community: { id: a.communityId } }] },
    });
    expectNoTrace(lists.body, b);
  });
});

describe('X-Community-Ids', () => {
  it('naming a community the caller cannot see is a 400 that reads the same as a random id', async () => {
    const { mssp, clientUser } = await msspTree(app);
    const outsider = await createTenant(app);
    const withHeader = (id: string) => post(app, { ...bearer(clientUser), 'x-community-ids': id }, Collections, {});
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
    const ws = await openWs(app, { ...bearer(clientUser), 'x-community-ids': outsider.communityId });
    expect(await wsResults(ws, NotificationAdded)).toEqual([
      { errors: [expect.objectContaining({ message: expect.stringMatching(/^X-Community-Ids: unknown community/) })] },
    ]);
    // A value that is no community id at all is a 400 too.
    const garbage = await withHeader(randomId('Collection'));
    expect(garbage.status).toBe(400);
    expect(garbage.json.errors?.[0].message).toMatch(/X-Community-Ids: .* is not a community id/);
  });

  it('naming communities of the caller narrows what it reads and may change', async () => {
    const { mssp, collections, clientUser } = await msspTree(app);
    const ids = async (client: Client) =>
      (await client.gql(Collections, { first: 100 })).collections.edges.map((e) => e.node.id).sort();
    const communities = async (client: Client) => (await client.gql(Viewer)).communities.map((c) => c.id);

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
