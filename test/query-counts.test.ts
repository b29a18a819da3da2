// How many SQL statements (Prisma's and the service's own) one request for a list page
// costs, pinned so that an N+1 fails here and not only in the benchmarks. Each request runs
// in this process (yoga.fetch) and its statements are counted there (test/query-count.ts).
// A page of 50 rows must cost what a page of 5 does; the exact count is pinned with what each
// statement is. On a failure the message lists the statements of both pages.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Alerts, Collections } from './documents.ts';
import {
  collectionWith,
  createCollection,
  createTenant,
  indicatorPage,
  sendAccepted,
  startTestApp,
  threatIds,
  unique,
  watchedCollection,
} from './kit.ts';
import { countQueries, describeQueries, type RecordedQuery } from './query-count.ts';

const app = await startTestApp();

/** What every authenticated request sends before its own work. */
const PER_REQUEST = [
  'the API key and its user (api_keys, users)',
  "the rate limiter's upsert of the key's count (rate_limits)",
  "the viewer's communities and permissions (memberships, roles, communities, recursively)",
];

/**
 * The statements of one request for a page of 50 rows, checked to be as many as for a page
 * of 5; `page(first)` answers the rows it got. The page is read once before, uncounted.
 */
async function statementsOfPage(page: (first: number) => Promise<number>): Promise<RecordedQuery[]> {
  await page(50);
  const small = await countQueries(() => page(5));
  const large = await countQueries(() => page(50));
  expect([small.result, large.result]).toEqual([5, 50]);
  const both = `5 rows:\n${describeQueries(small.queries)}\n50 rows:\n${describeQueries(large.queries)}`;
  expect(large.queries.length, `a larger page costs more statements\n${both}`).toBe(small.queries.length);
  return large.queries;
}

describe('SQL statements per request', () => {
  it("counts Prisma's statements and the service's own SQL, for the work that sent them", async () => {
    const { prisma, pool } = app.services;
    expect((await countQueries(() => prisma.role.count())).queries).toEqual([
      { sql: expect.stringContaining('"public"."roles"'), prisma: true },
    ]);
    expect((await countQueries(() => pool.query('SELECT 1'))).queries).toEqual([{ sql: 'SELECT 1', prisma: false }]);
    // Not what runs meanwhile outside the work.
    const outside = pool.query('SELECT 3');
    expect((await countQueries(() => pool.query('SELECT 2'))).queries).toEqual([{ sql: 'SELECT 2', prisma: false }]);
    await outside;
  });

  it("the indicator page (a collection's indicators with totalCount, as the list shows them)", async () => {
    const tenant = await createTenant(app);
    const threats = await threatIds(tenant.client, 'APT28', 'Emotet');
    const hash = (algorithm: string, i: number) => createHash(algorithm).update(`query count ${i}`).digest('hex');
    // IPs and files with two hashes each, every one with threats, a kill chain phase and a description.
    const lines = Array.from({ length: 60 }, (_, i) =>
      i % 2 ? `10.1.0.${i + 1}` : `${hash('md5', i)},${hash('sha1', i)}`,
    );
    const collectionId = await collectionWith(tenant, lines, {
      properties: { threatIds: threats, killChainPhases: [{ phaseName: 'c2' }], description: 'counted' },
    });

    const queries = await statementsOfPage(async (first) => {
      const { indicators } = await indicatorPage(tenant.client, collectionId, { first });
      expect(indicators.totalCount).toBe(60);
      return indicators.edges.length;
    });
    expect(queries, describeQueries(queries)).toHaveLength(
      [
        ...PER_REQUEST,
        'the collection, as the viewer may read it (node(id))',
        "the page of indicators; totalCount and indicatorCount come from the collection's counters",
        "the page's threats, in one statement",
      ].length,
    );
  });

  it('the collection list (with totalCount and each collection’s community)', async () => {
    const tenant = await createTenant(app, { children: 2 });
    const communities = [tenant.communityId, ...tenant.childIds];
    for (let i = 0; i < 55; i++) {
      await createCollection(tenant.client, { communityId: communities[i % 3], name: unique('counted') });
    }

    const queries = await statementsOfPage(async (first) => {
      const { collections } = await tenant.client.gql(Collections, { first });
      expect(collections.totalCount).toBe(55);
      return collections.edges.length;
    });
    expect(queries, describeQueries(queries)).toHaveLength(
      [...PER_REQUEST, 'the page of collections', 'totalCount', "the page's communities, in one statement"].length,
    );
  });

  it('the alert list (with totalCount and each alert’s rule, collection, community and indicator)', async () => {
    const tenant = await createTenant(app);
    const ips = Array.from({ length: 55 }, (_, i) => `10.2.0.${i + 1}`);
    await watchedCollection(tenant, ips);
    await sendAccepted(
      tenant.client,
      ips.map((ip) => ({ '@timestamp': new Date().toISOString(), 'source.ip': ip })),
    );

    const queries = await statementsOfPage(async (first) => {
      const { alerts } = await tenant.client.gql(Alerts, { first });
      expect(alerts.totalCount).toBe(55);
      return alerts.edges.length;
    });
    expect(queries, describeQueries(queries)).toHaveLength(
      [
        ...PER_REQUEST,
        'the page of alerts',
        'totalCount',
        "the page's rules, in one statement",
        "the page's collections, in one statement",
        "the page's communities, in one statement",
        "the page's indicators, in one statement",
      ].length,
    );
  });
});
