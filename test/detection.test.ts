// Detection through the API: rules on collections, alerts on new events, retrohunt.
import { describe, expect, it } from 'vitest';
import { graphql } from './generated/gql.ts';
import {
  createTenant,
  daysAgo,
  expectMember,
  importText,
  newCollection,
  sendEvents,
  startTestApp,
  waitFor,
} from './kit.ts';

const app = await startTestApp();

const CreateRule = graphql(`
  mutation CreateRule($input: CreateDetectionRuleInput!) {
    createDetectionRule(input: $input) {
      __typename
      ... on CreateDetectionRuleSuccess {
        detectionRule {
          id
          enabled
        }
      }
      ... on Error {
        code
        message
      }
    }
  }
`);

const Alerts = graphql(`
  query Alerts($collectionId: ID) {
    alerts(first: 100, collectionId: $collectionId) {
      totalCount
      edges {
        node {
          id
          field
          value
          count
          firstSeen
          lastSeen
          retrohunt
          status
          excerpt
          indicator {
            value
          }
        }
      }
    }
  }
`);

describe('detection', () => {
  it('raises an alert for a new event and counts repeats on it', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    await importText(tenant.client, collectionId, '203.0.113.9\n');
    const rule = await tenant.client.gql(CreateRule, { input: { collectionId } });
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
    await tenant.client.gql(CreateRule, { input: { collectionId } });
    const alert = await waitFor(async () => (await tenant.client.gql(Alerts, { collectionId })).alerts.edges[0]?.node);
    expect(alert).toMatchObject({ retrohunt: true, count: 1, value: 'bad.example', field: 'dns.question.name' });
  });
});
