// Telemetry through the API: events in, sightings counted, reports out.
import { describe, expect, it } from 'vitest';
import { ensurePartitions } from '../src/db/partitions.ts';
import { SIGHTINGS } from '../src/modules/telemetry/store.ts';
import type { TelemetryReportNodeQuery } from './generated/graphql.ts';
import {
  ABC,
  type Client,
  collectionWith,
  createTenant,
  createUser,
  daysAgo,
  fromGlobalId,
  generateReport,
  holdIndicatorRows,
  importText,
  indicatorByValue,
  newCollection,
  readyReport,
  reportDetails,
  revokeIndicator,
  type ReportDetails,
  sendAccepted,
  sendEvents,
  startTestApp,
  toGlobalId,
  waitFor,
  waitForReport,
} from './kit.ts';
import {
  CollectionTelemetryReports,
  GenerateTelemetryReport,
  MarkNotificationsRead,
  Notifications,
  TelemetryReportNode,
} from './documents.ts';

const app = await startTestApp();

describe('telemetry report', () => {
  it('lists the seen indicators, most sightings first, with first/last seen and a heatmap', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    await importText(tenant.client, collectionId, '203.0.113.7\nevil.example\n198.51.100.1\n');
    const answer = await sendEvents(tenant.client, [
      { '@timestamp': daysAgo(3), destination: { ip: '203.0.113.7' } },
      { '@timestamp': daysAgo(3, 13), 'source.ip': '203.0.113.7' },
      { '@timestamp': daysAgo(1), 'dns.question.name': 'EVIL.example' },
      { '@timestamp': daysAgo(1, 14), destination: { ip: '203.0.113.7' } },
    ]);
    expect(answer).toMatchObject({ status: 200, accepted: 4, rejected: 0, errors: [] });

    const report = await waitForReport(tenant.client, (await generateReport(tenant.client, collectionId)).id);
    expect(report.status).toBe('SUCCEEDED');
    expect(report.indicatorsChecked).toBe(3);
    expect(report.indicatorsSeen).toBe(2);
    const entries = report.entries.edges.map((e) => e.node);
    expect(entries.map((e) => [e.indicator.value, e.sightings])).toEqual([
      ['203.0.113.7', 3],
      ['evil.example', 1],
    ]);
    expect(entries[0].firstSeen).toBe(daysAgo(3));
    expect(entries[0].lastSeen).toBe(daysAgo(1, 14));
    expect(entries[0].heatmap).toEqual([
      { date: daysAgo(3).slice(0, 10), count: 2 },
      { date: daysAgo(1).slice(0, 10), count: 1 },
    ]);

    const svg = await tenant.client.request(entries[0].heatmapSvgUrl);
    expect(svg.status).toBe(200);
    expect(svg.headers.get('content-type')).toContain('image/svg+xml');
    const text = await svg.text();
    expect(text).toContain(`data-date="${daysAgo(3).slice(0, 10)}" data-count="2"`);
  });
});

// ---------------------------------------------------------------------------------------
// Helpers

const event = (fields: Record<string, unknown>, at = daysAgo(1)) => ({ '@timestamp': at, ...fields });
const day = (daysBack: number) => daysAgo(daysBack).slice(0, 10);

/** Polls `probe` until it answers something (a row made by a job after it ended, say). */
const waitForValue = <T>(probe: () => Promise<T | undefined | null>) =>
  waitFor(probe, { what: 'a notification' }) as Promise<T>;

const entriesOf = (details: { entries: { edges: { node: { indicator: { value: string }; sightings: number } }[] } }) =>
  details.entries.edges.map((e) => [e.node.indicator.value, e.node.sightings]);

// ---------------------------------------------------------------------------------------

