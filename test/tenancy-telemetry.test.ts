// Tenant isolation of telemetry reports (see test/tenancy-kit.ts): the same rules for reports,
// their subscription, their heatmap endpoint and the notifications they leave; a sub-community
// sees only reports over its own telemetry.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  CollectionTelemetryReports,
  GenerateTelemetryReport,
  Node,
  Nodes,
  NotificationAdded,
  Notifications,
  TelemetryReportNode,
  TelemetryReportUpdated,
} from './documents.ts';
import {
  type Client,
  daysAgo,
  fromGlobalId,
  generateReport,
  importText,
  notifyUser,
  readyReport,
  sendAccepted,
  startTestApp,
  toGlobalId,
  waitFor,
} from './kit.ts';
import {
  ask,
  bearer,
  expectNoTrace,
  msspTree,
  NOT_FOUND,
  openWs,
  payloadOf,
  type PopulatedTenant,
  populatedTenant,
  randomId,
  recordWs,
  sseAnswer,
  twoTenants,
  wsResults,
} from './tenancy-kit.ts';

const app = await startTestApp();
const { prisma } = app.services;

/** The observable of IMPORT_TEXT that every tenant's events carry. */
const SEEN_IP = '198.51.100.7';

/** Events of the tenant's (one community) carrying SEEN_IP; all must be accepted. */
const sendSeen = (client: Client, count = 1) =>
  sendAccepted(
    client,
    Array.from({ length: count }, (_, i) => ({ '@timestamp': daysAgo(1, 8 + i), 'source.ip': SEEN_IP })),
  );

