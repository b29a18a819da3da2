// Detection through the API: rules on collections, alerts on new events, retrohunt.
//
// Synchronisation: live detection runs in the ingest transaction, so an event's alert is
// there when POST /api/events has answered. Retrohunts are background jobs: a test that
// needs one over waits (waitFor) until every retrohunt of the rule has ended, and sends
// the events it means for live detection only after that, so no scan can pick them up.
import { describe, expect, it } from 'vitest';
import type { AlertsQuery } from './generated/graphql.ts';
import {
  ABC,
  type AlertFilter,
  allAlerts,
  type Client,
  createCollection,
  createRule,
  createTenant,
  createUser,
  daysAgo,
  expectMember,
  importText,
  indicatorByValue,
  newCollection,
  requestImport,
  ruleState,
  sendAccepted,
  sendEvents,
  startTestApp,
  unique,
  updateAlertStatus,
  updateRule,
  waitFor,
  waitForImport,
  waitForRetrohunts,
  watchedCollection,
} from './kit.ts';
import {
  Alerts,
  CollectionDetectionRules,
  CreateCollection,
  CreateDetectionRule,
  RetrohuntNode,
  RevokeIndicator,
  UpdateDetectionRule,
} from './documents.ts';

const app = await startTestApp();
const { prisma } = app.services;

/** An ISO time `ms` milliseconds from `base`. */
const shift = (base: string | number, ms: number) => new Date(new Date(base).getTime() + ms).toISOString();
const DAY = 86_400_000;

// ---------------------------------------------------------------------------------------

describe('detection', () => {
  it('raises an alert for a new event and counts repeats on it', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    await importText(tenant.client, collectionId, '203.0.113.9\n');
    const rule = await tenant.client.gql(CreateDetectionRule, { input: { collectionId } });
    expectMember(rule.createDetectionRule, 'CreateDetectionRuleSuccess');
    // The indicator is valid from its import: events from then on match.
    const at = new Date().toISOString();
    expect(await sendEvents(tenant.client, [{ '@timestamp': at, source: { ip: '203.0.113.9' } }])).toMatchObject({
      accepted: 1,
    });
    expect(
      await sendEvents(tenant.client, [{ '@timestamp': new Date().toISOString(), 'destination.ip': '203.0.113.9' }]),
    ).toMatchObject({ accepted: 1 });
    const { alerts } = await tenant.client.gql(Alerts, { collectionId });
    expect(alerts.totalCount).toBe(1);
    expect(alerts.edges[0].node).toMatchObject({
      field: 'source.ip',
      value: '203.0.113.9',
      count: 2,
      retrohunt: false,
    });
  });

  it('retrohunts stored events when a rule is created', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    await sendEvents(tenant.client, [{ '@timestamp': daysAgo(2), dns: { question: { name: 'bad.example' } } }]);
    // Valid from now: the event two days ago is inside the 5-day look-back.
    await importText(tenant.client, collectionId, 'bad.example\n');
    await tenant.client.gql(CreateDetectionRule, { input: { collectionId } });
    const alert = await waitFor(async () => (await tenant.client.gql(Alerts, { collectionId })).alerts.edges[0]?.node);
    expect(alert).toMatchObject({ retrohunt: true, count: 1, value: 'bad.example', field: 'dns.question.name' });
  });
});

