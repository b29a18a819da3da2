// Access on relations (issue 10): every field that leads to a node answers as node(id)
// would for the same viewer. The relation audit is generated from the schema, so a new
// relation is covered without writing a test: for every node type, every field that leads
// to a node (directly, in a list, a connection or one object below), each node it returns
// must be one the viewer may see through nodes(ids:).
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import {
  getNamedType,
  isInterfaceType,
  isObjectType,
  parse,
  type GraphQLNamedType,
  type GraphQLObjectType,
} from 'graphql';
import http from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../src/graphql/schema.ts';
import { Collections, Indicators, Node, Nodes, UpdateCollection } from './documents.ts';
import {
  allIndicators,
  createRule,
  createTenant,
  createUser,
  expectMember,
  generateReport,
  importText,
  indicatorPage,
  type IndicatorPage,
  newCollection,
  previewFile,
  revokeIndicator,
  sendEvents,
  startTestApp,
  unique,
  waitFor,
  waitForReport,
  type Client,
  type Tenant,
} from './kit.ts';

const app = await startTestApp();

/** Runs a query built at run time (the audit's queries are generated from the schema). */
async function run(client: Client, query: string, variables?: Record<string, unknown>) {
  return client.execute(parse(query) as TypedDocumentNode<Record<string, any>, Record<string, unknown>>, variables);
}

async function data(client: Client, query: string, variables?: Record<string, unknown>) {
  const answer = await run(client, query, variables);
  expect(answer.errors, JSON.stringify(answer.errors)).toBeUndefined();
  return answer.data!;
}

/** Turns "available for sub-communities" on or off, as the MSSP's admin does. */
async function setSharing(client: Client, id: string, availableForSubCommunities: boolean) {
  const answer = await client.gql(UpdateCollection, { input: { id, availableForSubCommunities } });
  expectMember(answer.updateCollection, 'UpdateCollectionSuccess');
}

/** A user whose one role, in the community, grants `VIEW_ALERTS` and nothing else. */
async function alertsOnlyUser(communityRawId: string): Promise<Client> {
  const role = await app.services.prisma.role.create({
    data: { name: unique('alerts only'), permissions: ['VIEW_ALERTS'] },
  });
  const user = await createUser(app, []);
  await app.services.prisma.membership.create({
    data: { userId: user.userId, communityId: communityRawId, roleId: role.id },
  });
  return user;
}

const isNodeType = (type: GraphQLNamedType) =>
  (isObjectType(type) || isInterfaceType(type)) &&
  (type.name === 'Node' || type.getInterfaces().some((i) => i.name === 'Node'));

/** The selection of a field that leads to nodes: their ids, through lists, connections and one object. */
function nodeSelection(type: GraphQLNamedType, depth = 0): string | null {
  if (isNodeType(type)) return '{ __typename id }';
  if (!isObjectType(type) || depth > 1) return null;
  if (type.name.endsWith('Connection')) {
    const edge = getNamedType(type.getFields().edges.type) as GraphQLObjectType;
    const inner = nodeSelection(getNamedType(edge.getFields().node.type));
    return inner && `{ edges { node ${inner} } }`;
  }
  const fields = Object.values(type.getFields())
    .map((field) => {
      const inner = nodeSelection(getNamedType(field.type), depth + 1);
      return inner && !field.args.some((a) => a.type.toString().endsWith('!')) ? `${field.name} ${inner}` : null;
    })
    .filter(Boolean);
  return fields.length ? `{ ${fields.join(' ')} }` : null;
}

/** Every (node type, field) pair that leads to nodes, with the query fragment that reads it. */
function relations(): { type: string; field: string; selection: string }[] {
  const found = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || !isNodeType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const inner = nodeSelection(getNamedType(field.type));
      if (!inner) continue;
      const args = field.args.some((a) => a.name === 'first') ? '(first: 5)' : '';
      found.push({ type: type.name, field: field.name, selection: `${field.name}${args} ${inner}` });
    }
  }
  return found;
}

/** The ids of every node in an answer, at any depth, except the answer's own root. */
function nodeIdsIn(value: unknown, into = new Set<string>(), root = true): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => nodeIdsIn(v, into, false));
  else if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (!root && typeof record.id === 'string') into.add(record.id);
    Object.values(record).forEach((v) => nodeIdsIn(v, into, false));
  }
  return into;
}

