// POST /api/events through the full HTTP pipeline (yoga.fetch; a real socket only where the
// transport matters): what a sensor is answered ({ accepted, rejected, errors }) and what was
// kept. Kept events show in telemetry reports (sightings); what the API cannot show (events
// past their retention, storage after a cut-off body) is read from the tables.
import { gzipSync } from 'node:zlib';
import { Agent, request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  ABC,
  type Client,
  createTenant,
  createUser,
  daysAgo,
  generateReport,
  importText,
  type IngestAnswer,
  newCollection,
  sendEvents,
  startTestApp,
  type TestApp,
  type Tenant,
  waitForReport,
} from './kit.ts';

const app = await startTestApp();

/** Small limits, to test them with small bodies. Ingest needs no workers. */
const MAX_BYTES = 2000;
const MAX_LINE_BYTES = 200;
const small = await startTestApp(
  { EVENTS_MAX_BYTES: String(MAX_BYTES), EVENT_MAX_LINE_BYTES: String(MAX_LINE_BYTES) },
  { workers: false },
);

// ---------------------------------------------------------------------------------------
// Helpers

const encoder = new TextEncoder();

/** One event line: `@timestamp` (default: yesterday noon, UTC) and the given ECS fields. */
const event = (fields: Record<string, unknown>, at: string | number = daysAgo(1)) =>
  JSON.stringify({ '@timestamp': at, ...fields });

/**
 * POSTs a raw body to /api/events as `client`. Several chunks are sent as a stream with those
 * boundaries, so lines, characters and line ends can be split where the test wants.
 */
async function post(
  client: Client,
  body: string | Uint8Array | Uint8Array[],
  headers: Record<string, string> = {},
): Promise<IngestAnswer> {
  const init: RequestInit & { duplex?: 'half' } = {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson', ...headers },
  };
  if (Array.isArray(body)) {
    const chunks = [...body];
    init.body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const chunk = chunks.shift();
        if (chunk) controller.enqueue(chunk);
        else controller.close();
      },
    });
    init.duplex = 'half';
  } else {
    init.body = body as BodyInit;
  }
  const response = await client.request('/api/events', init);
  const text = await response.text();
  return { status: response.status, ...JSON.parse(text) } as IngestAnswer;
}

/** `bytes` cut into chunks of `size` bytes. */
function chunked(bytes: Uint8Array | string, size: number): Uint8Array[] {
  const all = typeof bytes === 'string' ? encoder.encode(bytes) : bytes;
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < all.length; i += size) chunks.push(all.slice(i, i + size));
  return chunks;
}

/**
 * Sightings of each observable as a telemetry report shows them: a new collection of the
 * tenant's holding `indicators` (one per line), a report over it; value -> sightings.
 */
async function reportedSightings(tenant: Tenant, indicators: string[]) {
  const collectionId = await newCollection(tenant);
  const job = await importText(tenant.client, collectionId, indicators.join('\n'));
  expect(job).toMatchObject({ status: 'SUCCEEDED', invalid: 0 });
  const report = await waitForReport(tenant.client, (await generateReport(tenant.client, collectionId)).id);
  expect(report.status).toBe('SUCCEEDED');
  const entries = report.entries.edges.map((e) => e.node);
  return {
    report,
    entries,
    sightings: Object.fromEntries(entries.map((e) => [e.indicator.value, e.sightings])),
  };
}

/** Rows of the telemetry tables for one community (raw id), read directly. */
async function stored(target: TestApp, communityRawId: string) {
  const { pool } = target.services;
  const [events, observables, sightings] = await Promise.all([
    pool.query<{ ts: Date; document: Record<string, unknown> }>(
      'SELECT ts, document FROM events WHERE community_id = $1 ORDER BY ts, id',
      [communityRawId],
    ),
    pool.query<{ field: string; type: string; value: string }>(
      'SELECT field, type::text, value FROM event_observables WHERE community_id = $1 ORDER BY ts, field, value',
      [communityRawId],
    ),
    pool.query<{ type: string; value: string; day: string; count: number }>(
      `SELECT type::text, value, to_char(day, 'YYYY-MM-DD') AS day, count::int AS count
         FROM sightings WHERE community_id = $1 ORDER BY value, day`,
      [communityRawId],
    ),
  ]);
  return { events: events.rows, observables: observables.rows, sightings: sightings.rows };
}

/** A distinct IPv4 address for each `i` (up to 2^24). */
const ipOf = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

const ok = (accepted: number) => ({ status: 200, accepted, rejected: 0, errors: [] });

// ---------------------------------------------------------------------------------------

