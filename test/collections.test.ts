import { describe, expect, it } from 'vitest';
import { CreateCollection, Collections, UpdateCollection } from './documents.ts';
import { createCollection, createTenant, createUser, expectMember, startTestApp, unique } from './kit.ts';

const app = await startTestApp({}, { workers: false });

describe('collections', () => {
  it('creates a collection in a community the viewer manages, with every property stored', async () => {
    const { client, communityId } = await createTenant(app);
    const name = unique('Phishing');
    const collection = await createCollection(client, {
      communityId,
      name: `  ${name}  `,
      description: 'From CERT',
      availableForSubCommunities: true,
      createDetectionRule: true,
    });
    expect(collection).toMatchObject({
      name,
      description: 'From CERT',
      availableForSubCommunities: true,
      createDetectionRule: true,
      indicatorCount: 0,
      viewerCanManage: true,
      community: { id: communityId },
    });
    const list = await client.gql(Collections, { first: 10 });
    expect(list.collections.edges.map((e) => e.node.id)).toEqual([collection.id]);
    expect(list.collections.totalCount).toBe(1);
  });

  it('answers a duplicate name in one community with a conflict, and allows it in another', async () => {
    const { client, communityId, childIds } = await createTenant(app, { children: 1 });
    const name = unique('dup');
    await createCollection(client, { communityId, name });
    const again = await client.gql(CreateCollection, { input: { communityId, name } });
    expect(expectMember(again.createCollection, 'ConflictError').code).toBe('CONFLICT');
    await createCollection(client, { communityId: childIds[0], name });
  });

  it('rejects an empty name and an over-long description with the field at fault', async () => {
    const { client, communityId } = await createTenant(app);
    const empty = expectMember(
      (await client.gql(CreateCollection, { input: { communityId, name: '   ' } })).createCollection,
      'ValidationError',
    );
    expect(empty).toMatchObject({ code: 'VALIDATION', field: 'input.name' });
    const long = await client.gql(CreateCollection, {
      input: { communityId, name: 'x', description: 'd'.repeat(2001) },
    });
    expect(expectMember(long.createCollection, 'ValidationError').field).toBe('input.description');
  });

  it('updates name, description and sharing; a null description clears it', async () => {
    const { client, communityId } = await createTenant(app);
    const created = await createCollection(client, { communityId, name: unique('c'), description: 'old' });
    const updated = await client.gql(UpdateCollection, {
      input: { id: created.id, name: 'Renamed', description: null, availableForSubCommunities: true },
    });
    expect(expectMember(updated.updateCollection, 'UpdateCollectionSuccess').collection).toMatchObject({
      name: 'Renamed',
      description: null,
      availableForSubCommunities: true,
    });
  });

  it('lets a viewer read but not create or change collections', async () => {
    const owner = await createTenant(app);
    const created = await createCollection(owner.client, { communityId: owner.communityId, name: unique('c') });
    const viewer = await createUser(app, [{ communityId: owner.communityRawId, role: 'viewer' }]);
    const denied = await viewer.gql(CreateCollection, { input: { communityId: owner.communityId, name: unique('v') } });
    expect(expectMember(denied.createCollection, 'ForbiddenError')).toMatchObject({
      missingPermission: 'MANAGE_IOC_COLLECTIONS',
    });
    const update = await viewer.gql(UpdateCollection, { input: { id: created.id, name: 'hijack' } });
    expect(expectMember(update.updateCollection, 'ForbiddenError').code).toBe('FORBIDDEN');
    expect((await viewer.gql(Collections, {})).collections.totalCount).toBe(1);
  });

  it('shares a collection "available for sub-communities" read-only with them, and nothing else', async () => {
    const mssp = await createTenant(app, { children: 2 });
    const shared = await createCollection(mssp.client, {
      communityId: mssp.communityId,
      name: unique('shared'),
      availableForSubCommunities: true,
    });
    await createCollection(mssp.client, { communityId: mssp.communityId, name: unique('private') });
    const clientUser = await createUser(app, [{ communityId: mssp.childRawIds[0], role: 'admin' }]);
    const seen = await clientUser.gql(Collections, {});
    expect(seen.collections.edges.map((e) => e.node.id)).toEqual([shared.id]);
    const change = await clientUser.gql(UpdateCollection, { input: { id: shared.id, name: 'mine now' } });
    expect(expectMember(change.updateCollection, 'ForbiddenError').code).toBe('FORBIDDEN');
    // The MSSP's own user sees both, and every sub-community through its membership.
    expect((await mssp.client.gql(Collections, {})).collections.totalCount).toBe(2);
  });

  it('pages through collections with cursors and searches by name', async () => {
    const { client, communityId } = await createTenant(app);
    const names = ['alpha one', 'beta two', 'alpha three', 'gamma four', 'alpha five'];
    for (const name of names) await createCollection(client, { communityId, name });
    const first = await client.gql(Collections, { first: 2 });
    expect(first.collections.edges.map((e) => e.node.name)).toEqual(['alpha five', 'gamma four']);
    expect(first.collections.pageInfo.hasNextPage).toBe(true);
    const second = await client.gql(Collections, { first: 10, after: first.collections.pageInfo.endCursor });
    expect(second.collections.edges.map((e) => e.node.name)).toEqual(['alpha three', 'beta two', 'alpha one']);
    const search = await client.gql(Collections, { search: 'ALPHA' });
    expect(search.collections.totalCount).toBe(3);
  });
});