describe('rules', () => {
  it('a rule made with the collection and one added later are listed on it; both detect, each with its own alert', async () => {
    const tenant = await createTenant(app);
    const name = unique('with rule');
    const collection = await createCollection(tenant.client, {
      communityId: tenant.communityId,
      name,
      createDetectionRule: true,
    });
    expect(collection.createDetectionRule).toBe(true);
    const first = await tenant.client.gql(CollectionDetectionRules, { id: collection.id });
    const [made] = first.node && 'detectionRules' in first.node ? first.node.detectionRules : [];
    expect(made).toMatchObject({ name, enabled: true, collection: { id: collection.id } });

    expect(await importText(tenant.client, collection.id, '203.0.113.10', { validFrom: daysAgo(3) })).toMatchObject({
      created: 1,
    });
    const later = await createRule(tenant.client, collection.id, { name: 'second rule' });
    expect(later).toMatchObject({ name: 'second rule', enabled: true, latestRetrohunt: { trigger: 'RULE_CREATED' } });
    // Rule names are unique per collection.
    const again = await tenant.client.gql(CreateDetectionRule, {
      input: { collectionId: collection.id, name: ' second rule ' },
    });
    expectMember(again.createDetectionRule, 'ConflictError');

    const listed = await tenant.client.gql(CollectionDetectionRules, { id: collection.id });
    expect(listed.node && 'detectionRules' in listed.node && listed.node.detectionRules.map((r) => r.id)).toEqual([
      made.id,
      later.id,
    ]);
    // The first rule looked back for the imported indicator, the second when it was made.
    expect((await waitForRetrohunts(tenant.client, made.id)).trigger).toBe('INDICATORS_ADDED');
    await waitForRetrohunts(tenant.client, later.id);

    // The excerpt is the first matching event as it was sent: nested, dotted, arrays, other fields.
    const event = {
      '@timestamp': new Date().toISOString(),
      message: 'connection to 203.0.113.10 – “quoted” ünïcödé',
      'event.action': 'network-flow',
      source: { ip: '192.0.2.1', port: 51123 },
      'destination.ip': ['203.0.113.10'],
      labels: { nested: { deep: [1, 2.5, true, null, { x: 'y' }] } },
    };
    await sendAccepted(tenant.client, [event]);
    const alerts = await allAlerts(tenant.client, { collectionId: collection.id });
    expect(alerts.map((a) => a.rule!.id).sort()).toEqual([made.id, later.id].sort());
    for (const alert of alerts) {
      expect(alert).toMatchObject({ field: 'destination.ip', value: '203.0.113.10', count: 1, retrohunt: false });
      expect(alert.excerpt).toEqual(event);
    }
  });

  it('a disabled rule raises nothing; enabling it retrohunts the events stored meanwhile, each counted once', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    await importText(tenant.client, collectionId, '198.51.100.30', { validFrom: daysAgo(10) });
    const rule = await createRule(tenant.client, collectionId, { enabled: false });
    expect(rule).toMatchObject({ enabled: false, latestRetrohunt: null });
    const event = (days: number, hour: number) => ({ '@timestamp': daysAgo(days, hour), 'source.ip': '198.51.100.30' });

    await sendAccepted(tenant.client, [event(3, 1)]);
    expect(await allAlerts(tenant.client, { ruleId: rule.id })).toEqual([]);

    const enabled = await updateRule(tenant.client, rule.id, { enabled: true });
    expect(enabled).toMatchObject({ enabled: true, latestRetrohunt: { trigger: 'RULE_ENABLED' } });
    expect(await waitForRetrohunts(tenant.client, rule.id)).toMatchObject({
      status: 'SUCCEEDED',
      matches: 1,
      alertsCreated: 1,
    });
    const [found] = await allAlerts(tenant.client, { ruleId: rule.id });
    expect(found).toMatchObject({ retrohunt: true, count: 1, firstSeen: daysAgo(3, 1) });

    // Live again, then off: events while it is off count for nothing...
    await sendAccepted(tenant.client, [event(2, 1)]);
    expect(await updateRule(tenant.client, rule.id, { enabled: false })).toMatchObject({ enabled: false });
    await sendAccepted(tenant.client, [event(1, 1), event(1, 2)]);
    expect(await allAlerts(tenant.client, { ruleId: rule.id })).toMatchObject([{ id: found.id, count: 2 }]);

    // ...until it is on again: the new retrohunt finds those two, not the two already counted.
    await updateRule(tenant.client, rule.id, { enabled: true });
    expect(await waitForRetrohunts(tenant.client, rule.id, { hunts: 2 })).toMatchObject({
      trigger: 'RULE_ENABLED',
      status: 'SUCCEEDED',
      matches: 2,
      alertsCreated: 0,
    });
    expect(await allAlerts(tenant.client, { ruleId: rule.id })).toMatchObject([
      { id: found.id, count: 4, firstSeen: daysAgo(3, 1), lastSeen: daysAgo(1, 2), status: 'OPEN' },
    ]);
    // Updating an enabled rule (a rename, enabling again) starts no retrohunt.
    await updateRule(tenant.client, rule.id, { name: 'renamed', enabled: true });
    expect((await ruleState(tenant.client, rule.id)).retrohunts.totalCount).toBe(2);
  });

  it('managing rules takes MANAGE_DETECTION_RULES in the community that owns the collection', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    const rule = await createRule(tenant.client, collectionId);
    const viewer = await createUser(app, [{ communityId: tenant.communityRawId, role: 'viewer' }]);
    const forbidden = { __typename: 'ForbiddenError', code: 'FORBIDDEN', missingPermission: 'MANAGE_DETECTION_RULES' };

    expect((await viewer.gql(CreateDetectionRule, { input: { collectionId } })).createDetectionRule).toMatchObject(
      forbidden,
    );
    expect(
      (await viewer.gql(UpdateDetectionRule, { input: { id: rule.id, enabled: false } })).updateDetectionRule,
    ).toMatchObject(forbidden);
    // A viewer reads the rules.
    const seen = await viewer.gql(CollectionDetectionRules, { id: collectionId });
    expect(seen.node).toMatchObject({ detectionRules: [{ id: rule.id, enabled: true }] });

    // A role that may manage collections but not detection cannot ask for a rule with a new collection.
    const curator = await prisma.role.create({
      data: { name: unique('curator'), permissions: ['VIEW_IOC_COLLECTIONS', 'MANAGE_IOC_COLLECTIONS'] },
    });
    const curatorUser = await createUser(app, []);
    await prisma.membership.create({
      data: { userId: curatorUser.userId, communityId: tenant.communityRawId, roleId: curator.id },
    });
    const withRule = await curatorUser.gql(CreateCollection, {
      input: { communityId: tenant.communityId, name: unique('no rule'), createDetectionRule: true },
    });
    expect(withRule.createCollection).toMatchObject(forbidden);
    expect(await prisma.collection.count({ where: { communityId: tenant.communityRawId } })).toBe(1);
    expect(await prisma.detectionRule.count({ where: { collection: { communityId: tenant.communityRawId } } })).toBe(1);

    // An MSSP's shared collection is managed from the MSSP only: not by a client, nor by the
    // MSSP's own user acting as the client.
    const mssp = await createTenant(app, { children: 1 });
    const shared = await createCollection(mssp.client, {
      communityId: mssp.communityId,
      name: unique('shared'),
      availableForSubCommunities: true,
    });
    const msspRule = await createRule(mssp.client, shared.id);
    const clientUser = await createUser(app, [{ communityId: mssp.childRawIds[0], role: 'admin' }]);
    for (const below of [clientUser, mssp.client.withCommunities(mssp.childIds[0])]) {
      expect(
        (await below.gql(CreateDetectionRule, { input: { collectionId: shared.id } })).createDetectionRule,
      ).toMatchObject({
        __typename: 'ForbiddenError',
      });
      expect(
        (await below.gql(UpdateDetectionRule, { input: { id: msspRule.id, enabled: false } })).updateDetectionRule,
      ).toMatchObject({ __typename: 'ForbiddenError' });
      // It reads the shared collection's rule.
      expect((await below.gql(CollectionDetectionRules, { id: shared.id })).node).toMatchObject({
        detectionRules: [{ id: msspRule.id, enabled: true }],
      });
    }
    expect(await prisma.detectionRule.count({ where: { collection: { communityId: mssp.communityRawId } } })).toBe(1);
  });
});