interface World {
  mssp: Tenant;
  collectionId: string;
  /** Every node of the world, as the MSSP's admin (who may see all of it) found them. */
  nodeIds: Map<string, string>;
  viewers: Record<string, Client>;
}

/**
 * An MSSP with one client community: a collection shared down, indicators (one revoked by
 * MSSP staff), an import, a preview, a rule with its retrohunt, an alert in the client's
 * events, a telemetry report of the client's, a notification; and a viewer per kind of
 * narrower access.
 */
async function buildWorld(): Promise<World> {
  const mssp = await createTenant(app, { children: 1 });
  const [clientRawId] = mssp.childRawIds;
  const [clientId] = mssp.childIds;
  const collectionId = await newCollection(mssp);
  await setSharing(mssp.client, collectionId, true);
  await importText(mssp.client, collectionId, '198.51.100.7\nrelations.example\nrevoked.example');
  const indicators = await allIndicators(mssp.client, collectionId);
  await revokeIndicator(mssp.client, indicators.find((i) => i.value === 'revoked.example')!.id);
  const rule = await createRule(mssp.client, collectionId);
  const preview = await previewFile(mssp.client, collectionId, 'iocs.csv', Buffer.from('value\nfile.example\n'));
  if (preview.__typename !== 'PreviewIndicatorFileSuccess') return expect.fail(JSON.stringify(preview));

  const sensor = await createUser(app, [{ communityId: clientRawId, role: 'sensor' }]);
  expect(
    (await sendEvents(sensor, [{ '@timestamp': new Date().toISOString(), destination: { ip: '198.51.100.7' } }]))
      .accepted,
  ).toBe(1);
  const clientAnalyst = await createUser(app, [{ communityId: clientRawId, role: 'analyst' }]);
  const report = await generateReport(clientAnalyst, collectionId);
  await waitForReport(clientAnalyst, report.id);

  const alertsOnly = await alertsOnlyUser(clientRawId);

  const found = await waitFor(
    async () => {
      const answer = await data(
        mssp.client,
        `query($id: ID!) {
        alerts(first: 5) { edges { node { id } } }
        notifications(first: 5) { edges { node { id } } }
        threats(first: 1) { edges { node { id } } }
        node(id: $id) { ... on Collection {
          imports(first: 1) { edges { node { id } } }
          detectionRules { id latestRetrohunt { id status } }
        } }
      }`,
        { id: collectionId },
      );
      const retrohunt = answer.node.detectionRules[0].latestRetrohunt;
      return answer.alerts.edges.length && retrohunt && retrohunt.status !== 'QUEUED' ? answer : null;
    },
    { what: 'the alert and the retrohunt' },
  );

  const nodeIds = new Map<string, string>([
    ['Community', mssp.communityId],
    ['Community (client)', clientId],
    ['Collection', collectionId],
    ...indicators.map((i) => [`Indicator ${i.value}`, i.id] as [string, string]),
    ['ImportJob', found.node.imports.edges[0].node.id],
    ['UploadedFile', preview.preview.fileHandle],
    ['DetectionRule', rule.id],
    ['Retrohunt', found.node.detectionRules[0].latestRetrohunt.id],
    ['Alert', found.alerts.edges[0].node.id],
    ['TelemetryReport', report.id],
    ['Notification', found.notifications.edges[0].node.id],
    ['Threat', found.threats.edges[0].node.id],
  ]);
  const outsider = await createTenant(app);
  return {
    mssp,
    collectionId,
    nodeIds,
    viewers: {
      'MSSP admin': mssp.client,
      'client analyst': clientAnalyst,
      'client viewer': await createUser(app, [{ communityId: clientRawId, role: 'viewer' }]),
      'client VIEW_ALERTS only': alertsOnly,
      'client sensor': sensor,
      'other community': outsider.client,
    },
  };
}