describe('document forms', () => {
  it('reads nested, dotted and mixed field paths and arrays; each event counts once per indicator', async () => {
    const tenant = await createTenant(app);
    const lines = [
      event({ source: { ip: '203.0.113.1' } }),
      event({ 'source.ip': '203.0.113.1' }),
      event({ destination: { ip: ['203.0.113.1', '198.51.100.2'] } }),
      event({ dns: { question: { name: 'Nested.Example.' } } }),
      event({ 'dns.question.name': 'nested[.]example' }),
      event({ dns: { 'question.name': 'nested.example' } }),
      event({ file: { hash: { sha256: ABC.sha256.toUpperCase() } } }),
      event({ 'file.hash.sha256': ABC.sha256 }),
      event({ email: { attachments: [{ file: { hash: { sha256: ABC.sha256 } } }] } }),
      event({ 'process.hash': { sha256: ABC.sha256 } }),
      event({ source: { ip: '2001:DB8:0:0::1' } }),
    ];
    expect(await sendEvents(tenant.client, lines)).toEqual(ok(lines.length));

    const { sightings } = await reportedSightings(tenant, [
      '203.0.113.1',
      '198.51.100.2',
      'nested.example',
      ABC.sha256,
      '2001:db8::1',
    ]);
    expect(sightings).toEqual({
      '203.0.113.1': 3,
      '198.51.100.2': 1,
      'nested.example': 3,
      [ABC.sha256]: 4,
      '2001:db8::1': 1,
    });
  });
});

describe('@timestamp', () => {
  it('rejects a missing, invalid, too old or future @timestamp with its line number; the rest is kept', async () => {
    const tenant = await createTenant(app);
    const ip = '203.0.113.10';
    const oneHour = 3600_000;
    const withOffset = new Date(new Date(daysAgo(3, 14)).getTime() + 2 * oneHour).toISOString().replace('Z', '+02:00');
    const lines = [
      event({ 'source.ip': ip }, daysAgo(1)), // 1
      JSON.stringify({ 'source.ip': ip }), // 2 missing
      event({ 'source.ip': ip }, 'yesterday'), // 3
      event({ 'source.ip': ip }, '2026-02-30T10:00:00Z'), // 4 no such day
      event({ 'source.ip': ip }, Date.parse(daysAgo(2))), // 5 epoch milliseconds
      event({ 'source.ip': ip }, new Date(Date.now() - 366 * 86_400_000 - oneHour).toISOString()), // 6
      event({ 'source.ip': ip }, new Date(Date.now() + 2 * 86_400_000).toISOString()), // 7
      JSON.stringify({ '@timestamp': true, 'source.ip': ip }), // 8
      event({ 'source.ip': ip }, withOffset), // 9: daysAgo(3, 14) in UTC
      JSON.stringify({ '@timestamp': null, 'source.ip': ip }), // 10
      JSON.stringify({ event: { '@timestamp': daysAgo(1) }, 'source.ip': ip }), // 11 not at the top
    ];
    const answer = await sendEvents(tenant.client, lines);
    expect(answer).toEqual({
      status: 200,
      accepted: 3,
      rejected: 8,
      errors: [
        { line: 2, reason: '@timestamp is missing' },
        { line: 3, reason: expect.stringMatching(/^@timestamp: "yesterday" is not an ISO-8601 date-time/) },
        { line: 4, reason: expect.stringMatching(/^@timestamp: "2026-02-30T10:00:00Z" is not an ISO-8601/) },
        { line: 6, reason: '@timestamp is older than 366 days' },
        { line: 7, reason: '@timestamp is in the future' },
        { line: 8, reason: expect.stringMatching(/^@timestamp must be .* not a boolean$/) },
        { line: 10, reason: '@timestamp is missing' },
        { line: 11, reason: '@timestamp is missing' },
      ],
    });

    const { entries } = await reportedSightings(tenant, [ip]);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ sightings: 3, firstSeen: daysAgo(3, 14), lastSeen: daysAgo(1) });
    expect(entries[0].heatmap).toEqual([3, 2, 1].map((days) => ({ date: daysAgo(days).slice(0, 10), count: 1 })));
  });
});