describe('matching', () => {
  it('an IP indicator in the command-and-control phase matches destination.ip only; others every IP field', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    const validFrom = daysAgo(10);
    const c2 = {
      '198.51.100.40': [{ phaseName: 'c2' }],
      '198.51.100.41': [{ killChainName: 'mitre-attack', phaseName: 'Command and Control' }],
      '2001:db8::c2': [{ phaseName: 'command-and-control' }],
    };
    for (const [ip, killChainPhases] of Object.entries(c2)) {
      expect(await importText(tenant.client, collectionId, ip, { validFrom, killChainPhases })).toMatchObject({
        created: 1,
      });
    }
    await importText(tenant.client, collectionId, '198.51.100.42', {
      validFrom,
      killChainPhases: [{ phaseName: 'delivery' }],
    });
    await importText(tenant.client, collectionId, '198.51.100.43', { validFrom });
    expect((await indicatorByValue(tenant.client, collectionId, '198.51.100.41')).killChainPhases).toEqual([
      { killChainName: 'mitre-attack', phaseName: 'command-and-control' },
    ]);
    const rule = await createRule(tenant.client, collectionId);
    await waitForRetrohunts(tenant.client, rule.id);

    const ips = [...Object.keys(c2), '198.51.100.42', '198.51.100.43'];
    const others = ['source.ip', 'client.ip', 'server.ip', 'host.ip'];
    let minute = 0;
    const events = (fields: string[]) =>
      ips.flatMap((ip) => fields.map((field) => ({ '@timestamp': shift(daysAgo(1), 60_000 * minute++), [field]: ip })));
    await sendAccepted(tenant.client, events(others));
    const byValue = async () =>
      Object.fromEntries((await allAlerts(tenant.client, { ruleId: rule.id })).map((a) => [a.value, a]));
    const afterOthers = await byValue();
    expect(Object.keys(afterOthers).sort()).toEqual(['198.51.100.42', '198.51.100.43']);
    for (const alert of Object.values(afterOthers)) expect(alert.count).toBe(others.length);

    await sendAccepted(tenant.client, events(['destination.ip']));
    const all = await byValue();
    expect(Object.keys(all).sort()).toEqual([...ips].sort());
    for (const ip of Object.keys(c2)) {
      expect(all[ip], ip).toMatchObject({ count: 1, field: 'destination.ip' });
    }
    for (const ip of ['198.51.100.42', '198.51.100.43']) expect(all[ip].count).toBe(others.length + 1);
  });

  it('matches from validFrom (included) until validUntil (excluded), to the millisecond', async () => {
    const tenant = await createTenant(app);
    const validFrom = shift(daysAgo(4), 123);
    const validUntil = shift(validFrom, DAY + 7);
    const { ruleId } = await watchedCollection(tenant, ['198.51.100.50', 'window.example'], {
      properties: { validFrom, validUntil },
    });
    const at = (time: string, i: number) => [
      { '@timestamp': time, 'source.ip': '198.51.100.50' },
      { '@timestamp': time, dns: { question: { name: 'WINDOW.example.' } }, n: i },
    ];
    const times = [shift(validUntil, 0), shift(validFrom, -1), shift(validUntil, -1), shift(validFrom, 0)];
    await sendAccepted(
      tenant.client,
      times.flatMap((time, i) => at(time, i)),
    );
    const alerts = await allAlerts(tenant.client, { ruleId });
    expect(alerts).toHaveLength(2);
    for (const alert of alerts) {
      expect(alert, alert.value).toMatchObject({ count: 2, firstSeen: validFrom, lastSeen: shift(validUntil, -1) });
    }
    expect(alerts.find((a) => a.value === 'window.example')).toMatchObject({ field: 'dns.question.name' });
  });

  it('a retrohunt looks 5 days before validFrom and after validUntil, and no further', async () => {
    const tenant = await createTenant(app);
    const validUntil = shift(daysAgo(7), 5);
    const validFrom = shift(validUntil, -2 * DAY);
    const margin = 5 * DAY;
    const times = [
      shift(validFrom, -margin - 1),
      shift(validFrom, -margin),
      shift(validUntil, margin - 1),
      shift(validUntil, margin),
    ];
    await sendAccepted(
      tenant.client,
      times.map((time) => ({ '@timestamp': time, url: { full: 'hxxp://margin[.]example/x?y=1' } })),
    );
    const collectionId = await newCollection(tenant);
    await importText(tenant.client, collectionId, 'http://margin.example/x?y=1', { validFrom, validUntil });
    const rule = await createRule(tenant.client, collectionId);
    expect(await waitForRetrohunts(tenant.client, rule.id)).toMatchObject({
      status: 'SUCCEEDED',
      matches: 2,
      alertsCreated: 1,
    });
    expect(await allAlerts(tenant.client, { ruleId: rule.id })).toMatchObject([
      {
        retrohunt: true,
        count: 2,
        firstSeen: times[1],
        lastSeen: times[2],
        field: 'url.full',
        value: 'http://margin.example/x?y=1',
      },
    ]);
  });

  it('a revoked indicator matches no event after revokeIndicator has answered, live or by retrohunt', async () => {
    const tenant = await createTenant(app);
    const { collectionId, ruleId } = await watchedCollection(tenant, ['198.51.100.60', '198.51.100.61']);
    const event = (ip: string) => ({ '@timestamp': new Date().toISOString(), 'destination.ip': ip });
    await sendAccepted(tenant.client, [event('198.51.100.60')]);
    expect(await allAlerts(tenant.client, { ruleId })).toMatchObject([{ value: '198.51.100.60', count: 1 }]);

    const { id } = await indicatorByValue(tenant.client, collectionId, '198.51.100.60');
    const revoked = await tenant.client.gql(RevokeIndicator, { input: { id } });
    expect(expectMember(revoked.revokeIndicator, 'RevokeIndicatorSuccess').indicator.revoked).toBe(true);
    // The very next batch: the revoked one is not matched, the other one is (the batch was checked).
    await sendAccepted(tenant.client, [event('198.51.100.60'), event('198.51.100.61')]);
    const after = await allAlerts(tenant.client, { ruleId });
    expect(Object.fromEntries(after.map((a) => [a.value, a.count]))).toEqual({
      '198.51.100.60': 1,
      '198.51.100.61': 1,
    });
    // Nor does a retrohunt over the stored events count it.
    await updateRule(tenant.client, ruleId, { enabled: false });
    await updateRule(tenant.client, ruleId, { enabled: true });
    expect(await waitForRetrohunts(tenant.client, ruleId, { hunts: 2 })).toMatchObject({
      status: 'SUCCEEDED',
      matches: 0,
    });
    expect(await allAlerts(tenant.client, { ruleId })).toEqual(after);
  });

  it('an import while events flow: the next event matches live, the ones before are found by its retrohunt', async () => {
    const tenant = await createTenant(app);
    const collection = await createCollection(tenant.client, {
      communityId: tenant.communityId,
      name: unique('flowing'),
      createDetectionRule: true,
    });
    const listed = (await tenant.client.gql(CollectionDetectionRules, { id: collection.id })).node;
    const [rule] = listed && 'detectionRules' in listed ? listed.detectionRules : [];
    const domain = `${unique('flow').replace(' ', '-')}.example`;
    let clock = Date.now() - 60_000;
    const sent: string[] = [];
    const sendOne = async () => {
      const time = new Date((clock = Math.max(clock + 1, Date.now()))).toISOString();
      await sendAccepted(tenant.client, [{ '@timestamp': time, 'url.domain': domain.toUpperCase() }]);
      sent.push(time);
      return time;
    };
    await sendOne(); // just before the import
    let importing = true;
    const flow = (async () => {
      while (importing) await sendOne();
    })();
    try {
      const job = await requestImport(tenant.client, collection.id, domain);
      expect(await waitForImport(tenant.client, job.id)).toMatchObject({ status: 'SUCCEEDED', created: 1 });
    } finally {
      importing = false;
      await flow;
    }
    // The import has ended: the next event is matched in its own batch.
    const next = await sendOne();
    const [live] = await allAlerts(tenant.client, { ruleId: rule.id });
    expect(live).toMatchObject({ value: domain, field: 'url.domain', lastSeen: next });

    // The retrohunt for the new indicator finds the events from before; each event counts once.
    expect(await waitForRetrohunts(tenant.client, rule.id)).toMatchObject({
      trigger: 'INDICATORS_ADDED',
      status: 'SUCCEEDED',
      indicatorsSince: expect.any(String),
    });
    expect(await allAlerts(tenant.client, { ruleId: rule.id })).toMatchObject([
      { id: live.id, count: sent.length, firstSeen: sent[0], lastSeen: next },
    ]);
  });

  it('a shared collection detects in every sub-community, each alert in its community and seen there only', async () => {
    const mssp = await createTenant(app, { children: 2 });
    const [top, one, two] = [mssp.communityId, ...mssp.childIds];
    const ip = '198.51.100.70';
    const properties = { validFrom: daysAgo(5) };
    const collect = (client: Client, communityId: string, shared: boolean) =>
      watchedCollection({ client, communityId }, [ip], { properties, shared });
    const clientOne = await createUser(app, [{ communityId: mssp.childRawIds[0], role: 'admin' }]);
    const clientTwo = await createUser(app, [{ communityId: mssp.childRawIds[1], role: 'viewer' }]);
    const shared = await collect(mssp.client, top, true);
    const notShared = await collect(mssp.client, top, false);
    const own = await collect(clientOne, one, false);

    // Client two's events come from a sensor of client two only (it knows nothing of the MSSP).
    const sensorTwo = await createUser(app, [{ communityId: mssp.childRawIds[1], role: 'sensor' }]);
    for (const sender of [mssp.client.withCommunities(top), mssp.client.withCommunities(one), sensorTwo]) {
      await sendAccepted(sender, [{ '@timestamp': daysAgo(1), 'client.ip': ip }]);
    }
    const seen = async (client: Client) =>
      (await allAlerts(client))
        .map((a) => `${a.rule!.id} ${a.community.id}`)
        .sort()
        .join('\n');
    const alert = (rule: { ruleId: string }, community: string) => `${rule.ruleId} ${community}`;

    expect(await seen(mssp.client)).toBe(
      [alert(shared, top), alert(shared, one), alert(shared, two), alert(notShared, top), alert(own, one)]
        .sort()
        .join('\n'),
    );
    expect(await seen(mssp.client.withCommunities(top))).toBe(
      [alert(shared, top), alert(notShared, top)].sort().join('\n'),
    );
    expect(await seen(clientOne)).toBe([alert(shared, one), alert(own, one)].sort().join('\n'));
    expect(await seen(clientTwo)).toBe(alert(shared, two));
    for (const a of await allAlerts(clientTwo)) expect(a).toMatchObject({ count: 1, value: ip, field: 'client.ip' });
  });

  it('repeats count on one open alert; acknowledged keeps counting; after closing, a new alert', async () => {
    const tenant = await createTenant(app);
    const { ruleId } = await watchedCollection(tenant, ['198.51.100.80']);
    const event = (time: string, field: string) => ({ '@timestamp': time, [field]: '198.51.100.80', field });
    // The first event received is not the earliest.
    const first = event(daysAgo(2), 'source.ip');
    await sendAccepted(tenant.client, [first]);
    await sendAccepted(tenant.client, [event(daysAgo(4), 'destination.ip'), event(daysAgo(3), 'server.ip')]);
    await sendAccepted(tenant.client, [event(daysAgo(1), 'host.ip')]);
    const [alert, ...more] = await allAlerts(tenant.client, { ruleId });
    expect(more).toEqual([]);
    expect(alert).toMatchObject({
      count: 4,
      firstSeen: daysAgo(4),
      lastSeen: daysAgo(1),
      field: 'source.ip',
      value: '198.51.100.80',
      status: 'OPEN',
      retrohunt: false,
      excerpt: first,
    });

    // Triage needs MANAGE_DETECTION_RULES; a viewer sees the alert but cannot change it.
    const viewer = await createUser(app, [{ communityId: tenant.communityRawId, role: 'viewer' }]);
    expect((await allAlerts(viewer)).map((a) => a.id)).toEqual([alert.id]);
    expect(await updateAlertStatus(viewer, alert.id, 'CLOSED')).toMatchObject({
      __typename: 'ForbiddenError',
      missingPermission: 'MANAGE_DETECTION_RULES',
    });

    expect(await updateAlertStatus(tenant.client, alert.id, 'ACKNOWLEDGED')).toMatchObject({
      __typename: 'UpdateAlertStatusSuccess',
      alert: { id: alert.id, status: 'ACKNOWLEDGED' },
    });
    await sendAccepted(tenant.client, [event(daysAgo(1, 13), 'client.ip')]);
    expect(await allAlerts(tenant.client, { ruleId })).toMatchObject([
      { id: alert.id, status: 'ACKNOWLEDGED', count: 5, lastSeen: daysAgo(1, 13) },
    ]);

    expect(await updateAlertStatus(tenant.client, alert.id, 'CLOSED')).toMatchObject({ alert: { status: 'CLOSED' } });
    const reopened = event(daysAgo(1, 14), 'destination.ip');
    await sendAccepted(tenant.client, [reopened]);
    const [fresh, closed] = await allAlerts(tenant.client, { ruleId });
    expect(closed).toMatchObject({ id: alert.id, status: 'CLOSED', count: 5 });
    expect(fresh).toMatchObject({
      status: 'OPEN',
      count: 1,
      firstSeen: daysAgo(1, 14),
      lastSeen: daysAgo(1, 14),
      field: 'destination.ip',
      retrohunt: false,
      excerpt: reopened,
    });
    expect(fresh.id).not.toBe(alert.id);
    // A closed alert stays closed.
    expect(await updateAlertStatus(tenant.client, alert.id, 'OPEN')).toMatchObject({ __typename: 'ConflictError' });
    expect(await updateAlertStatus(tenant.client, alert.id, 'CLOSED')).toMatchObject({
      __typename: 'UpdateAlertStatusSuccess',
    });
  });

  it('a FILE indicator matches any of its hashes, in file, process, dll and e-mail attachment hash fields', async () => {
    const tenant = await createTenant(app);
    const sha1Only = 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3';
    const { collectionId, ruleId } = await watchedCollection(tenant, [`${ABC.sha256},${ABC.md5}`, sha1Only]);
    expect((await indicatorByValue(tenant.client, collectionId, ABC.sha256)).hashes).toEqual([
      { algorithm: 'MD5', value: ABC.md5 },
      { algorithm: 'SHA256', value: ABC.sha256 },
    ]);
    let hour = 0;
    const at = () => daysAgo(1, hour++);
    await sendAccepted(tenant.client, [{ '@timestamp': at(), process: { hash: { md5: ABC.md5.toUpperCase() } } }]);
    const [abc] = await allAlerts(tenant.client, { ruleId });
    expect(abc).toMatchObject({
      field: 'process.hash.md5',
      value: ABC.md5,
      count: 1,
      indicator: { value: ABC.sha256 },
    });

    await sendAccepted(tenant.client, [
      { '@timestamp': at(), 'dll.hash.sha256': ABC.sha256 },
      { '@timestamp': at(), file: { 'hash.md5': ABC.md5 } },
      // The indicator does not know this file's SHA-1.
      { '@timestamp': at(), 'file.hash.sha1': ABC.sha1 },
      { '@timestamp': at(), email: { attachments: [{ file: { hash: { sha1: sha1Only } } }] } },
    ]);
    const alerts = Object.fromEntries((await allAlerts(tenant.client, { ruleId })).map((a) => [a.indicator!.value, a]));
    expect(alerts[ABC.sha256]).toMatchObject({ id: abc.id, count: 3 });
    expect(alerts[sha1Only]).toMatchObject({ count: 1, field: 'email.attachments.file.hash.sha1', value: sha1Only });
    expect(Object.keys(alerts)).toHaveLength(2);
  });
});