describe('report window', () => {
  it('covers the past year: 364 days ago is in, 365 days ago is not, older is refused at ingest', async () => {
    const tenant = await createTenant(app);
    const [inside, justOutside, tooOld, inserted] = [
      '203.0.113.101',
      '203.0.113.102',
      '203.0.113.103',
      '203.0.113.104',
    ];
    const collectionId = await collectionWith(tenant, [inside, justOutside, tooOld, inserted]);
    const answer = await sendEvents(tenant.client, [
      event({ 'source.ip': inside }, daysAgo(364)),
      // Accepted: sightings are kept 366 days, but the report looks back 365 (today included).
      event({ 'source.ip': justOutside }, daysAgo(365)),
      event({ 'source.ip': tooOld }, new Date(Date.now() - 366 * 86_400_000 - 3600_000).toISOString()),
    ]);
    expect(answer).toEqual({
      status: 200,
      accepted: 2,
      rejected: 1,
      errors: [{ line: 3, reason: '@timestamp is older than 366 days' }],
    });

    // Sightings older than the window, as a year-old database holds them until they expire.
    const { pool } = app.services;
    const longAgo = new Date(Date.now() - 370 * 86_400_000);
    await ensurePartitions(pool, SIGHTINGS, [longAgo]);
    for (const [value, count] of [
      [inserted, 7],
      [inside, 5],
    ] as const) {
      await pool.query(
        `INSERT INTO sightings (community_id, type, value, day, count, first_seen, last_seen)
         VALUES ($1, 'IPV4', $2, $3::date, $4, $5, $5)`,
        [tenant.communityRawId, value, longAgo.toISOString().slice(0, 10), count, longAgo],
      );
    }

    const before = Date.now();
    const done = await readyReport(tenant.client, collectionId);
    const periodStart = new Date(daysAgo(364, 0));
    expect(done.periodStart).toBe(periodStart.toISOString());
    expect(Date.parse(done.periodEnd)).toBeGreaterThanOrEqual(before - 60_000);
    expect(Date.parse(done.periodEnd)).toBeLessThanOrEqual(Date.now());
    expect(done.entries.edges.map((e) => e.node)).toEqual([
      expect.objectContaining({
        indicator: expect.objectContaining({ value: inside }),
        sightings: 1,
        firstSeen: daysAgo(364),
        lastSeen: daysAgo(364),
        heatmap: [{ date: day(364), count: 1 }],
      }),
    ]);
    expect(done).toMatchObject({ indicatorsChecked: 4, indicatorsSeen: 1 });
  });
});

