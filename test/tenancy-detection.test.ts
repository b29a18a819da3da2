// Tenant isolation of detection (see test/tenancy-kit.ts): rules, retrohunts and alerts follow
// the same rules on every path; a sub-community sees its own alerts of an MSSP's shared rule,
// never its sibling's, nor the MSSP's retrohunts.
import { describe, expect, it } from 'vitest';
import {
  Alerts,
  CreateDetectionRule,
  DetectionRuleNode,
  Node,
  Nodes,
  RetrohuntUpdated,
  UpdateAlertStatus,
  UpdateDetectionRule,
} from './documents.ts';
import {
  type Client,
  createCollection,
  createRule,
  createTenant,
  createUser,
  daysAgo,
  fromGlobalId,
  importText,
  sendAccepted,
  sendEvents,
  startTestApp,
  type Tenant,
  unique,
  waitForRetrohunts,
} from './kit.ts';
import {
  ask,
  bearer,
  expectNoTrace,
  msspTree,
  type MutationCase,
  type NodeKind,
  NOT_FOUND,
  openWs,
  payloadOf,
  post,
  randomId,
  sseAnswer,
  testForeignIdMutations,
  testForeignNodes,
  wsResults,
} from './tenancy-kit.ts';

const app = await startTestApp();
const { prisma } = app.services;

/** The observable every detection tenant watches and sees: isolation must hold by owner, not by value. */
const WATCHED_IP = '198.51.100.99';

/** Creates a rule (which must succeed) and waits for its retrohunt to end; answers both ids. */
async function ruleWithRetrohunt(client: Client, collectionId: string) {
  const rule = await createRule(client, collectionId);
  await waitForRetrohunts(client, rule.id);
  return { ruleId: rule.id, retrohuntId: rule.latestRetrohunt!.id };
}