/** What each viewer reads through every relation of every node it can see, checked against nodes(ids:). */
async function audit(world: World) {
  const all = relations();
  let checked = 0;
  for (const [viewerName, viewer] of Object.entries(world.viewers)) {
    for (const [what, id] of world.nodeIds) {
      const typename = (await world.mssp.client.gql(Node, { id })).node!.__typename;
      const fields = all.filter((r) => r.type === typename);
      if (!fields.length) continue;
      const answer = await run(
        viewer,
        `query($id: ID!) { node(id: $id) { id ... on ${typename} { ${fields.map((f) => f.selection).join(' ')} } } }`,
        { id },
      );
      // A relation may answer null or a typed error, never an unexpected one.
      for (const error of answer.errors ?? [])
        expect(error.message, `${viewerName}: ${what}`).not.toBe('Unexpected error.');
      const reached = [...nodeIdsIn(answer.data?.node ?? null)];
      if (!reached.length) continue;
      const visible = await viewer.gql(Nodes, { ids: reached });
      const hidden = reached.filter((_, i) => visible.nodes[i] === null);
      expect(hidden, `${viewerName} reached through ${what} (${typename}) nodes it may not see`).toEqual([]);
      checked += reached.length;
    }
  }
  return { relations: all.length, checked };
}

describe('relation audit (generated from the schema)', () => {
  let world: World;
  beforeAll(async () => {
    world = await buildWorld();
  }, 120_000);

  it('the world holds an object of every node type, so every relation is exercised', async () => {
    const typenames = new Set<string>();
    for (const id of world.nodeIds.values()) {
      const { node } = await world.mssp.client.gql(Node, { id });
      typenames.add(node!.__typename);
    }
    const nodeTypes = Object.values(schema.getTypeMap())
      .filter((t) => isObjectType(t) && isNodeType(t))
      .map((t) => t.name);
    expect([...typenames].sort()).toEqual(nodeTypes.sort());
    expect(relations().length).toBeGreaterThanOrEqual(15);
  });

  it('every relation answers as node(id) would, for each viewer, while the collection is shared and after', async () => {
    const shared = await audit(world);
    await setSharing(world.mssp.client, world.collectionId, false);
    const unshared = await audit(world);
    // Printed for the closing note: how much the audit covers.
    console.info(`relation audit: ${shared.relations} relations; ${shared.checked + unshared.checked} nodes checked`);
    expect(shared.checked).toBeGreaterThan(0);
  }, 120_000);
});

describe('an alert leads to its collection only for those who may read it', () => {
  const ALERT_DETAILS = `query { alerts(first: 10) { edges { node {
    value field
    collection { name indicators(first: 10) { edges { node { value description } } } }
    indicator { value } rule { name }
  } } } }`;

  it("after the MSSP stops sharing, a client's viewer keeps its alerts but no longer reads the collection", async () => {
    const mssp = await createTenant(app, { children: 1 });
    const collectionId = await newCollection(mssp);
    await setSharing(mssp.client, collectionId, true);
    await importText(mssp.client, collectionId, '198.51.100.8');
    await createRule(mssp.client, collectionId);
    const sensor = await createUser(app, [{ communityId: mssp.childRawIds[0], role: 'sensor' }]);
    await sendEvents(sensor, [{ '@timestamp': new Date().toISOString(), source: { ip: '198.51.100.8' } }]);
    const viewer = await createUser(app, [{ communityId: mssp.childRawIds[0], role: 'viewer' }]);
    const before = await waitFor(async () => (await data(viewer, ALERT_DETAILS)).alerts.edges[0]?.node);
    expect(before.collection.indicators.edges.map((e: { node: { value: string } }) => e.node.value)).toEqual([
      '198.51.100.8',
    ]);

    await setSharing(mssp.client, collectionId, false);
    await importText(mssp.client, collectionId, 'added-after.example');
    const answer = await run(viewer, ALERT_DETAILS);
    expect(answer.errors).toBeUndefined();
    expect(answer.data!.alerts.edges).toEqual([
      { node: { value: '198.51.100.8', field: 'source.ip', collection: null, indicator: null, rule: null } },
    ]);
  }, 60_000);

  it('a role with VIEW_ALERTS only sees the matched value and field, not the collection it may not list', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    await importText(tenant.client, collectionId, '198.51.100.9');
    await createRule(tenant.client, collectionId);
    await sendEvents(tenant.client, [{ '@timestamp': new Date().toISOString(), destination: { ip: '198.51.100.9' } }]);
    const alertsOnly = await alertsOnlyUser(tenant.communityRawId);

    const answer = await waitFor(async () => {
      const result = await run(alertsOnly, ALERT_DETAILS);
      return result.data?.alerts.edges.length ? result : null;
    });
    expect(answer.errors).toBeUndefined();
    expect(answer.data!.alerts.edges).toEqual([
      { node: { value: '198.51.100.9', field: 'destination.ip', collection: null, indicator: null, rule: null } },
    ]);
    const listing = await run(alertsOnly, `query { collections(first: 5) { totalCount } }`);
    expect(listing.errors?.[0].message).toMatch(/Not authorized/);
  }, 60_000);
});

