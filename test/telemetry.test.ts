// Telemetry through the API: events in, sightings counted, reports out.
import { describe, expect, it } from 'vitest';
import {
  createTenant,
  daysAgo,
  generateReport,
  importText,
  newCollection,
  sendEvents,
  startTestApp,
  waitForReport,
} from './kit.ts';

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