/** Generates a report and waits for it and for its notification. */
async function reportWithNotification(client: Client, collectionId: string) {
  const report = await readyReport(client, collectionId);
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
  const tenant = await populatedTenant(app);
  await sendSeen(tenant.client, 2);
  const report = await reportWithNotification(tenant.client, tenant.collectionId);
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
    const own = await a.client.gql(TelemetryReportNode, { id: a.report.id, first: 10 });
    expect(own.node).toMatchObject({
      __typename: 'TelemetryReport',
      id: a.report.id,
      entries: { totalCount: 1, edges: [{ node: { sightings: 2, indicator: { value: SEEN_IP } } }] },
    });
    const missing = randomId('TelemetryReport');

    const foreign = await ask(a.client, TelemetryReportNode, { id: b.report.id, first: 10 });
    expect(foreign).toEqual(await ask(a.client, TelemetryReportNode, { id: missing, first: 10 }));
    expect(foreign.body).toBe('{"data":{"node":null}}');
    expect(await ask(a.client, Node, { id: b.report.id })).toEqual(await ask(a.client, Node, { id: missing }));

    const foreignNodes = await ask(a.client, Nodes, { ids: [b.report.id, a.report.id] });
    expect(foreignNodes).toEqual(await ask(a.client, Nodes, { ids: [missing, a.report.id] }));
    expect(foreignNodes.json.data?.nodes.map((n) => n?.id ?? null)).toEqual([null, a.report.id]);
    expectNoTrace(foreignNodes.body, b);
  });

  it("generateTelemetryReport with another tenant's collection answers like a random id and makes no report", async () => {
    const [a, b] = await twoTenants(app);
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

    const foreignSse = await sseAnswer(a.client, TelemetryReportUpdated, { id: b.report.id });
    expect(foreignSse).toEqual(await sseAnswer(a.client, TelemetryReportUpdated, { id: missing }));
    expect(foreignSse.events).toEqual(notFound);

    const ws = await openWs(app, bearer(a.client));
    const foreignWs = await wsResults(ws, TelemetryReportUpdated, { id: b.report.id });
    expect(foreignWs).toEqual(await wsResults(ws, TelemetryReportUpdated, { id: missing }));
    expect(foreignWs).toEqual(notFound);
    expectNoTrace(JSON.stringify([foreignSse, foreignWs]), b);

    // Its owner follows it: the ready report once, then the stream completes.
    expect((await sseAnswer(b.client, TelemetryReportUpdated, { id: b.report.id })).events).toMatchObject([
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
    const { mssp, collections, clientUser } = await msspTree(app);
    await importText(mssp.client, collections.shared, SEEN_IP);
    const [top, one, two] = [mssp.communityId, ...mssp.childIds];
    for (const community of [top, one, two]) await sendSeen(mssp.client.withCommunities(community));

    // The MSSP asks for reports on its shared collection: over client one only (first, so
    // that it is not the newest), over everything, over itself, over the sibling.
    const ownOnly = await reportWithNotification(mssp.client.withCommunities(one), collections.shared);
    const hidden = {
      everything: await reportWithNotification(mssp.client, collections.shared),
      msspOnly: await reportWithNotification(mssp.client.withCommunities(top), collections.shared),
      siblingOnly: await reportWithNotification(mssp.client.withCommunities(two), collections.shared),
    };

    const mine = await clientUser.gql(TelemetryReportNode, { id: ownOnly.id, first: 10 });
    expect(mine.node).toMatchObject({
      id: ownOnly.id,
      communities: [{ id: one }],
      entries: { edges: [{ node: { sightings: 1 } }] },
    });
    expect((await getPath(clientUser, ownOnly.heatmapUrl)).status).toBe(200);

    const missing = randomId('TelemetryReport');
    const missingHeatmap = await getPath(clientUser, heatmapPath(missing, ownOnly.indicatorId));
    for (const [name, report] of Object.entries(hidden)) {
      const answer = await ask(clientUser, TelemetryReportNode, { id: report.id, first: 10 });
      expect(answer, name).toEqual(await ask(clientUser, TelemetryReportNode, { id: missing, first: 10 }));
      expect(answer.json.data?.node, name).toBeNull();
      expect(await getPath(clientUser, report.heatmapUrl), name).toEqual(missingHeatmap);
      expect(await sseAnswer(clientUser, TelemetryReportUpdated, { id: report.id }), name).toEqual(
        await sseAnswer(clientUser, TelemetryReportUpdated, { id: missing }),
      );
      // Its notification went to the MSSP user, not to the client's.
      expect(await ask(clientUser, Node, { id: report.notificationId })).toEqual(
        await ask(clientUser, Node, { id: randomId('Notification') }),
      );
    }
    const listed = await clientUser.gql(CollectionTelemetryReports, { id: collections.shared, first: 100 });
    expect(listed.node).toMatchObject({
      latestTelemetryReport: { id: ownOnly.id },
      telemetryReports: { totalCount: 1, edges: [{ node: { id: ownOnly.id } }] },
    });
    // The MSSP user sees all four.
    const all = await mssp.client.gql(CollectionTelemetryReports, { id: collections.shared, first: 100 });
    expect(all.node).toMatchObject({ telemetryReports: { totalCount: 4 } });

    // The client's own report on the shared collection covers its own community only.
    const report = await generateReport(clientUser, collections.shared);
    expect(report.communities).toEqual([{ id: one }]);
  });

  it('report notifications of one tenant never reach another: not in lists, counts, node or notificationAdded', async () => {
    const [a, b] = await twoTenants(app);
    await Promise.all([sendSeen(a.client), sendSeen(b.client)]);
    const fromA = recordWs(await openWs(app, bearer(a.client)), NotificationAdded);
    // Live once something sent after it has arrived.
    await waitFor(
      async () => {
        await notifyUser(app, a.client, a.communityRawId, 'warm-up');
        await sleep(150);
        return fromA.length > 0;
      },
      { what: 'the subscription to be live' },
    );

    // B's report is ready first; A's after it, on the same ordered channel.
    const reportOfB = await reportWithNotification(b.client, b.collectionId);
    const reportOfA = await reportWithNotification(a.client, a.collectionId);
    const titles = () => fromA.map((r) => r.data?.notificationAdded.title);
    await waitFor(async () => titles().includes(reportOfA.notificationTitle), { what: "A's notification" });
    expect(titles().filter((t) => t !== 'warm-up')).toEqual([reportOfA.notificationTitle]);
    expect(JSON.stringify(fromA)).not.toContain(reportOfB.notificationId);

    const lists = await ask(a.client, Notifications, { first: 100 });
    const warmUps = await prisma.notification.count({ where: { userId: a.client.userId, title: 'warm-up' } });
    const listed = lists.json.data!.notifications.edges.map((e) => e.node).filter((n) => n.title !== 'warm-up');
    expect(listed.map((n) => n.id).sort()).toEqual([a.notificationId, reportOfA.notificationId].sort());
    expect(lists.json.data?.unreadNotificationCount).toBe(2 + warmUps);
    expectNoTrace(lists.body, b);
    expect(lists.body).not.toContain(reportOfB.id);
    expect(await ask(a.client, Node, { id: reportOfB.notificationId })).toEqual(
      await ask(a.client, Node, { id: randomId('Notification') }),
    );
  });
});