describe('report entries', () => {
  it('ranks by sightings, most first, ties by indicator id; pages are stable; heatmaps sum per day', async () => {
    const tenant = await createTenant(app);
    const values = ['198.51.100.11', '198.51.100.12', '198.51.100.13', '198.51.100.14', '198.51.100.15'];
    const unseen = '198.51.100.16';
    const collectionId = await collectionWith(tenant, [...values, unseen]);
    const counts: Record<string, number> = {
      '198.51.100.11': 1,
      '198.51.100.12': 2,
      '198.51.100.13': 3,
      '198.51.100.14': 2,
      '198.51.100.15': 2,
    };
    // Two requests, each with one event of every indicator on one day and the rest on another.
    for (let request = 0; request < 2; request++) {
      await sendAccepted(
        tenant.client,
        values.flatMap((ip) =>
          Array.from({ length: counts[ip] }, (_, i) =>
            event({ 'destination.ip': ip }, i === 0 ? daysAgo(5, 8 + request) : daysAgo(2, 8 + i)),
          ),
        ),
      );
    }
    const rawIds = Object.fromEntries(
      await Promise.all(
        values.map(
          async (v) => [v, fromGlobalId((await indicatorByValue(tenant.client, collectionId, v)).id).id] as const,
        ),
      ),
    );
    const expected = [...values]
      .sort((a, b) => counts[b] - counts[a] || (rawIds[a] < rawIds[b] ? -1 : 1))
      .map((v) => [v, counts[v] * 2]);
    // The ties are not in the order of their values by chance alone: their ids decide.
    expect(expected.filter(([, n]) => n === 4)).toHaveLength(3);

    const done = await readyReport(tenant.client, collectionId);
    expect(entriesOf(done)).toEqual(expected);
    expect(done.entries.totalCount).toBe(5);
    const top = done.entries.edges[0].node;
    expect(top).toMatchObject({ firstSeen: daysAgo(5, 8), lastSeen: daysAgo(2, 10) });
    expect(top.heatmap).toEqual([
      { date: day(5), count: 2 },
      { date: day(2), count: 4 },
    ]);

    // Page by page, two at a time: the same order, nothing twice, nothing missing.
    const paged: (string | number)[][] = [];
    let after: string | null = null;
    for (let pages = 1; ; pages++) {
      const { node }: TelemetryReportNodeQuery = await tenant.client.gql(TelemetryReportNode, {
        id: done.id,
        first: 2,
        after,
      });
      if (!node || !('entries' in node)) return expect.fail('the report is not visible');
      const page = node as ReportDetails;
      expect(page.entries.totalCount).toBe(5);
      expect(page.entries.edges.length).toBeLessThanOrEqual(2);
      paged.push(...entriesOf(page));
      if (!page.entries.pageInfo.hasNextPage) break;
      after = page.entries.pageInfo.endCursor;
      expect(pages, 'pages of two for five entries').toBeLessThan(3);
    }
    expect(paged).toEqual(expected);
  });

  it('reports revoked indicators and indicators outside their validity: the question is whether they were seen', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    const [revoked, expired, notYet] = ['192.0.2.31', '192.0.2.32', '192.0.2.33'];
    await importText(tenant.client, collectionId, revoked);
    await importText(tenant.client, collectionId, expired, {
      validFrom: daysAgo(700),
      validUntil: daysAgo(200),
    });
    await importText(tenant.client, collectionId, notYet, { validFrom: daysAgo(-30) });
    const indicator = await indicatorByValue(tenant.client, collectionId, revoked);
    await revokeIndicator(tenant.client, indicator.id);
    const all = await Promise.all(
      [revoked, expired, notYet].map((value) => indicatorByValue(tenant.client, collectionId, value)),
    );
    expect(all.map((i) => [i.value, i.revoked, i.validUntil, i.validFrom > new Date().toISOString()])).toEqual([
      [revoked, true, null, false],
      [expired, false, daysAgo(200), false],
      [notYet, false, null, true],
    ]);

    await sendAccepted(tenant.client, [
      event({ 'source.ip': revoked }),
      event({ 'source.ip': expired }, daysAgo(300)),
      event({ 'source.ip': expired }),
      event({ 'source.ip': notYet }),
    ]);
    const done = await readyReport(tenant.client, collectionId);
    // Ties are ranked by indicator id: the raw UUID, not the base64 of the global id.
    const rawIdOf = (value: string) => fromGlobalId(all.find((i) => i.value === value)!.id).id;
    expect(done.entries.edges.map((e) => [e.node.indicator.value, e.node.sightings, e.node.indicator.revoked])).toEqual(
      [
        [expired, 2, false],
        ...[
          [revoked, 1, true],
          [notYet, 1, false],
        ].sort(([a], [b]) => (rawIdOf(String(a)) < rawIdOf(String(b)) ? -1 : 1)),
      ],
    );
    expect(done).toMatchObject({ indicatorsChecked: 3, indicatorsSeen: 3 });
  });

  it('matches a FILE indicator by any of its hashes', async () => {
    const tenant = await createTenant(app);
    const EMPTY = {
      md5: 'd41d8cd98f00b204e9800998ecf8427e',
      sha1: 'da39a3ee5e6b4b0d3255bfef95601890afd80709',
    };
    const collectionId = await collectionWith(tenant, [`${ABC.md5},${ABC.sha1},${ABC.sha256}`, EMPTY.sha1]);
    await sendAccepted(tenant.client, [
      event({ 'file.hash.sha1': ABC.sha1 }, daysAgo(3)),
      event({ process: { hash: { md5: ABC.md5.toUpperCase() } } }, daysAgo(2)),
      event({ 'dll.hash.sha256': ABC.sha256 }, daysAgo(1)),
      // Only the SHA-1 of this file is known; its MD5 alongside changes nothing.
      event({ file: { hash: { md5: EMPTY.md5, sha1: EMPTY.sha1 } } }, daysAgo(1)),
    ]);
    const done = await readyReport(tenant.client, collectionId);
    const entries = done.entries.edges.map((e) => e.node);
    expect(entries.map((e) => [e.indicator.type, e.indicator.value, e.sightings])).toEqual([
      ['FILE', ABC.sha256, 3],
      ['FILE', EMPTY.sha1, 1],
    ]);
    expect(entries[0].heatmap).toEqual([3, 2, 1].map((d) => ({ date: day(d), count: 1 })));
  });
});