describe('people of the community above are shown by role only', () => {
  it("an indicator revoked by MSSP staff shows the client 'MSSP admin', never a name or an e-mail", async () => {
    const mssp = await createTenant(app, { children: 1 });
    const collectionId = await newCollection(mssp);
    await setSharing(mssp.client, collectionId, true);
    await importText(mssp.client, collectionId, 'staff.example');
    const READ = `query($id: ID!) { node(id: $id) { ... on Collection {
      indicators(first: 1, includeRevoked: true) { edges { node { id revokedBy { name email } } } }
      imports(first: 1) { edges { node { requestedBy { name email } } } }
    } } }`;
    const indicatorId = (await data(mssp.client, READ, { id: collectionId })).node.indicators.edges[0].node.id;
    await revokeIndicator(mssp.client, indicatorId);
    const staff = await app.services.prisma.user.findUniqueOrThrow({ where: { id: mssp.client.userId } });

    const own = (await data(mssp.client, READ, { id: collectionId })).node;
    expect(own.indicators.edges[0].node.revokedBy).toEqual({ name: staff.name, email: staff.email });

    const clientViewer = await createUser(app, [{ communityId: mssp.childRawIds[0], role: 'viewer' }]);
    const seen = (await data(clientViewer, READ, { id: collectionId })).node;
    expect(seen.indicators.edges[0].node.revokedBy).toEqual({ name: 'MSSP admin', email: null });
    // The collection's imports are the MSSP's own (not shown to the client at all).
    expect(seen.imports.edges).toEqual([]);
    expect(JSON.stringify(seen)).not.toContain(staff.email);
  });
});

describe('connection cursors are signed for the viewer', () => {
  it('pages follow with the cursors handed out; forged, foreign and tampered cursors answer like a malformed one', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    await importText(tenant.client, collectionId, 'one.example\ntwo.example\nthree.example');
    const values: string[] = [];
    let after: string | null = null;
    for (;;) {
      const { indicators }: IndicatorPage = await indicatorPage(tenant.client, collectionId, { first: 1, after });
      values.push(...indicators.edges.map((e) => e.node.value));
      if (!indicators.pageInfo.hasNextPage) break;
      after = indicators.pageInfo.endCursor;
    }
    const page = (cursor: string) => tenant.client.execute(Indicators, { id: collectionId, first: 1, after: cursor });
    expect(values.sort()).toEqual(['one.example', 'three.example', 'two.example']);

    const malformed = await page('not a cursor');
    expect(malformed.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/^Invalid cursor/),
      extensions: { code: 'BAD_USER_INPUT' },
    });

    // The plain cursor Pothos would have accepted, naming another tenant's collection.
    const other = await createTenant(app);
    const foreignCollection = await newCollection(other);
    const foreignRaw = Buffer.from(foreignCollection, 'base64').toString().split(':')[1];
    const forged = Buffer.from(`GPC:S:${foreignRaw}`).toString('base64');
    const missing = Buffer.from(`GPC:S:${crypto.randomUUID()}`).toString('base64');
    const answers = await Promise.all(
      [forged, missing, `${forged}.AAAA`, 'garbage'].map((cursor) =>
        tenant.client.execute(Collections, { first: 5, after: cursor }),
      ),
    );
    for (const answer of answers) expect(answer).toEqual({ status: 200, errors: malformed.errors });

    // A cursor handed to one user is not one for another, even of the same community.
    const first = (await indicatorPage(tenant.client, collectionId, { first: 1 })).indicators.pageInfo.endCursor!;
    const colleague = await createUser(app, [{ communityId: tenant.communityRawId, role: 'admin' }]);
    expect((await colleague.execute(Indicators, { id: collectionId, first: 1, after: first })).errors).toEqual(
      malformed.errors,
    );
    // Tampered: one character of the signature changed.
    const tampered = first.slice(0, -1) + (first.endsWith('A') ? 'B' : 'A');
    expect((await page(tampered)).errors).toEqual(malformed.errors);
    // Written as a literal in the document instead of a variable: checked the same way.
    const literal = await run(tenant.client, `query { collections(first: 1, after: "${forged}") { totalCount } }`);
    expect(literal.errors).toEqual(malformed.errors);
  });
});