describe('broken lines', () => {
  it('rejects lines that are not JSON, keeping the good ones between them', async () => {
    const tenant = await createTenant(app);
    const ip = '203.0.113.20';
    const good = event({ 'source.ip': ip });
    const lines = [
      good, // 1
      good.slice(0, -5), // 2 cut short
      'not json at all', // 3
      good, // 4
      "{'single': 'quotes'}", // 5
      '{"@timestamp": "2026-01-01T00:00:00Z",}', // 6 trailing comma
      good, // 7
    ];
    const answer = await sendEvents(tenant.client, lines);
    expect(answer).toEqual({
      status: 200,
      accepted: 3,
      rejected: 4,
      errors: [2, 3, 5, 6].map((line) => ({ line, reason: expect.stringMatching(/^invalid JSON: /) })),
    });
    for (const { reason } of answer.errors) expect(reason.length).toBeLessThan(250);
    expect((await reportedSightings(tenant, [ip])).sightings).toEqual({ [ip]: 3 });
  });

  it('rejects a JSON array line (and other JSON that is no object), even of events', async () => {
    const tenant = await createTenant(app);
    const ip = '203.0.113.21';
    const good = event({ 'source.ip': ip });
    const lines = [`[${good},${good}]`, good, '"a string"', '42', 'null', 'true', good];
    expect(await sendEvents(tenant.client, lines)).toEqual({
      status: 200,
      accepted: 2,
      rejected: 5,
      errors: [1, 3, 4, 5, 6].map((line) => ({ line, reason: 'not a JSON object' })),
    });
    expect((await reportedSightings(tenant, [ip])).sightings).toEqual({ [ip]: 2 });
  });

  it('rejects a field that breaks its ECS type, and keeps the others', async () => {
    const tenant = await createTenant(app);
    const ip = '203.0.113.22';
    const lines = [
      event({ 'source.ip': ip }),
      event({ 'source.ip': ip, 'destination.ip': 'not-an-ip' }),
      event({ 'source.ip': ip, file: { hash: { md5: 'abc' } } }),
      event({ 'source.ip': 42 }),
      event({ 'source.ip': ip, 'dns.question.name': '198.51.100.9' }), // an IP in a domain field is just no domain
    ];
    expect(await sendEvents(tenant.client, lines)).toEqual({
      status: 200,
      accepted: 2,
      rejected: 3,
      errors: [
        { line: 2, reason: 'destination.ip: "not-an-ip" is not an IP address' },
        { line: 3, reason: 'file.hash.md5: "abc" is not an MD5 hash' },
        { line: 4, reason: 'source.ip: expected an IP address as a string, not a number' },
      ],
    });
    expect((await reportedSightings(tenant, [ip, '198.51.100.9'])).sightings).toEqual({ [ip]: 2 });
  });

  it('skips blank lines and reads CRLF line ends, counting every line for line numbers', async () => {
    const tenant = await createTenant(app);
    const ip = '203.0.113.23';
    const good = event({ 'source.ip': ip });
    const body = [good, '', '   ', '\t', '{"broken', good, ''].join('\r\n');
    const expected = { status: 200, accepted: 2, rejected: 1, errors: [{ line: 5, reason: expect.any(String) }] };
    expect(await post(tenant.client, body)).toEqual(expected);
    // The same body with every CR at the end of one chunk and its LF at the start of the next.
    const split = body.split('\n').map((part, i) => encoder.encode(i === 0 ? part : `\n${part}`));
    expect(await post(tenant.client, split)).toEqual(expected);
    expect((await reportedSightings(tenant, [ip])).sightings).toEqual({ [ip]: 4 });
    const { events } = await stored(app, tenant.communityRawId);
    expect(events).toHaveLength(4);
  });

  it('reads a body that starts with a byte order mark, also when the mark is split across chunks', async () => {
    const tenant = await createTenant(app);
    const ip = '203.0.113.24';
    const body = `\uFEFF${event({ 'source.ip': ip })}\n${event({ 'source.ip': ip })}\n`;
    expect(await post(tenant.client, body)).toEqual(ok(2));
    const bytes = encoder.encode(body);
    expect(bytes.slice(0, 3)).toEqual(new Uint8Array([0xef, 0xbb, 0xbf]));
    expect(await post(tenant.client, [bytes.slice(0, 2), bytes.slice(2, 9), bytes.slice(9)])).toEqual(ok(2));
    // With CRLF line ends too.
    expect(await post(tenant.client, body.replaceAll('\n', '\r\n'))).toEqual(ok(2));
    expect((await reportedSightings(tenant, [ip])).sightings).toEqual({ [ip]: 6 });
  });

  it('reads characters split across chunks', async () => {
    const tenant = await createTenant(app);
    const body = `${event({ 'source.ip': '203.0.113.25', message: 'héllo € 😀 ✓' })}\n`;
    // One byte per chunk: every multi-byte character is split.
    expect(await post(tenant.client, chunked(body, 1))).toEqual(ok(1));
    const { events } = await stored(app, tenant.communityRawId);
    expect(events.map((e) => e.document.message)).toEqual(['héllo € 😀 ✓']);
  });

  it('rejects a string holding \\u0000 or an unpaired surrogate with a reason; keeps valid escapes', async () => {
    const tenant = await createTenant(app);
    const ip = '203.0.113.26';
    const lines = [
      event({ 'source.ip': ip }), // 1
      `{"@timestamp":"${daysAgo(1)}","source.ip":"${ip}","message":"a\\u0000b"}`, // 2
      `{"@timestamp":"${daysAgo(1)}","source.ip":"${ip}","tag\\u0000":"x"}`, // 3 in a key
      `{"@timestamp":"${daysAgo(1)}","source.ip":"${ip}","message":"\\ud800"}`, // 4 lone high surrogate
      `{"@timestamp":"${daysAgo(1)}","source.ip":"${ip}","message":"x\\udc00"}`, // 5 lone low surrogate
      `{"@timestamp":"${daysAgo(1)}","source.ip":"${ip}","message":"\\ud83d\\ude00 \\u00e9"}`, // 6 valid
      `{"@timestamp":"${daysAgo(1)}","source.ip":"${ip}","path":"C:\\\\u0000dir"}`, // 7 a backslash, then "u0000"
      `{"@timestamp":"${daysAgo(1)}","source.ip":"${ip}","message":"\\u0000","message":"later"}`, // 8 duplicate key
      event({ 'source.ip': ip }), // 9
    ];
    const reason = expect.stringContaining('\\u0000');
    expect(await sendEvents(tenant.client, lines)).toEqual({
      status: 200,
      accepted: 4,
      rejected: 5,
      errors: [2, 3, 4, 5, 8].map((line) => ({ line, reason })),
    });
    const { events } = await stored(app, tenant.communityRawId);
    expect(events.map((e) => e.document.message ?? e.document.path ?? null)).toEqual([
      null,
      '😀 é',
      'C:\\u0000dir',
      null,
    ]);
    expect((await reportedSightings(tenant, [ip])).sightings).toEqual({ [ip]: 4 });
  });

  it('counts every bad line in `rejected` but lists only the first 100', async () => {
    const tenant = await createTenant(app);
    const ip = '203.0.113.27';
    const good = new Set([1, 60, 152]);
    const lines = Array.from({ length: 152 }, (_, i) =>
      good.has(i + 1) ? event({ 'source.ip': ip }) : `bad ${i + 1}`,
    );
    const answer = await sendEvents(tenant.client, lines);
    const badLines = lines.map((_, i) => i + 1).filter((line) => !good.has(line));
    expect(badLines).toHaveLength(149);
    expect(answer).toMatchObject({ status: 200, accepted: 3, rejected: 149 });
    expect(answer.errors.map((e) => e.line)).toEqual(badLines.slice(0, 100));
    expect((await reportedSightings(tenant, [ip])).sightings).toEqual({ [ip]: 3 });
  });

  it('keeps the good lines of a body of several batches, bad lines among them', async () => {
    const tenant = await createTenant(app);
    const rows = 12_000;
    const lines = Array.from({ length: rows }, (_, i) =>
      (i + 1) % 1000 === 0 ? `{"broken": ${i + 1}` : event({ 'source.ip': ipOf(i + 1) }),
    );
    const answer = await sendEvents(tenant.client, lines);
    expect(answer).toMatchObject({ status: 200, accepted: rows - 12, rejected: 12 });
    expect(answer.errors.map((e) => e.line)).toEqual(Array.from({ length: 12 }, (_, i) => (i + 1) * 1000));
    const { rows: counts } = await app.services.pool.query(
      `SELECT (SELECT count(*)::int FROM events WHERE community_id = $1) AS events,
              (SELECT count(*)::int FROM sightings WHERE community_id = $1) AS sightings`,
      [tenant.communityRawId],
    );
    expect(counts[0]).toEqual({ events: rows - 12, sightings: rows - 12 });
  });
});

