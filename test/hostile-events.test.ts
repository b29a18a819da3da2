// Hostile event lines on POST /api/events: a line nested too deep, or one only PostgreSQL
// refuses, is rejected alone with its line number and reason; every good line around it is
// stored, counted in sightings and matched by detection, and the service answers 2xx and
// stays healthy. What the API shows (alerts, reports) is checked through it; the events
// kept are read from the table.
import { describe, expect, it, onTestFinished } from 'vitest';
import { Alerts, Viewer } from './documents.ts';
import {
  createTenant,
  daysAgo,
  generateReport,
  sendEvents,
  startTestApp,
  type Tenant,
  waitForReport,
  watchedCollection,
} from './kit.ts';

const app = await startTestApp();
const MAX_DEPTH = app.env.EVENT_MAX_DEPTH;

/** The indicator every event of the tests carries. */
const WATCHED_IP = '203.0.113.77';

/** An event line carrying WATCHED_IP, with `extra` as its last field (raw JSON text). */
const line = (extra?: string) =>
  `{"@timestamp":"${daysAgo(1)}","source":{"ip":"${WATCHED_IP}"}${extra === undefined ? '' : `,"extra":${extra}`}}`;

/** JSON arrays nested `levels` deep (the event object around them adds one level). */
const arrays = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;

/**
 * Sends `good` good lines with each hostile line inserted at its line number (1-based, in
 * line order); expects only the hostile lines rejected, each with its reason.
 */
async function sendAmongGoodLines(
  tenant: Tenant,
  good: number,
  hostile: { line: number; text: string; reason: string }[],
) {
  const lines = Array.from({ length: good }, () => line());
  for (const { line: number, text } of hostile) lines.splice(number - 1, 0, text);
  expect(await sendEvents(tenant.client, lines)).toEqual({
    status: 200,
    accepted: good,
    rejected: hostile.length,
    errors: hostile.map(({ line: number, reason }) => ({ line: number, reason })),
  });
}

async function storedEvents(tenant: Tenant): Promise<number> {
  const { rows } = await app.services.pool.query<{ count: number }>(
    'SELECT count(*)::int AS count FROM events WHERE community_id = $1',
    [tenant.communityRawId],
  );
  return rows[0].count;
}