describe('MSSP', () => {
  it('covers the selected communities: by default the MSSP and its sub-communities, or one of them', async () => {
    const mssp = await createTenant(app, { children: 2 });
    const ip = '203.0.113.120';
    const collectionId = await collectionWith(mssp, [ip], { shared: true });
    const [top, one, two] = [mssp.communityId, ...mssp.childIds];
    await sendAccepted(mssp.client.withCommunities(top), [event({ 'source.ip': ip }, daysAgo(3))]);
    await sendAccepted(
      mssp.client.withCommunities(one),
      [0, 1].map((i) => event({ 'source.ip': ip }, daysAgo(2, 8 + i))),
    );
    await sendAccepted(
      mssp.client.withCommunities(two),
      [0, 1, 2].map((i) => event({ 'source.ip': ip }, daysAgo(2, 12 + i))),
    );

    const all = await readyReport(mssp.client, collectionId);
    expect(all.communities.map((c) => c.id).sort()).toEqual([top, one, two].sort());
    expect(entriesOf(all)).toEqual([[ip, 6]]);
    expect(all.entries.edges[0].node.heatmap).toEqual([
      { date: day(3), count: 1 },
      { date: day(2), count: 5 },
    ]);

    const onlyOne = await readyReport(mssp.client.withCommunities(one), collectionId);
    expect(onlyOne.communities).toEqual([{ id: one }]);
    expect(entriesOf(onlyOne)).toEqual([[ip, 2]]);
    expect(onlyOne.entries.edges[0].node).toMatchObject({ firstSeen: daysAgo(2, 8), lastSeen: daysAgo(2, 9) });
  });

  it('is forbidden over a sub-community where the user may not see telemetry, and leaves it out by default', async () => {
    const mssp = await createTenant(app, { children: 2 });
    const ip = '203.0.113.121';
    const collectionId = await collectionWith(mssp, [ip], { shared: true });
    const [one, two] = mssp.childIds;
    await sendAccepted(mssp.client.withCommunities(one), [event({ 'source.ip': ip })]);
    await sendAccepted(mssp.client.withCommunities(two), [event({ 'source.ip': ip }), event({ 'source.ip': ip })]);
    const user = await createUser(app, [
      { communityId: mssp.childRawIds[0], role: 'analyst' },
      { communityId: mssp.childRawIds[1], role: 'viewer' },
    ]);

    // The viewer of client two reads the shared collection there, but not telemetry.
    const visible = await user.withCommunities(two).gql(CollectionTelemetryReports, { id: collectionId });
    expect(visible.node).toMatchObject({ latestTelemetryReport: null });
    const refused = await user.withCommunities(two).gql(GenerateTelemetryReport, { input: { collectionId } });
    expect(refused.generateTelemetryReport).toMatchObject({
      __typename: 'ForbiddenError',
      code: 'FORBIDDEN',
      missingPermission: 'VIEW_IOC_COLLECTIONS_TELEMETRY',
    });
    const reports = await mssp.client.gql(CollectionTelemetryReports, { id: collectionId, first: 10 });
    expect(reports.node).toMatchObject({ telemetryReports: { totalCount: 0 } });

    // Both selected: the report covers client one only.
    const done = await readyReport(user, collectionId);
    expect(done.communities).toEqual([{ id: one }]);
    expect(entriesOf(done)).toEqual([[ip, 1]]);
  });
});