// ---------------------------------------------------------------------------------------

describe('size limits', () => {
  it(`rejects a line longer than EVENT_MAX_LINE_BYTES and reads on after it`, async () => {
    const tenant = await createTenant(small);
    const ip = '203.0.113.30';
    const padded = (length: number, char = 'x') => event({ 'source.ip': ip, message: char.repeat(length) });
    const lines = [
      padded(10), // 1
      padded(300), // 2 too long
      padded(10), // 3
      padded(70, '€'), // 4: 70 characters, but 210 bytes and more
      padded(80), // 5 under the limit
      padded(400), // 6 too long, and last without a line end
    ];
    expect(Buffer.byteLength(lines[4])).toBeLessThan(MAX_LINE_BYTES);
    expect(lines[3].length).toBeLessThan(MAX_LINE_BYTES);
    const reason = `event larger than ${MAX_LINE_BYTES} bytes`;
    const expected = {
      status: 200,
      accepted: 3,
      rejected: 3,
      errors: [2, 4, 6].map((line) => ({ line, reason })),
    };
    const body = lines.join('\n');
    expect(Buffer.byteLength(body)).toBeLessThan(MAX_BYTES);
    expect(await post(tenant.client, body)).toEqual(expected);
    // Streamed in small chunks, the long lines span several of them.
    expect(await post(tenant.client, chunked(body, 37))).toEqual(expected);
    const { events } = await stored(small, tenant.communityRawId);
    expect(events.map((e) => (e.document.message as string).length)).toEqual([10, 10, 80, 10, 10, 80]);
  });

  it('answers 413 past EVENTS_MAX_BYTES with the counts, keeping the lines before the limit', async () => {
    const tenant = await createTenant(small);
    // 40 lines of 100 bytes each (with their line end): 4,000 bytes, twice the limit.
    const lines = Array.from({ length: 40 }, (_, i) => {
      const line = i === 4 ? 'bad line' : event({ 'source.ip': ipOf(i + 1) });
      return line.padEnd(99, ' ');
    });
    const body = `${lines.join('\n')}\n`;
    expect(body.length).toBe(4000);
    const complete = Math.floor(MAX_BYTES / 100); // lines wholly inside the limit
    const expected = {
      status: 413,
      accepted: complete - 1,
      rejected: 1,
      errors: [{ line: 5, reason: expect.stringMatching(/^invalid JSON/) }],
      truncated: { lastLine: complete, cause: 'TOO_LARGE', reason: expect.stringContaining(`line ${complete}`) },
    };
    const keptIps = Array.from({ length: complete }, (_, i) => i + 1)
      .filter((line) => line !== 5)
      .map(ipOf)
      .sort();
    const storedIps = async () => (await stored(small, tenant.communityRawId)).sightings.map((s) => s.value).sort();

    // Streamed (no Content-Length) in one piece, and in chunks that do not end at line ends.
    expect(await post(tenant.client, [encoder.encode(body)])).toEqual(expected);
    expect(await storedIps()).toEqual(keptIps);
    expect(await post(tenant.client, chunked(body, 333))).toEqual(expected);
    expect((await stored(small, tenant.communityRawId)).sightings.every((s) => s.count === 2)).toBe(true);
    expect(await storedIps()).toEqual(keptIps);
  });

  it('answers 413 to a Content-Length past EVENTS_MAX_BYTES before reading the body', async () => {
    const tenant = await createTenant(small);
    const { url } = await small.http();
    // The body is never finished: only an answer that does not wait for it can arrive.
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = httpRequest(`${url}/api/events`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${tenant.client.key}`,
          'content-type': 'application/x-ndjson',
          'content-length': String(MAX_BYTES + 1),
        },
      });
      request.on('error', reject);
      request.on('response', (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => {
          request.destroy();
          resolve({ status: response.statusCode!, body });
        });
      });
      request.write(`${event({ 'source.ip': '203.0.113.31' })}\n`);
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toEqual({
      errors: [{ message: expect.stringContaining(`larger than ${MAX_BYTES} bytes`) }],
    });
    expect(await stored(small, tenant.communityRawId)).toEqual({ events: [], observables: [], sightings: [] });
  });

  it('delivers the 413 and the 400 with their counts over a real connection, which then serves the next request', async () => {
    const tenant = await createTenant(small);
    const { url, server } = await small.http();
    // One kept-alive connection for every request, as a sensor's HTTP client keeps it.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    onTestFinished(() => agent.destroy());
    const connections: Socket[] = [];
    const onConnection = (socket: Socket) => connections.push(socket);
    server.on('connection', onConnection);
    onTestFinished(() => void server.off('connection', onConnection));
    /** A POST written piece by piece (chunked: no Content-Length), answered while it is still sent. */
    const postStreamed = (pieces: Uint8Array[], headers: Record<string, string> = {}) =>
      new Promise<{ status: number; json: IngestAnswer }>((resolve, reject) => {
        const request = httpRequest(`${url}/api/events`, {
          agent,
          method: 'POST',
          headers: { authorization: `Bearer ${tenant.client.key}`, 'content-type': 'application/x-ndjson', ...headers },
        });
        request.on('error', reject);
        request.on('response', (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk) => (body += chunk));
          response.on('end', () => resolve({ status: response.statusCode!, json: JSON.parse(body) }));
        });
        void (async () => {
          for (const piece of pieces) {
            if (request.destroyed) return;
            request.write(piece);
            await new Promise((r) => setImmediate(r));
          }
          request.end();
        })();
      });
    const linesFrom = (first: number, count: number) =>
      Array.from({ length: count }, (_, i) => `${event({ 'source.ip': ipOf(first + i) }).padEnd(99, ' ')}\n`).join('');

    // 400 kB in pieces of 1 kB: the answer comes at the limit, long before the body ends.
    const tooLarge = await postStreamed(chunked(linesFrom(1, 4000), 1000));
    expect(tooLarge).toMatchObject({
      status: 413,
      json: { accepted: 20, rejected: 0, truncated: { lastLine: 20, cause: 'TOO_LARGE' } },
    });
    const gzipped = gzipSync(linesFrom(5001, 15));
    const brokenGzip = await postStreamed([gzipped.subarray(0, 40), gzipped.subarray(40, gzipped.length - 8)], {
      'content-encoding': 'gzip',
    });
    expect(brokenGzip).toMatchObject({
      status: 400,
      json: { accepted: 15, truncated: { lastLine: 15, cause: 'UNREADABLE' } },
    });
    const notGzip = await postStreamed(chunked('x'.repeat(100_000), 1000), { 'content-encoding': 'gzip' });
    expect(notGzip).toMatchObject({ status: 400, json: { accepted: 0, truncated: { cause: 'UNREADABLE' } } });
    const fine = await postStreamed([encoder.encode(linesFrom(6001, 3))]);
    expect(fine).toMatchObject({ status: 200, json: { accepted: 3, rejected: 0, errors: [] } });

    // All on the one connection, still open.
    expect(connections).toHaveLength(1);
    expect(connections[0].destroyed).toBe(false);
    expect((await stored(small, tenant.communityRawId)).sightings).toHaveLength(20 + 15 + 3);
  });

  it('applies EVENTS_MAX_BYTES to the decompressed body: a small gzip bomb stops at the limit', async () => {
    const tenant = await createTenant(small);
    const lines = Array.from({ length: 1000 }, () => event({ 'source.ip': '203.0.113.32' }).padEnd(99, ' '));
    const gzipped = gzipSync(`${lines.join('\n')}\n`);
    expect(gzipped.byteLength).toBeLessThan(MAX_BYTES);
    const answer = await post(tenant.client, gzipped, { 'content-encoding': 'gzip' });
    // Lines of 100 bytes: the first 20 end inside the limit.
    expect(answer).toMatchObject({
      status: 413,
      accepted: MAX_BYTES / 100,
      rejected: 0,
      truncated: { cause: 'TOO_LARGE', lastLine: MAX_BYTES / 100 },
    });
    expect((await stored(small, tenant.communityRawId)).events).toHaveLength(MAX_BYTES / 100);
  });
});

// ---------------------------------------------------------------------------------------

describe('Content-Encoding', () => {
  it('reads a gzip body', async () => {
    const tenant = await createTenant(app);
    const ip = '203.0.113.40';
    const body = gzipSync([event({ 'source.ip': ip }), 'bad', event({ 'destination.ip': ip })].join('\n'));
    expect(await post(tenant.client, body, { 'content-encoding': 'gzip' })).toEqual({
      status: 200,
      accepted: 2,
      rejected: 1,
      errors: [{ line: 2, reason: expect.stringMatching(/^invalid JSON/) }],
    });
    expect(await post(tenant.client, chunked(body, 7), { 'content-encoding': 'GZIP' })).toMatchObject({
      status: 200,
      accepted: 2,
    });
    expect((await reportedSightings(tenant, [ip])).sightings).toEqual({ [ip]: 4 });
  });

  it('answers 400 to a broken gzip body and keeps every line read before the break', async () => {
    const tenant = await createTenant(app);
    const lines = Array.from({ length: 50 }, (_, i) => event({ 'source.ip': ipOf(i + 1) }));
    const whole = gzipSync(`${lines.join('\n')}\n`);

    // Not gzip at all: nothing could be read.
    const notGzip = await post(tenant.client, `${lines[0]}\n`, { 'content-encoding': 'gzip' });
    expect(notGzip).toMatchObject({ status: 400, accepted: 0, rejected: 0, truncated: { cause: 'UNREADABLE' } });
    expect((await stored(app, tenant.communityRawId)).events).toEqual([]);

    // The trailer (checksum and length) cut off: every line was read, and is kept.
    const noTrailer = await post(tenant.client, whole.subarray(0, whole.length - 8), { 'content-encoding': 'gzip' });
    expect(noTrailer).toMatchObject({
      status: 400,
      accepted: 50,
      rejected: 0,
      errors: [],
      truncated: { lastLine: 50, cause: 'UNREADABLE' },
    });
    expect((await stored(app, tenant.communityRawId)).sightings.map((s) => s.value).sort()).toEqual(
      lines.map((_, i) => ipOf(i + 1)).sort(),
    );
  });

  it('answers 400 to gzip corrupted in the middle; what it answers accepted is what was kept', async () => {
    const tenant = await createTenant(app);
    // Varied content, so that deflate emits several blocks before the damage.
    const lines = Array.from({ length: 3000 }, (_, i) =>
      event({ 'source.ip': ipOf(i + 1), message: `${(i * 7919) % 104729}-${i.toString(36)}` }),
    );
    const corrupted = Buffer.from(gzipSync(`${lines.join('\n')}\n`));
    for (let i = Math.floor(corrupted.length * 0.6); i < corrupted.length * 0.6 + 64; i++) corrupted[i] ^= 0x5a;
    const answer = await post(tenant.client, corrupted, { 'content-encoding': 'gzip' });
    expect(answer).toMatchObject({ status: 400, truncated: { cause: 'UNREADABLE' } });
    expect(answer.accepted + answer.rejected).toBe(answer.truncated!.lastLine);
    expect(answer.accepted).toBeGreaterThan(0);
    expect(answer.accepted).toBeLessThan(lines.length);
    const { sightings } = await stored(app, tenant.communityRawId);
    // Exactly the lines answered accepted, which are the first ones.
    expect(sightings.map((s) => s.value).sort()).toEqual(
      Array.from({ length: answer.accepted }, (_, i) => ipOf(i + 1)).sort(),
    );
  });

  it('answers 415 to another Content-Encoding and reads nothing', async () => {
    const tenant = await createTenant(app);
    const body = `${event({ 'source.ip': '203.0.113.41' })}\n`;
    for (const encoding of ['br', 'deflate', 'compress', 'gzip, br']) {
      const response = await tenant.client.request('/api/events', {
        method: 'POST',
        headers: { 'content-encoding': encoding },
        body,
      });
      expect(response.status, encoding).toBe(415);
      expect(await response.json()).toEqual({ errors: [{ message: expect.stringContaining('use gzip') }] });
    }
    expect(await post(tenant.client, body, { 'content-encoding': 'identity' })).toEqual(ok(1));
    expect((await stored(app, tenant.communityRawId)).events).toHaveLength(1);
  });
});

// ---------------------------------------------------------------------------------------

describe('keys and communities', () => {
  it('answers 401 without a key or with an unknown one, 403 to a key that may not ingest', async () => {
    const tenant = await createTenant(app);
    const body = `${event({ 'source.ip': '203.0.113.50' })}\n`;
    const raw = (headers: Record<string, string>) =>
      app.yoga.fetch('http://yoga/api/events', { method: 'POST', headers, body });

    const none = await raw({});
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({
      errors: [{ message: expect.stringMatching(/Missing API key/), extensions: { code: 'UNAUTHENTICATED' } }],
    });
    const unknown = await raw({ authorization: 'Bearer ioc_not-a-key' });
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toEqual({
      errors: [{ message: expect.stringMatching(/Invalid or revoked/), extensions: { code: 'UNAUTHENTICATED' } }],
    });

    for (const role of ['viewer', 'analyst'] as const) {
      const user = await createUser(app, [{ communityId: tenant.communityRawId, role }]);
      const response = await user.request('/api/events', { method: 'POST', body });
      expect(response.status, role).toBe(403);
      expect(await response.json()).toEqual({ errors: [{ message: expect.stringContaining('INGEST_EVENTS') }] });
    }
    expect((await stored(app, tenant.communityRawId)).events).toEqual([]);

    const sensor = await createUser(app, [{ communityId: tenant.communityRawId, role: 'sensor' }]);
    expect(await post(sensor, body)).toEqual(ok(1));
    expect((await stored(app, tenant.communityRawId)).events).toHaveLength(1);
    expect((await sensor.request('/api/events')).status).toBe(405);
  });

  it('needs X-Community-Ids when the key may ingest into several communities, and stores there', async () => {
    const [one, two] = await Promise.all([createTenant(app), createTenant(app)]);
    const sensor = await createUser(app, [
      { communityId: one.communityRawId, role: 'sensor' },
      { communityId: two.communityRawId, role: 'sensor' },
    ]);
    const body = `${event({ 'source.ip': '203.0.113.51' })}\n`;
    const ambiguous = await sensor.request('/api/events', { method: 'POST', body });
    expect(ambiguous.status).toBe(400);
    expect(await ambiguous.json()).toEqual({ errors: [{ message: expect.stringContaining('X-Community-Ids') }] });
    expect(
      (
        await sensor.withCommunities(one.communityId, two.communityId).request('/api/events', {
          method: 'POST',
          body,
        })
      ).status,
    ).toBe(400);
    expect((await stored(app, one.communityRawId)).events).toEqual([]);
    expect((await stored(app, two.communityRawId)).events).toEqual([]);

    expect(await post(sensor.withCommunities(two.communityId), body)).toEqual(ok(1));
    expect((await stored(app, one.communityRawId)).events).toEqual([]);
    expect((await stored(app, two.communityRawId)).events).toHaveLength(1);

    // Selecting a community where the key may not ingest leaves none.
    const mixed = await createUser(app, [
      { communityId: one.communityRawId, role: 'sensor' },
      { communityId: two.communityRawId, role: 'viewer' },
    ]);
    expect((await mixed.withCommunities(two.communityId).request('/api/events', { method: 'POST', body })).status).toBe(
      403,
    );
    expect(await post(mixed, body)).toEqual(ok(1));
    expect((await stored(app, one.communityRawId)).events).toHaveLength(1);
  });

  it('an MSSP key (its sub-communities included) chooses the sub-community with X-Community-Ids', async () => {
    const mssp = await createTenant(app, { children: 2 });
    const body = `${event({ 'source.ip': '203.0.113.52' })}\n`;
    expect((await mssp.client.request('/api/events', { method: 'POST', body })).status).toBe(400);
    expect(await post(mssp.client.withCommunities(mssp.childIds[1]), body)).toEqual(ok(1));
    const counts = await Promise.all(
      [mssp.communityRawId, ...mssp.childRawIds].map(async (id) => (await stored(app, id)).events.length),
    );
    expect(counts).toEqual([0, 0, 1]);
  });
});

// ---------------------------------------------------------------------------------------

describe('what events count for', () => {
  it('counts an event older than EVENT_RETENTION_DAYS in sightings without keeping the event', async () => {
    expect(app.env.EVENT_RETENTION_DAYS).toBe(30);
    const tenant = await createTenant(app);
    const ip = '203.0.113.60';
    const days = [1, 29, 31, 100, 364];
    expect(
      await sendEvents(
        tenant.client,
        days.map((d) => event({ 'source.ip': ip }, daysAgo(d))),
      ),
    ).toEqual(ok(days.length));
    const { entries } = await reportedSightings(tenant, [ip]);
    expect(entries[0]).toMatchObject({ sightings: 5, firstSeen: daysAgo(364), lastSeen: daysAgo(1) });
    expect(entries[0].heatmap.map((h) => h.date)).toEqual(days.toReversed().map((d) => daysAgo(d).slice(0, 10)));

    const { events, observables, sightings } = await stored(app, tenant.communityRawId);
    expect(events.map((e) => e.ts.toISOString())).toEqual([daysAgo(29), daysAgo(1)]);
    expect(observables).toHaveLength(2);
    expect(sightings).toHaveLength(5);
  });

  it('counts an event with several hashes of one file once for that file (max per day, not the sum)', async () => {
    const tenant = await createTenant(app);
    const allHashes = { md5: ABC.md5, sha1: ABC.sha1, sha256: ABC.sha256 };
    const lines = [
      event({ file: { hash: allHashes } }, daysAgo(2)),
      event({ file: { hash: { md5: ABC.md5, sha256: ABC.sha256 } } }, daysAgo(1)),
      event({ file: { hash: { sha1: ABC.sha1 } }, process: { hash: { sha1: ABC.sha1 } } }, daysAgo(1, 13)),
      // The same hash in two fields of one event.
      event({ 'file.hash.sha256': ABC.sha256, 'dll.hash.sha256': ABC.sha256.toUpperCase() }, daysAgo(3)),
    ];
    expect(await sendEvents(tenant.client, lines)).toEqual(ok(4));
    const { entries } = await reportedSightings(tenant, [`${ABC.md5},${ABC.sha1},${ABC.sha256}`]);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ sightings: 3, indicator: { type: 'FILE', value: ABC.sha256 } });
    expect(entries[0].heatmap).toEqual([
      { date: daysAgo(3).slice(0, 10), count: 1 },
      { date: daysAgo(2).slice(0, 10), count: 1 },
      { date: daysAgo(1).slice(0, 10), count: 1 },
    ]);
  });

  it('counts an event carrying the same IP in several fields once', async () => {
    const tenant = await createTenant(app);
    const lines = [
      event({ source: { ip: '203.0.113.61' }, destination: { ip: '203.0.113.61' }, 'client.ip': '203.0.113.61' }),
      event({ 'host.ip': ['203.0.113.61', '203.0.113.61'] }),
      event({ 'source.ip': '2001:db8::61', 'destination.ip': '2001:DB8:0:0:0:0:0:61' }),
    ];
    expect(await sendEvents(tenant.client, lines)).toEqual(ok(3));
    expect((await reportedSightings(tenant, ['203.0.113.61', '2001:db8::61'])).sightings).toEqual({
      '203.0.113.61': 2,
      '2001:db8::61': 1,
    });
  });

  it('keeps URL and e-mail observables for detection, but counts sightings of IPs, domains and hashes only', async () => {
    const tenant = await createTenant(app);
    const lines = [
      event({
        url: { full: 'http://evil.example/payload' },
        email: { from: { address: 'bad@evil.example' } },
        'source.ip': '203.0.113.62',
      }),
      event({ 'url.original': 'http://evil.example/payload', 'user.email': 'bad@evil.example' }),
    ];
    expect(await sendEvents(tenant.client, lines)).toEqual(ok(2));
    const { report, sightings } = await reportedSightings(tenant, [
      'http://evil.example/payload',
      'bad@evil.example',
      'evil.example',
      '203.0.113.62',
    ]);
    expect(sightings).toEqual({ '203.0.113.62': 1 });
    // URL and e-mail indicators are not checked at all; the domain was not in a domain field.
    expect(report).toMatchObject({ indicatorsChecked: 2, indicatorsSeen: 1 });

    const { observables, sightings: rows } = await stored(app, tenant.communityRawId);
    expect(rows.map((s) => [s.type, s.value])).toEqual([['IPV4', '203.0.113.62']]);
    expect(new Set(observables.map((o) => o.type))).toEqual(new Set(['URL', 'EMAIL', 'IPV4']));
  });

  it('adds up events of one community sent at the same time', async () => {
    const tenant = await createTenant(app);
    const values = Array.from({ length: 50 }, (_, i) => ipOf(1000 + i));
    const body = values.map((ip) => event({ 'source.ip': ip })).join('\n');
    const answers = await Promise.all(Array.from({ length: 4 }, () => post(tenant.client, body)));
    for (const answer of answers) expect(answer).toEqual(ok(50));
    const { sightings } = await stored(app, tenant.communityRawId);
    expect(sightings.map((s) => [s.value, s.count])).toEqual(values.sort().map((v) => [v, 4]));
  });
});