describe('hostile event lines', () => {
  it('rejects a line nested 50,000 deep, one past EVENT_MAX_DEPTH and those PostgreSQL refuses, alone; stores, counts and matches the 5,000 good lines around them', async () => {
    const tenant = await createTenant(app);
    const { collectionId } = await watchedCollection(tenant, [WATCHED_IP]);

    const GOOD = 5000;
    const refusedByDatabase = 'the database cannot store this event: value overflows numeric format';
    const tooDeep = `objects and arrays nested deeper than ${MAX_DEPTH} levels (EVENT_MAX_DEPTH)`;
    const hostile = [
      { line: 1200, text: line(arrays(50_000)), reason: tooDeep },
      { line: 2500, text: line('{"n":1e1000000}'), reason: refusedByDatabase },
      { line: 3001, text: line(arrays(MAX_DEPTH)), reason: tooDeep },
      { line: 4000, text: line('-1e-1000000'), reason: refusedByDatabase },
    ];
    await sendAmongGoodLines(tenant, GOOD, hostile);

    // Every good line is kept, matched (one alert counting each) and counted in sightings.
    expect(await storedEvents(tenant)).toBe(GOOD);
    const { alerts } = await tenant.client.gql(Alerts, { first: 10, collectionId });
    expect(alerts.totalCount).toBe(1);
    expect(alerts.edges[0].node).toMatchObject({ value: WATCHED_IP, count: GOOD, retrohunt: false });
    const report = await waitForReport(tenant.client, (await generateReport(tenant.client, collectionId)).id);
    expect(report.status).toBe('SUCCEEDED');
    expect(report.entries.edges.map((e) => [e.node.indicator.value, e.node.sightings])).toEqual([[WATCHED_IP, GOOD]]);

    // The service is still healthy: it answers GraphQL and takes events.
    expect((await tenant.client.gql(Viewer)).viewer).toBeTruthy();
    expect(await sendEvents(tenant.client, [line()])).toEqual({ status: 200, accepted: 1, rejected: 0, errors: [] });
  });

  it('accepts a line nested exactly EVENT_MAX_DEPTH deep, in arrays or objects; brackets inside strings do not count', async () => {
    const tenant = await createTenant(app);
    const objects = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
    const brackets = JSON.stringify(`[{\\"${'['.repeat(100)}\\\\`);
    const lines = [
      line(arrays(MAX_DEPTH - 1)),
      line(objects(MAX_DEPTH - 1)),
      line(arrays(MAX_DEPTH)),
      line(objects(MAX_DEPTH)),
      line(`[${brackets},${arrays(MAX_DEPTH - 2)}]`),
      line(`[${brackets},${arrays(MAX_DEPTH - 1)}]`),
    ];
    const reason = `objects and arrays nested deeper than ${MAX_DEPTH} levels (EVENT_MAX_DEPTH)`;
    expect(await sendEvents(tenant.client, lines)).toEqual({
      status: 200,
      accepted: 3,
      rejected: 3,
      errors: [3, 4, 6].map((number) => ({ line: number, reason })),
    });
    expect(await storedEvents(tenant)).toBe(3);
  });

  it('answers 200 to a body whose every line PostgreSQL refuses, each reported', async () => {
    const tenant = await createTenant(app);
    const lines = [line('1e1000000'), line('-1e1000000'), line('1e-1000000')];
    expect(await sendEvents(tenant.client, lines)).toEqual({
      status: 200,
      accepted: 0,
      rejected: 3,
      errors: [1, 2, 3].map((number) => ({
        line: number,
        reason: 'the database cannot store this event: value overflows numeric format',
      })),
    });
    expect(await storedEvents(tenant)).toBe(0);
  });

  it('lists a line the database refuses in line order among the first 100, though it is known after the lines behind it', async () => {
    const tenant = await createTenant(app);
    const lines = [line('1e1000000'), ...Array.from({ length: 150 }, () => 'not json'), line()];
    const answer = await sendEvents(tenant.client, lines);
    expect(answer).toMatchObject({ status: 200, accepted: 1, rejected: 151 });
    expect(answer.errors.map((e) => e.line)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(answer.errors[0].reason).toBe('the database cannot store this event: value overflows numeric format');
  });

  it('stores the rest when PostgreSQL refuses a value outside the document, halving the batch down to the lines at fault', async () => {
    // No known value passes the document check and is refused elsewhere, so a trigger on
    // event_observables stands in for one: it refuses one domain, as a data exception.
    const REFUSED_DOMAIN = 'refused.hostile-events.example';
    const { pool } = app.services;
    await pool.query(`
      CREATE FUNCTION hostile_events_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.value = '${REFUSED_DOMAIN}' THEN
          RAISE EXCEPTION 'refused by the test trigger' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        RETURN NEW;
      END $$`);
    await pool.query(`CREATE TRIGGER hostile_events_refuse BEFORE INSERT ON event_observables
                        FOR EACH ROW EXECUTE FUNCTION hostile_events_refuse()`);
    onTestFinished(async () => {
      await pool.query('DROP TRIGGER hostile_events_refuse ON event_observables');
      await pool.query('DROP FUNCTION hostile_events_refuse()');
    });

    const tenant = await createTenant(app);
    const { collectionId } = await watchedCollection(tenant, [WATCHED_IP]);
    const refusedDomain = `{"@timestamp":"${daysAgo(1)}","source":{"ip":"${WATCHED_IP}"},"dns.question.name":"${REFUSED_DOMAIN}"}`;
    const GOOD = 1000;
    const hostile = [
      { line: 10, text: refusedDomain, reason: 'the database cannot store this event: refused by the test trigger' },
      {
        line: 500,
        text: line('1e1000000'),
        reason: 'the database cannot store this event: value overflows numeric format',
      },
      { line: 777, text: refusedDomain, reason: 'the database cannot store this event: refused by the test trigger' },
    ];
    await sendAmongGoodLines(tenant, GOOD, hostile);
    expect(await storedEvents(tenant)).toBe(GOOD);
    const { alerts } = await tenant.client.gql(Alerts, { first: 10, collectionId });
    expect(alerts.edges.map((e) => e.node)).toMatchObject([{ value: WATCHED_IP, count: GOOD, retrohunt: false }]);
  });
});