describe('latest report, list of reports', () => {
  it('latestTelemetryReport is null before the first, then the report while it runs and when it is ready', async () => {
    const tenant = await createTenant(app);
    const ip = '203.0.113.130';
    const collectionId = await collectionWith(tenant, [ip]);
    await sendAccepted(tenant.client, [event({ 'source.ip': ip })]);
    const reports = async () => {
      const { node } = await tenant.client.gql(CollectionTelemetryReports, { id: collectionId, first: 10 });
      if (!node || !('telemetryReports' in node)) return expect.fail('the collection is not visible');
      return node;
    };
    expect(await reports()).toEqual({
      latestTelemetryReport: null,
      telemetryReports: { totalCount: 0, pageInfo: { hasNextPage: false, endCursor: null }, edges: [] },
    });

    const release = await holdIndicatorRows(
      app,
      collectionId,
      (await indicatorByValue(tenant.client, collectionId, ip)).id,
    );
    const first = await generateReport(tenant.client, collectionId);
    expect(first.status).toBe('QUEUED');
    const running = await reports();
    expect(running.latestTelemetryReport?.id).toBe(first.id);
    expect(['QUEUED', 'RUNNING']).toContain(running.latestTelemetryReport?.status);
    expect((await reportDetails(tenant.client, first.id))?.entries.totalCount).toBe(0);
    await release();
    await waitForReport(tenant.client, first.id);
    expect((await reports()).latestTelemetryReport).toMatchObject({ id: first.id, status: 'SUCCEEDED' });

    const second = await readyReport(tenant.client, collectionId);
    const after = await reports();
    expect(after.latestTelemetryReport).toMatchObject({ id: second.id, status: 'SUCCEEDED' });
    expect(after.telemetryReports.totalCount).toBe(2);
    expect(after.telemetryReports.edges.map((e) => e.node.id)).toEqual([second.id, first.id]);
    // One at a time, newest first.
    const firstPage = await tenant.client.gql(CollectionTelemetryReports, { id: collectionId, first: 1 });
    const one = firstPage.node && 'telemetryReports' in firstPage.node ? firstPage.node.telemetryReports : null;
    expect(one).toMatchObject({ totalCount: 2, pageInfo: { hasNextPage: true }, edges: [{ node: { id: second.id } }] });
    const nextPage = await tenant.client.gql(CollectionTelemetryReports, {
      id: collectionId,
      first: 1,
      after: one!.pageInfo.endCursor,
    });
    expect(nextPage.node).toMatchObject({
      telemetryReports: { pageInfo: { hasNextPage: false }, edges: [{ node: { id: first.id } }] },
    });
  });
});