describe('alerts', () => {
  it('filters by collection, rule, status and retrohunt, and pages newest first', async () => {
    const tenant = await createTenant(app);
    const [a, b] = [await newCollection(tenant), await newCollection(tenant)];
    const validFrom = daysAgo(10);
    await importText(tenant.client, a, '192.0.2.11\n192.0.2.12\n192.0.2.13', { validFrom });
    await importText(tenant.client, b, '192.0.2.21\n192.0.2.22', { validFrom });
    const event = (ip: string, hour = 0) => ({ '@timestamp': daysAgo(1, hour), 'source.ip': ip });
    // Stored before the rules exist: found by their retrohunts.
    await sendAccepted(tenant.client, [event('192.0.2.13')]);
    const [ruleA, ruleB] = [await createRule(tenant.client, a), await createRule(tenant.client, b)];
    await waitForRetrohunts(tenant.client, ruleA.id);
    await waitForRetrohunts(tenant.client, ruleB.id);
    for (const [hour, ip] of ['192.0.2.11', '192.0.2.12', '192.0.2.21', '192.0.2.22'].entries()) {
      await sendAccepted(tenant.client, [event(ip, hour + 1)]);
    }
    const byValue = Object.fromEntries((await allAlerts(tenant.client)).map((x) => [x.value, x.id]));
    await updateAlertStatus(tenant.client, byValue['192.0.2.11'], 'ACKNOWLEDGED');
    await updateAlertStatus(tenant.client, byValue['192.0.2.21'], 'CLOSED');

    const values = async (filter: AlertFilter) => (await allAlerts(tenant.client, filter)).map((x) => x.value).sort();
    expect(await values({})).toEqual(['192.0.2.11', '192.0.2.12', '192.0.2.13', '192.0.2.21', '192.0.2.22']);
    expect(await values({ collectionId: a })).toEqual(['192.0.2.11', '192.0.2.12', '192.0.2.13']);
    expect(await values({ collectionId: b })).toEqual(['192.0.2.21', '192.0.2.22']);
    expect(await values({ ruleId: ruleB.id })).toEqual(['192.0.2.21', '192.0.2.22']);
    expect(await values({ status: 'ACKNOWLEDGED' })).toEqual(['192.0.2.11']);
    expect(await values({ status: 'CLOSED' })).toEqual(['192.0.2.21']);
    expect(await values({ status: 'OPEN' })).toEqual(['192.0.2.12', '192.0.2.13', '192.0.2.22']);
    expect(await values({ retrohunt: true })).toEqual(['192.0.2.13']);
    expect(await values({ retrohunt: false })).toEqual(['192.0.2.11', '192.0.2.12', '192.0.2.21', '192.0.2.22']);
    expect(await values({ collectionId: a, status: 'OPEN', retrohunt: false })).toEqual(['192.0.2.12']);

    // Pages of two: every alert once, newest first (created in the order the events came).
    const pages: string[][] = [];
    let after: string | null = null;
    for (;;) {
      const { alerts }: AlertsQuery = await tenant.client.gql(Alerts, { first: 2, after });
      expect(alerts.totalCount).toBe(5);
      pages.push(alerts.edges.map((e) => e.node.value));
      if (!alerts.pageInfo.hasNextPage) break;
      after = alerts.pageInfo.endCursor ?? null;
    }
    expect(pages).toEqual([['192.0.2.22', '192.0.2.21'], ['192.0.2.12', '192.0.2.11'], ['192.0.2.13']]);
  });

  it('a retrohunt reports its range and progress on the rule when it ends', async () => {
    const tenant = await createTenant(app);
    const ip = '198.51.100.90';
    const times = [daysAgo(6, 3), daysAgo(4, 3), daysAgo(2, 3)];
    await sendAccepted(tenant.client, [
      ...times.map((time) => ({ '@timestamp': time, host: { ip: [ip, '192.0.2.200'] } })),
      { '@timestamp': daysAgo(3), 'host.ip': '192.0.2.201' },
    ]);
    const collectionId = await newCollection(tenant);
    await importText(tenant.client, collectionId, ip, { validFrom: daysAgo(3), validUntil: daysAgo(1) });
    const rule = await createRule(tenant.client, collectionId);
    expect(rule.latestRetrohunt).toMatchObject({ trigger: 'RULE_CREATED', indicatorsSince: null });
    const hunt = await waitForRetrohunts(tenant.client, rule.id);
    expect(hunt).toMatchObject({
      id: rule.latestRetrohunt!.id,
      trigger: 'RULE_CREATED',
      status: 'SUCCEEDED',
      matches: 3,
      alertsCreated: 1,
      failureMessage: null,
      startedAt: expect.any(String),
      finishedAt: expect.any(String),
    });
    expect(hunt.scannedUntil).toBe(hunt.rangeEnd);
    expect(new Date(hunt.rangeStart!).getTime()).toBeLessThanOrEqual(new Date(times[0]).getTime());
    expect(new Date(hunt.rangeEnd!).getTime()).toBeGreaterThan(new Date(times[2]).getTime());
    const { node } = await tenant.client.gql(RetrohuntNode, { id: hunt.id });
    expect(node).toMatchObject({ __typename: 'Retrohunt', ...hunt, rule: { id: rule.id } });
    expect(await allAlerts(tenant.client, { ruleId: rule.id })).toMatchObject([
      { retrohunt: true, count: 3, firstSeen: times[0], lastSeen: times[2], field: 'host.ip', value: ip },
    ]);
  });
});