describe('nodes(ids:) is bounded and counted', () => {
  it('takes at most 100 ids, and each id’s selection counts in the cost', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    const tooMany = await run(tenant.client, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, {
      ids: Array.from({ length: 101 }, () => collectionId),
    });
    expect(tooMany.errors?.[0].message).toBe('nodes(ids:) takes at most 100 ids, not 101');
    expect(tooMany.data ?? null).toBeNull();

    const costly = await run(
      tenant.client,
      `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Collection { indicators(first: 100) { edges { node { value } } } } } }`,
      { ids: Array.from({ length: 100 }, () => collectionId) },
    );
    expect(costly.errors?.[0]).toMatchObject({ extensions: { code: 'QUERY_TOO_COSTLY' } });
    expect(
      (
        await data(tenant.client, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, {
          ids: [collectionId, collectionId],
        })
      ).nodes,
    ).toEqual([{ id: collectionId }, { id: collectionId }]);
  });
});

describe('request bodies: the key first, then a bounded body', () => {
  it('an unauthenticated body is refused before it is read; a JSON body past GRAPHQL_MAX_BODY_BYTES is 413', async () => {
    const tenant = await createTenant(app);
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        if (pulled > 1000) controller.close();
        else controller.enqueue(new Uint8Array(64 * 1024).fill(32));
      },
    });
    const anonymous = await app.yoga.fetch('http://yoga/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: endless,
      duplex: 'half',
    } as RequestInit);
    expect(anonymous.status).toBe(401);
    expect((await anonymous.json()).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(pulled).toBeLessThan(5);

    const big = JSON.stringify({
      query: `{ viewer { id } }`,
      variables: { pad: 'x'.repeat(app.env.GRAPHQL_MAX_BODY_BYTES) },
    });
    const tooLarge = await tenant.client.request('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: big,
    });
    expect(tooLarge.status).toBe(413);
    expect((await tooLarge.json()).errors[0].message).toBe(
      `Request body too large: at most ${app.env.GRAPHQL_MAX_BODY_BYTES} bytes (import long lists of indicators as a file)`,
    );

    // Without a Content-Length (chunked), counted as it streams.
    const chunks = [big.slice(0, 1000), big.slice(1000)];
    const streamed = await tenant.client.request('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({
        pull(controller) {
          const next = chunks.shift();
          if (next === undefined) controller.close();
          else controller.enqueue(new TextEncoder().encode(next));
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
  });

  it.each([
    ['without a key', null],
    ['with a key, past the JSON limit', 'key'],
  ])('a 200 MB JSON body %s is answered over a real socket long before it is all sent', async (_, withKey) => {
    const tenant = await createTenant(app);
    const { url } = await app.http();
    const size = 200 * 1024 * 1024;
    const request = http.request(`${url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(withKey ? { authorization: `Bearer ${tenant.client.key}` } : {}),
      },
    });
    request.on('error', () => {}); // the server may close the connection once it has answered
    const answered = new Promise<{ status: number; body: string }>((resolve) =>
      request.on('response', (response) => {
        let body = '';
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode!, body }));
      }),
    );
    let response: { status: number; body: string } | undefined;
    void answered.then((r) => (response = r));
    const chunk = Buffer.alloc(1024 * 1024, ' ');
    let sent = 0;
    request.write('{"query": "{ viewer { id } }", "variables": {"pad": "');
    while (!response && sent < size && !request.destroyed) {
      if (!request.write(chunk)) await Promise.race([new Promise((r) => request.once('drain', r)), answered]);
      sent += chunk.length;
    }
    if (!response && !request.destroyed) request.end('"}}');
    const { status, body } = await answered;
    request.destroy();
    expect(status).toBe(withKey ? 413 : 401);
    expect(JSON.parse(body).errors[0].extensions.code).toBe(withKey ? 'REQUEST_ENTITY_TOO_LARGE' : 'UNAUTHENTICATED');
    expect(sent).toBeLessThan(size / 4);
  });
});