describe('the ready notification', () => {
  it("tells the requester (only) about the report, and is read, counted and ordered like the user's other notifications", async () => {
    const tenant = await createTenant(app);
    const ip = '203.0.113.140';
    const collectionId = await collectionWith(tenant, [ip, 'never-seen.example']);
    await sendAccepted(tenant.client, [event({ 'source.ip': ip })]);
    const colleague = await createUser(app, [{ communityId: tenant.communityRawId, role: 'admin' }]);
    const notifications = (
      client: Client,
      variables: { first?: number; after?: string | null; unreadOnly?: boolean },
    ) => client.gql(Notifications, { first: 20, ...variables });

    // The import left one notification.
    const initial = await notifications(tenant.client, {});
    expect(initial.notifications.edges.map((e) => e.node.kind)).toEqual(['IMPORT_FINISHED']);
    const importNotification = initial.notifications.edges[0].node;

    const first = await readyReport(tenant.client, collectionId);
    const second = await readyReport(tenant.client, collectionId);
    // The job ends, then notifies: wait for the notification itself.
    const forReport = async (reportId: string) => {
      const { notifications: list } = await notifications(tenant.client, {});
      return list.edges.map((e) => e.node).find((n) => n.subject?.id === reportId);
    };
    const readyFirst = await waitForValue(() => forReport(first.id));
    const readySecond = await waitForValue(() => forReport(second.id));
    expect(readyFirst).toEqual({
      id: expect.any(String),
      kind: 'TELEMETRY_REPORT_READY',
      title: expect.stringContaining('1 of 2'),
      read: false,
      subject: { __typename: 'TelemetryReport', id: first.id, status: 'SUCCEEDED', indicatorsSeen: 1 },
    });
    expect(readyFirst.title).toContain(first.collection.name);

    // Unread first, newest first.
    const all = await notifications(tenant.client, {});
    expect(all.unreadNotificationCount).toBe(3);
    expect(all.notifications.edges.map((e) => e.node.id)).toEqual([
      readySecond.id,
      readyFirst.id,
      importNotification.id,
    ]);
    expect((await notifications(colleague, {})).notifications).toMatchObject({ totalCount: 0, edges: [] });
    expect((await notifications(colleague, {})).unreadNotificationCount).toBe(0);

    const marked = await tenant.client.gql(MarkNotificationsRead, { input: { ids: [readySecond.id] } });
    expect(marked.markNotificationsRead).toEqual({
      __typename: 'MarkNotificationsReadSuccess',
      result: { markedRead: 1, unreadCount: 2 },
    });
    // Marking it again changes nothing; the colleague cannot mark it.
    expect(
      (await tenant.client.gql(MarkNotificationsRead, { input: { ids: [readySecond.id] } })).markNotificationsRead,
    ).toEqual({
      __typename: 'MarkNotificationsReadSuccess',
      result: { markedRead: 0, unreadCount: 2 },
    });
    expect(
      (await colleague.gql(MarkNotificationsRead, { input: { ids: [readyFirst.id] } })).markNotificationsRead,
    ).toEqual({
      __typename: 'MarkNotificationsReadSuccess',
      result: { markedRead: 0, unreadCount: 0 },
    });

    const unreadFirst = [readyFirst.id, importNotification.id, readySecond.id];
    const afterMark = await notifications(tenant.client, {});
    expect(afterMark.unreadNotificationCount).toBe(2);
    expect(afterMark.notifications.edges.map((e) => [e.node.id, e.node.read])).toEqual([
      [readyFirst.id, false],
      [importNotification.id, false],
      [readySecond.id, true],
    ]);
    const unreadOnly = await notifications(tenant.client, { unreadOnly: true });
    expect(unreadOnly.notifications.totalCount).toBe(2);
    expect(unreadOnly.notifications.edges.map((e) => e.node.id)).toEqual(unreadFirst.slice(0, 2));

    // Page by page, one at a time, the same order.
    const paged: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 5; page++) {
      const { notifications: list } = await notifications(tenant.client, { first: 1, after });
      paged.push(...list.edges.map((e) => e.node.id));
      if (!list.pageInfo.hasNextPage) break;
      after = list.pageInfo.endCursor;
    }
    expect(paged).toEqual(unreadFirst);

    // Without ids: every one of the user's, none of anybody else's.
    expect((await tenant.client.gql(MarkNotificationsRead, { input: {} })).markNotificationsRead).toEqual({
      __typename: 'MarkNotificationsReadSuccess',
      result: { markedRead: 2, unreadCount: 0 },
    });
    expect((await notifications(tenant.client, { unreadOnly: true })).notifications.totalCount).toBe(0);
  });
});