/** A tenant whose rule's retrohunt found WATCHED_IP in an event stored before the rule: one alert. */
async function detectionTenant() {
  const tenant = await createTenant(app);
  const collection = await createCollection(tenant.client, { communityId: tenant.communityId, name: unique('watch') });
  await importText(tenant.client, collection.id, WATCHED_IP, { validFrom: daysAgo(5) });
  await sendAccepted(tenant.client, [{ '@timestamp': daysAgo(1), 'destination.ip': WATCHED_IP }]);
  const { ruleId, retrohuntId } = await ruleWithRetrohunt(tenant.client, collection.id);
  const { alerts } = await tenant.client.gql(Alerts, { first: 100 });
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
const detectionTenants = () => Promise.all([detectionTenant(), detectionTenant()]);

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

const NODE_KINDS: NodeKind<DetectionTenant>[] = [
  { type: 'DetectionRule', of: (t: DetectionTenant) => t.ruleId },
  { type: 'Retrohunt', of: (t: DetectionTenant) => t.retrohuntId },
  { type: 'Alert', of: (t: DetectionTenant) => t.alertId },
];

const MUTATIONS: MutationCase<DetectionTenant>[] = [
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
  testForeignNodes(detectionTenants, NODE_KINDS);

  it("nodes(ids) leaves another tenant's rules, retrohunts and alerts out, exactly like random ids", async () => {
    const [a, b] = await detectionTenants();
    const own = NODE_KINDS.map(({ of }) => of(a));
    const foreign = await ask(a.client, Nodes, { ids: [...NODE_KINDS.map(({ of }) => of(b)), ...own] });
    const missing = await ask(a.client, Nodes, {
      ids: [...NODE_KINDS.map(({ type }) => randomId(type)), ...own],
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
    expectNoTrace(foreign.body, b);
  });

  testForeignIdMutations({ pair: detectionTenants, stored: storedDetection }, MUTATIONS);

  it("the alerts connection never lists another tenant's alerts, whatever the filter", async () => {
    const [a, b] = await detectionTenants();
    const all = await ask(a.client, Alerts, { first: 100 });
    expect(all.json.data?.alerts).toMatchObject({
      totalCount: 1,
      edges: [{ node: { id: a.alertId, value: WATCHED_IP, community: { id: a.communityId } } }],
    });
    expectNoTrace(all.body, b);
    const byCollection = await ask(a.client, Alerts, { first: 100, collectionId: b.collectionId });
    expect(byCollection).toEqual(await ask(a.client, Alerts, { first: 100, collectionId: randomId('Collection') }));
    expect(byCollection.json.data?.alerts.totalCount).toBe(0);
    const byRule = await ask(a.client, Alerts, { first: 100, ruleId: b.ruleId });
    expect(byRule).toEqual(await ask(a.client, Alerts, { first: 100, ruleId: randomId('DetectionRule') }));
    expect(byRule.json.data?.alerts.totalCount).toBe(0);
  });

  it("a sub-community sees its own alerts of the MSSP's shared rule, never its sibling's", async () => {
    const { mssp, collections, clientUser } = await msspTree(app);
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
    const alertsOf = async (client: Client) =>
      (await client.gql(Alerts, { first: 100 })).alerts.edges.map((e) => e.node);
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
      expect(await ask(viewer, Node, { id })).toEqual(await ask(viewer, Node, { id: randomId(type) }));
    }
    const close = (client: Client, id: string) => ask(client, UpdateAlertStatus, { input: { id, status: 'CLOSED' } });
    expect(await close(clientUser, siblingAlert)).toEqual(await close(clientUser, randomId('Alert')));
    expect(payloadOf(await close(clientUser, siblingAlert))).toMatchObject(NOT_FOUND('Alert'));
    expect(await prisma.alert.findUniqueOrThrow({ where: { id: fromGlobalId(siblingAlert).id } })).toMatchObject({
      status: 'OPEN',
    });
    // Filtering on the shared collection or its rule does not widen the view.
    for (const filter of [{ collectionId: collections.shared }, { ruleId }]) {
      const seen = await clientUser.gql(Alerts, { first: 100, ...filter });
      expect(seen.alerts.edges.map((e) => e.node.community.id)).toEqual([one]);
    }
  });

  it("a sub-community sees the MSSP's shared rule but not its retrohunts, which count every community's events", async () => {
    const { mssp, collections, clientUser } = await msspTree(app);
    await importText(mssp.client, collections.shared, WATCHED_IP, { validFrom: daysAgo(5) });
    // Events of the sibling (and of the MSSP itself) that the retrohunt will count.
    for (const community of [mssp.communityId, mssp.childIds[1]]) {
      await sendEvents(mssp.client.withCommunities(community), [{ '@timestamp': daysAgo(1), 'source.ip': WATCHED_IP }]);
    }
    const { ruleId, retrohuntId } = await ruleWithRetrohunt(mssp.client, collections.shared);
    const owner = await mssp.client.gql(DetectionRuleNode, { id: ruleId });
    expect(owner.node).toMatchObject({
      latestRetrohunt: { id: retrohuntId, matches: 2 },
      retrohunts: { totalCount: 1 },
    });

    const below = await ask(clientUser, DetectionRuleNode, { id: ruleId });
    expect(below.json.data?.node).toMatchObject({
      id: ruleId,
      latestRetrohunt: null,
      retrohunts: { totalCount: 0, edges: [] },
    });
    const missing = randomId('Retrohunt');
    expect(await ask(clientUser, Node, { id: retrohuntId })).toEqual(await ask(clientUser, Node, { id: missing }));
    expect(await sseAnswer(clientUser, RetrohuntUpdated, { id: retrohuntId })).toEqual(
      await sseAnswer(clientUser, RetrohuntUpdated, { id: missing }),
    );
    // The same for the MSSP's own user acting as the client.
    const asClient = { ...bearer(mssp.client), 'x-community-ids': mssp.childIds[0] };
    expect(await post(app, asClient, Node, { id: retrohuntId })).toEqual(
      await post(app, asClient, Node, { id: missing }),
    );
  });

  it("retrohuntUpdated with another tenant's retrohunt fails like a random id, over SSE and graphql-ws", async () => {
    const [a, b] = await detectionTenants();
    const missing = randomId('Retrohunt');
    const notFound = [
      { errors: [expect.objectContaining({ message: 'Retrohunt not found', extensions: { code: 'NOT_FOUND' } })] },
    ];
    const foreignSse = await sseAnswer(a.client, RetrohuntUpdated, { id: b.retrohuntId });
    expect(foreignSse).toEqual(await sseAnswer(a.client, RetrohuntUpdated, { id: missing }));
    expect(foreignSse.events).toEqual(notFound);

    const ws = await openWs(app, bearer(a.client));
    const foreignWs = await wsResults(ws, RetrohuntUpdated, { id: b.retrohuntId });
    expect(foreignWs).toEqual(await wsResults(ws, RetrohuntUpdated, { id: missing }));
    expect(foreignWs).toEqual(notFound);
    expectNoTrace(JSON.stringify([foreignSse, foreignWs]), b);

    // Its owner follows it: the ended retrohunt once, then the stream completes.
    expect((await sseAnswer(b.client, RetrohuntUpdated, { id: b.retrohuntId })).events).toMatchObject([
      { data: { retrohuntUpdated: { id: b.retrohuntId, status: 'SUCCEEDED', matches: 1, rule: { id: b.ruleId } } } },
    ]);
  });
});
