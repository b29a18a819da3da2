// Tenant isolation of indicators (see test/tenancy-kit.ts): foreign indicators answer like
// missing ones; the threat catalogue is shared by every tenant; a sub-community reads an
// MSSP's shared indicators but cannot change them.
import { describe, expect, it } from 'vitest';
import { Node, Nodes, RevokeIndicator, Threats, UpdateIndicator } from './documents.ts';
import { expectMember, importText, indicatorPage, startTestApp, updateIndicator } from './kit.ts';
import {
  ask,
  type MutationCase,
  msspTree,
  NOT_FOUND,
  payloadOf,
  type PopulatedTenant,
  populatedNodes,
  storedState,
  testForeignIdMutations,
  testForeignNodes,
  testViewerMutations,
  twoTenants,
} from './tenancy-kit.ts';

const app = await startTestApp();

const MUTATIONS: MutationCase<PopulatedTenant>[] = [
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
];

describe('indicators', () => {
  testForeignNodes(() => twoTenants(app), populatedNodes('Indicator'));
  testForeignIdMutations({ pair: () => twoTenants(app), stored: (t) => storedState(app, t) }, MUTATIONS);
  testViewerMutations(app, MUTATIONS);

  it('answers a Threat (the global catalogue) to every tenant alike, and lets every tenant use it', async () => {
    const [a, b] = await twoTenants(app);
    const threats = await b.client.gql(Threats, { first: 2 });
    const threat = threats.threats.edges[0].node;
    const fromA = await ask(a.client, Node, { id: threat.id });
    expect(fromA).toEqual(await ask(b.client, Node, { id: threat.id }));
    expect(fromA.json.data?.node).toMatchObject({ __typename: 'Threat', id: threat.id, name: threat.name });
    expect((await ask(a.client, Nodes, { ids: [threat.id] })).json.data?.nodes).toEqual([fromA.json.data?.node]);

    // Threat ids are not tenant-scoped: A tags its own indicators with a catalogue threat.
    expect(await importText(a.client, a.collectionId, '203.0.113.9', { threatIds: [threat.id] })).toMatchObject({
      created: 1,
      invalid: 0,
    });
    const tagged = await indicatorPage(a.client, a.collectionId, { first: 100, threatIds: [threat.id] });
    expect(tagged.indicators.edges.map((e) => e.node.value)).toEqual(['203.0.113.9']);
    const updated = await updateIndicator(a.client, a.indicatorId, { threatIds: [threat.id] });
    expect(expectMember(updated, 'UpdateIndicatorSuccess').indicator.threats).toMatchObject([{ id: threat.id }]);
  });

  it("a sub-community reads the MSSP's shared indicators but cannot change them", async () => {
    const { mssp, collections, clientUser } = await msspTree(app);
    await importText(mssp.client, collections.shared, '198.51.100.20\nshared.example');
    const indicators = (await indicatorPage(clientUser, collections.shared)).indicators.edges.map((e) => e.node);
    expect(indicators.map((i) => i.value).sort()).toEqual(['198.51.100.20', 'shared.example']);

    const before = await storedState(app, mssp);
    const { id } = indicators[0];
    for (const change of [
      ask(clientUser, UpdateIndicator, { input: { id, description: 'from below' } }),
      ask(clientUser, RevokeIndicator, { input: { id } }),
    ]) {
      expect(payloadOf(await change)).toMatchObject({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
    }
    expect(await storedState(app, mssp)).toEqual(before);
  });
});