describe('heatmap SVG endpoint', () => {
  it('serves the heatmap of an entry to those who may see the report, with an ETag; 404 for anything else', async () => {
    const [owner, stranger] = await Promise.all([createTenant(app), createTenant(app)]);
    const ip = '203.0.113.150';
    const unseen = '203.0.113.151';
    const collectionId = await collectionWith(owner, [ip, unseen]);
    await sendAccepted(owner.client, [
      event({ 'source.ip': ip }, daysAgo(4)),
      event({ 'source.ip': ip }, daysAgo(4, 13)),
    ]);
    const done = await readyReport(owner.client, collectionId);
    const entry = done.entries.edges[0].node;
    const reportId = done.id;
    const indicatorId = entry.indicator.id;
    const path = (report: string, indicator: string) => `/api/telemetry-reports/${report}/heatmaps/${indicator}.svg`;
    expect(entry.heatmapSvgUrl).toBe(path(reportId, indicatorId));

    const svg = await owner.client.request(entry.heatmapSvgUrl);
    expect(svg.status).toBe(200);
    expect(svg.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    const etag = svg.headers.get('etag');
    expect(etag).toBeTruthy();
    const text = await svg.text();
    expect(text).toMatch(/^(<\?xml[^>]*>\s*)?<svg[\s>]/);
    expect(text).toContain(`data-date="${day(4)}" data-count="2"`);
    expect(text).toContain(ip);

    const again = await owner.client.request(entry.heatmapSvgUrl, { headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    const changed = await owner.client.request(entry.heatmapSvgUrl, { headers: { 'if-none-match': '"other"' } });
    expect(changed.status).toBe(200);

    // The stranger's own report, for ids that are real but not the owner's.
    const strangerCollection = await collectionWith(stranger, [ip]);
    await sendAccepted(stranger.client, [event({ 'source.ip': ip })]);
    const strangerReport = await readyReport(stranger.client, strangerCollection);
    const strangerIndicator = strangerReport.entries.edges[0].node.indicator.id;

    const notFound = async (client: Client, url: string) => {
      const response = await client.request(url);
      expect(response.status, url).toBe(404);
      return response.text();
    };
    const randomReport = toGlobalId('TelemetryReport', crypto.randomUUID());
    const randomIndicator = toGlobalId('Indicator', crypto.randomUUID());
    const answer = await notFound(owner.client, path(randomReport, indicatorId));
    for (const [client, url] of [
      [stranger.client, entry.heatmapSvgUrl],
      [owner.client, path(strangerReport.id, indicatorId)],
      [owner.client, path(reportId, strangerIndicator)],
      [owner.client, path(strangerReport.id, strangerIndicator)],
      [owner.client, path(reportId, randomIndicator)],
      // An indicator of the collection that was not seen has no entry.
      [owner.client, path(reportId, (await indicatorByValue(owner.client, collectionId, unseen)).id)],
      // Malformed: not base64, ids of another type, no uuid.
      [owner.client, path('nope', indicatorId)],
      [owner.client, path(reportId, 'nope')],
      [owner.client, path(indicatorId, reportId)],
      [owner.client, path(collectionId, indicatorId)],
      [owner.client, path(toGlobalId('TelemetryReport', '42'), indicatorId)],
      [owner.client, path(encodeURIComponent('%%%'), indicatorId)],
      [owner.client, `/api/telemetry-reports/${reportId}/heatmaps/.svg`],
    ] as const) {
      if (url.endsWith('/heatmaps/.svg')) {
        expect((await client.request(url)).status).toBe(404);
        continue;
      }
      expect(await notFound(client, url)).toBe(answer);
    }

    const anonymous = await app.yoga.fetch(`http://yoga${entry.heatmapSvgUrl}`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.text()).not.toContain('<svg');
  });
});
