// Hostile input through the public surface: every case gets a clear answer (which field or
// line, and why), never a 500 or a crash, and loses nothing already stored. Each test checks
// a tenant's stored state before and after (expectNothingLost).
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { neutraliseFormulas } from '../src/csv-writer.ts';
import {
  allIndicators,
  createTenant,
  expectMember,
  fromGlobalId,
  importFileAndWait,
  importText,
  newCollection,
  previewFile,
  sendEvents,
  startTestApp,
  toGlobalId,
  type Tenant,
} from './kit.ts';
import { splitCsvLine } from './csv-line.ts';
import { partsOf, sheetOf, WORKBOOK_PARTS, workbookOf, zipOf } from './workbooks.ts';

const app = await startTestApp();

interface Answer {
  status: number;
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** A GraphQL request as any client could send it: raw text, no typed document. */
async function graphqlRequest(tenant: Tenant, query: string, variables?: Record<string, unknown>): Promise<Answer> {
  const response = await app.yoga.fetch('http://yoga/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant.client.key}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, ...((await response.json()) as object) };
}

/** A tenant with a collection of three indicators, and a way to see that none of it changed. */
async function storedTenant() {
  const tenant = await createTenant(app);
  const collectionId = await newCollection(tenant);
  await importText(tenant.client, collectionId, ['198.51.100.1', 'evil.example', 'http://evil.example/x'].join('\n'), {
    description: 'kept',
  });
  const { prisma } = app.services;
  const state = async () => ({
    indicators: await allIndicators(tenant.client, collectionId, { includeRevoked: true }),
    // Their indicator counters aside: what changes them is checked through `indicators`.
    collections: (await prisma.collection.findMany({ where: { communityId: tenant.communityRawId } })).map(
      ({ activeIndicators: _active, revokedIndicators: _revoked, ...collection }) => collection,
    ),
    importJobs: await prisma.importJob.count({ where: { collectionId: fromGlobalId(collectionId).id } }),
    uploads: await prisma.importSource.count({ where: { uploadedById: tenant.client.userId } }),
  });
  const before = await state();
  expect(before.indicators).toHaveLength(3);
  return {
    ...tenant,
    collectionId,
    /** Everything stored before is still there, unchanged, next to `added` new indicators. */
    async expectNothingLost({ importJobs = 0, added = 0 } = {}) {
      const after = await state();
      expect(after.indicators).toHaveLength(before.indicators.length + added);
      expect(after.indicators).toEqual(expect.arrayContaining(before.indicators));
      expect(after.collections).toEqual(before.collections);
      expect(after.importJobs).toBe(before.importJobs + importJobs);
      expect(after.uploads).toBeGreaterThanOrEqual(before.uploads);
    },
  };
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('ids', () => {
  const hostileIds = [
    ['not base64', '!!!not-base64!!!'],
    ['base64 of nothing useful', b64('no colon at all')],
    ['an unknown type', b64(`Weapon:${randomUUID()}`)],
    ['a known type with a malformed key', b64('Collection:not-a-uuid')],
    ['a 10 kB id', 'A'.repeat(10_000)],
    ['a 10 kB id of a known type', b64(`Collection:${'f'.repeat(10_000)}`)],
    ['a 10 kB id of another type', b64(`Threat:${'f'.repeat(10_000)}`)],
  ];

  it.each(hostileIds)(
    'answers %s as an argument with a short, clear error, on queries and mutations',
    async (_, id) => {
      const tenant = await storedTenant();
      const asked = await graphqlRequest(tenant, 'query ($id: ID!) { node(id: $id) { id } }', { id });
      const changed = await graphqlRequest(
        tenant,
        'mutation ($id: ID!) { updateCollection(input: { id: $id, name: "x" }) { __typename } }',
        { id },
      );
      for (const answer of [asked, changed]) {
        expect(answer.status).toBe(200);
        expect(Object.values(answer.data ?? {}).filter(Boolean)).toEqual([]);
        expect(answer.errors?.[0].message).toMatch(/^Invalid ID|is not of type: Collection$/);
        expect(answer.errors?.[0].message.length).toBeLessThan(120);
        expect(answer.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      }
      await tenant.expectNothingLost();
    },
  );

  it('answers a well-formed id of nothing like a missing object', async () => {
    const tenant = await storedTenant();
    const id = toGlobalId('Collection', randomUUID());
    const asked = await graphqlRequest(tenant, 'query ($id: ID!) { node(id: $id) { id } }', { id });
    expect(asked).toMatchObject({ status: 200, data: { node: null } });
    const changed = await graphqlRequest(
      tenant,
      'mutation ($id: ID!) { updateCollection(input: { id: $id, name: "x" }) { ... on Error { code message } } }',
      { id },
    );
    expect(changed.data).toEqual({ updateCollection: { code: 'NOT_FOUND', message: 'Collection not found' } });
    await tenant.expectNothingLost();
  });
});

describe('request bodies', () => {
  it.each([
    [
      'a JSON array (batching is off)',
      JSON.stringify([{ query: '{ communities { id } }' }]),
      /Batching is not supported/,
    ],
    ['a JSON string', JSON.stringify('{ communities { id } }'), /expected to be object but received string/],
    ['JSON null', 'null', /expected to be object but received null/],
    ['broken JSON', '{"query": "{ communities { id } }"', /JSON/],
    ['no query', JSON.stringify({ variables: {} }), /Must provide query string/],
  ])('answers %s with 400 and a reason', async (_, body, message) => {
    const tenant = await storedTenant();
    const response = await app.yoga.fetch('http://yoga/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
        authorization: `Bearer ${tenant.client.key}`,
      },
      body,
    });
    expect(response.status).toBe(400);
    const answer = (await response.json()) as Answer;
    expect(answer.errors?.[0].message).toMatch(message);
    await tenant.expectNothingLost();
  });
});

describe('input values', () => {
  const longText = 'x'.repeat(501);

  it("refuses a 501-character indicator description (and a 2001-character collection's), naming the field", async () => {
    const tenant = await storedTenant();
    const created = await graphqlRequest(
      tenant,
      `mutation ($input: CreateCollectionInput!) { createCollection(input: $input) { ... on ValidationError { field message } } }`,
      { input: { communityId: tenant.communityId, name: 'long', description: 'x'.repeat(2001) } },
    );
    expect(created.data?.createCollection).toMatchObject({ field: 'input.description' });
    const imported = await graphqlRequest(
      tenant,
      `mutation ($input: ImportIndicatorsFromTextInput!) { importIndicatorsFromText(input: $input) { ... on ValidationError { field message } } }`,
      { input: { collectionId: tenant.collectionId, text: '198.51.100.200', properties: { description: longText } } },
    );
    expect(imported.data?.importIndicatorsFromText).toMatchObject({ field: 'input.properties.description' });
    const [indicator] = await allIndicators(tenant.client, tenant.collectionId);
    const edited = await graphqlRequest(
      tenant,
      `mutation ($input: UpdateIndicatorInput!) { updateIndicator(input: $input) { ... on ValidationError { field message } } }`,
      { input: { id: indicator.id, description: longText } },
    );
    expect(edited.data?.updateIndicator).toMatchObject({ field: 'input.description' });
    await tenant.expectNothingLost();
  });

  it('refuses validUntil before (or at) validFrom, naming the field', async () => {
    const tenant = await storedTenant();
    const imported = await graphqlRequest(
      tenant,
      `mutation ($input: ImportIndicatorsFromTextInput!) { importIndicatorsFromText(input: $input) { ... on ValidationError { field message } } }`,
      {
        input: {
          collectionId: tenant.collectionId,
          text: '198.51.100.200',
          properties: { validFrom: '2025-06-01T00:00:00Z', validUntil: '2025-05-01T00:00:00Z' },
        },
      },
    );
    expect(imported.data?.importIndicatorsFromText).toMatchObject({ field: 'input.properties.validUntil' });
    const [indicator] = await allIndicators(tenant.client, tenant.collectionId);
    const edited = await graphqlRequest(
      tenant,
      `mutation ($input: UpdateIndicatorInput!) { updateIndicator(input: $input) { ... on ValidationError { field message } } }`,
      { input: { id: indicator.id, validUntil: '2000-01-01T00:00:00Z' } },
    );
    expect(edited.data?.updateIndicator).toMatchObject({ field: 'input.validUntil' });
    await tenant.expectNothingLost();
  });

  it.each(['2024-02-30T00:00:00Z', 'yesterday', '2024-13-01', '', '99999-01-01T00:00:00Z', 1e20])(
    'refuses the date %j with the variable and the reason',
    async (date) => {
      const tenant = await storedTenant();
      const answer = await graphqlRequest(
        tenant,
        `mutation ($input: ImportIndicatorsFromTextInput!) { importIndicatorsFromText(input: $input) { __typename } }`,
        { input: { collectionId: tenant.collectionId, text: '198.51.100.200', properties: { validFrom: date } } },
      );
      expect(answer.status).toBe(400);
      expect(answer.data ?? null).toBeNull();
      expect(answer.errors?.[0].message).toMatch(
        /^Variable "\$input" got invalid value .* at "input.properties.validFrom"; DateTime must be an ISO-8601 string with a time zone/,
      );
      await tenant.expectNothingLost();
    },
  );

  it('refuses threat ids that name no threat, and rejects rows of a file whose threat names are unknown', async () => {
    const tenant = await storedTenant();
    const byId = await graphqlRequest(
      tenant,
      `mutation ($input: ImportIndicatorsFromTextInput!) { importIndicatorsFromText(input: $input) { __typename ... on Error { code message } ... on ValidationError { field } } }`,
      {
        input: {
          collectionId: tenant.collectionId,
          text: '198.51.100.200',
          properties: { threatIds: [toGlobalId('Threat', randomUUID())] },
        },
      },
    );
    expect(byId.data?.importIndicatorsFromText).toMatchObject({
      __typename: 'ValidationError',
      field: 'input.properties.threatIds',
    });
    const file = Buffer.from('ioc,malware\n198.51.100.201,Emotet\n198.51.100.202,NoSuchThreatAnywhere\n');
    const previewed = expectMember(
      await previewFile(tenant.client, tenant.collectionId, 'threats.csv', file),
      'PreviewIndicatorFileSuccess',
    );
    expect(previewed.preview.unknownThreats).toEqual(['NoSuchThreatAnywhere']);
    const job = await importFileAndWait(tenant.client, {
      collectionId: tenant.collectionId,
      fileHandle: previewed.preview.fileHandle,
      mapping: ['OBSERVABLE', 'THREATS'],
      ignoreFirstLine: true,
    });
    expect(job).toMatchObject({ status: 'SUCCEEDED', created: 1, invalid: 1 });
    expect(job.errors.edges.map((e) => e.node)).toEqual([
      {
        line: 3,
        value: '198.51.100.202',
        code: 'UNKNOWN_THREAT',
        message: 'column 2: "NoSuchThreatAnywhere" is not in the threat catalogue',
      },
    ]);
    await tenant.expectNothingLost({ importJobs: 1, added: 1 });
  });
});

describe('files', () => {
  it('keeps sheet and header names like __proto__ as plain data, through preview and import; nothing is polluted', async () => {
    const tenant = await storedTenant();
    const content = workbookOf(
      [
        [
          '__proto__',
          sheetOf([
            ['__proto__', 'constructor', 'prototype'],
            ['198.51.100.77', '{"polluted":"yes"}', 'polluted'],
          ]),
        ],
        ['constructor', sheetOf([['prototype'], ['polluted']])],
      ],
      'xlsx',
    );
    const previewed = expectMember(
      await previewFile(tenant.client, tenant.collectionId, 'proto.xlsx', content),
      'PreviewIndicatorFileSuccess',
    );
    expect(previewed.preview).toMatchObject({
      sheets: ['__proto__', 'constructor'],
      sheet: '__proto__',
      header: ['__proto__', 'constructor', 'prototype'],
      rows: [['198.51.100.77', '{"polluted":"yes"}', 'polluted']],
    });
    const job = await importFileAndWait(tenant.client, {
      collectionId: tenant.collectionId,
      fileHandle: previewed.preview.fileHandle,
      mapping: ['OBSERVABLE', 'DESCRIPTION', null],
      ignoreFirstLine: true,
    });
    expect(job).toMatchObject({ status: 'SUCCEEDED', created: 1 });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    await tenant.expectNothingLost({ importJobs: 1, added: 1 });
  });

  const workbookParts = () => partsOf(workbookOf([['S', sheetOf([['ip'], ['10.0.0.1']])]], 'xlsx'));
  it.each([
    {
      what: 'a zip bomb: a part declared to unpack to 4 GiB',
      fileName: 'bomb.xlsx',
      content: () =>
        zipOf([
          ...WORKBOOK_PARTS,
          { name: 'xl/worksheets/sheet1.xml', data: Buffer.alloc(1024), declaredSize: 0xfffffff0 },
        ]),
      reason: 'WORKBOOK_TOO_LARGE',
      message: /4\.0 GiB/,
    },
    {
      what: 'a zip bomb: a part that unpacks to more than its directory says',
      fileName: 'liar.xlsx',
      content: () =>
        zipOf(
          workbookParts().map((part) =>
            part.name === 'xl/worksheets/sheet1.xml' ? { ...part, declaredSize: part.data.length - 10 } : part,
          ),
        ),
      reason: 'MALFORMED_FILE',
      message: /xl\/worksheets\/sheet1\.xml/,
    },
    {
      what: 'a zip of 20,000 declared entries',
      fileName: 'entries.xlsx',
      content: () => zipOf(WORKBOOK_PARTS, { declaredEntryCount: 20_000 }),
      reason: 'WORKBOOK_TOO_LARGE',
      message: /holds 20000 files/,
    },
    {
      what: 'binary data named .csv',
      fileName: 'random.csv',
      content: () => randomBytes(64 * 1024),
      reason: 'UNSUPPORTED_FORMAT',
      message: /^this is not a text \(CSV\) file: it contains (NUL bytes|binary data) in its first bytes/,
    },
    {
      what: 'a 0-byte file',
      fileName: 'empty.csv',
      content: () => Buffer.alloc(0),
      reason: 'EMPTY_FILE',
      message: /empty/,
    },
  ])('refuses $what with a reason, storing nothing', async ({ fileName, content, reason, message }) => {
    const tenant = await storedTenant();
    const refused = expectMember(
      await previewFile(tenant.client, tenant.collectionId, fileName, content()),
      'UnreadableFileError',
    );
    expect(refused).toMatchObject({ code: 'UNREADABLE_FILE', reason });
    expect(refused.message).toMatch(message);
    await tenant.expectNothingLost();
  });

  it('imports a ragged CSV: extra cells are ignored, a row without its observable is rejected with its line', async () => {
    const tenant = await storedTenant();
    const content = Buffer.from(
      ['ioc,comment', '198.51.100.31,ok,extra,cells', '198.51.100.32', ',only a comment', '198.51.100.33,ok'].join(
        '\n',
      ),
    );
    const previewed = expectMember(
      await previewFile(tenant.client, tenant.collectionId, 'ragged.csv', content),
      'PreviewIndicatorFileSuccess',
    );
    expect(previewed.preview.header).toEqual(['ioc', 'comment']);
    const job = await importFileAndWait(tenant.client, {
      collectionId: tenant.collectionId,
      fileHandle: previewed.preview.fileHandle,
      mapping: ['OBSERVABLE', 'DESCRIPTION'],
      ignoreFirstLine: true,
    });
    expect(job).toMatchObject({ status: 'SUCCEEDED', total: 4, created: 3, invalid: 1 });
    expect(job.errors.edges.map((e) => [e.node.line, e.node.code])).toEqual([[4, 'EMPTY']]);
    await tenant.expectNothingLost({ importJobs: 1, added: 3 });
  });

  it.each([
    ['with its size declared', true],
    ['chunked, its size unknown until the end', false],
  ])('answers a 500 MB upload %s with 413 over a real socket, long before it is all sent', async (_, declared) => {
    const tenant = await storedTenant();
    const { url } = await app.http();
    const boundary = `hostile${randomUUID()}`;
    const part = (headers: string, body: string) => `--${boundary}\r\n${headers}\r\n\r\n${body}\r\n`;
    const head = Buffer.from(
      part(
        'Content-Disposition: form-data; name="operations"',
        JSON.stringify({
          query: 'mutation ($input: PreviewIndicatorFileInput!) { previewIndicatorFile(input: $input) { __typename } }',
          variables: { input: { collectionId: tenant.collectionId, file: null } },
        }),
      ) +
        part('Content-Disposition: form-data; name="map"', JSON.stringify({ 0: ['variables.input.file'] })) +
        `--${boundary}\r\nContent-Disposition: form-data; name="0"; filename="big.csv"\r\nContent-Type: text/csv\r\n\r\n`,
    );
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const fileSize = 500 * 1024 * 1024;
    const chunk = Buffer.alloc(1024 * 1024, '198.51.100.1\n');

    const request = http.request(`${url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': `multipart/form-data; boundary=${boundary}`,
        authorization: `Bearer ${tenant.client.key}`,
        ...(declared ? { 'content-length': String(head.length + fileSize + tail.length) } : {}),
      },
    });
    request.on('error', () => {}); // the server may close the connection once it has answered
    const answered = new Promise<{ status: number; body: string }>((resolve) =>
      request.on('response', (response) => {
        let body = '';
        response.on('data', (data) => (body += data));
        response.on('end', () => resolve({ status: response.statusCode!, body }));
      }),
    );
    let response: { status: number; body: string } | undefined;
    void answered.then((r) => (response = r));
    let sent = 0;
    request.write(head);
    while (!response && sent < fileSize && !request.destroyed) {
      if (!request.write(chunk))
        await Promise.race([new Promise((resolve) => request.once('drain', resolve)), answered]);
      sent += chunk.length;
    }
    if (!response && !request.destroyed) request.end(tail);
    const { status, body } = await answered;
    request.destroy();

    expect(status).toBe(413);
    expect(body).toMatch(/too large|exceed|limit/i);
    expect(sent).toBeLessThan(fileSize / 2);
    await tenant.expectNothingLost();
  });
});

describe('events', () => {
  it('keeps the good lines of NDJSON with broken lines, naming each bad line and why', async () => {
    const tenant = await storedTenant();
    const now = new Date().toISOString();
    const answer = await sendEvents(tenant.client, [
      { '@timestamp': now, 'source.ip': '198.51.100.1' },
      '{"@timestamp": "' + now + '", "source.ip": ',
      'not json at all',
      '[1, 2, 3]',
      { '@timestamp': 'yesterday', 'source.ip': '198.51.100.1' },
      { 'source.ip': '198.51.100.1' },
      { '@timestamp': now, 'source.ip': 'not-an-ip' },
      { '@timestamp': now, 'destination.ip': '198.51.100.2' },
    ]);
    expect(answer).toMatchObject({ status: 200, accepted: 2, rejected: 6 });
    expect(answer.errors).toEqual([
      { line: 2, reason: expect.stringMatching(/^invalid JSON: /) },
      { line: 3, reason: expect.stringMatching(/^invalid JSON: /) },
      { line: 4, reason: 'not a JSON object' },
      { line: 5, reason: '@timestamp: "yesterday" is not an ISO-8601 date-time' },
      { line: 6, reason: '@timestamp is missing' },
      { line: 7, reason: 'source.ip: "not-an-ip" is not an IP address' },
    ]);
    await tenant.expectNothingLost();
  });
});

describe('export safety', () => {
  it('neutralises cells that a spreadsheet would run (=, +, -, @) in the rejected-rows CSV', async () => {
    const tenant = await storedTenant();
    const hostile = ['=HYPERLINK("http://x.example")', '+1+1', '-2+3', '@SUM(A1:A2)'];
    const content = Buffer.from(
      ['ioc,comment', ...hostile.map((value, i) => `junk ${i},"${value.replace(/"/g, '""')}"`)].join('\n'),
    );
    const previewed = expectMember(
      await previewFile(tenant.client, tenant.collectionId, 'formulas.csv', content),
      'PreviewIndicatorFileSuccess',
    );
    const job = await importFileAndWait(tenant.client, {
      collectionId: tenant.collectionId,
      fileHandle: previewed.preview.fileHandle,
      mapping: ['OBSERVABLE', 'DESCRIPTION'],
      ignoreFirstLine: true,
    });
    expect(job).toMatchObject({ status: 'SUCCEEDED', invalid: hostile.length });
    const response = await tenant.client.request(`/api/imports/${encodeURIComponent(job.id)}/errors.csv`);
    expect(response.status).toBe(200);
    const comments = (await response.text())
      .trim()
      .split('\r\n')
      .slice(1)
      .map((line) => splitCsvLine(line)[1]);
    expect(comments).toEqual([`'=HYPERLINK("http://x.example")`, "'+1+1", "'-2+3", "'@SUM(A1:A2)"]);
    await tenant.expectNothingLost({ importJobs: 1 });
  });

  // The file reader trims cells, so a leading tab or CR cannot come back from an import.
  it.each([
    ['\tcmd', "'\tcmd"],
    ['\rcmd', "'\rcmd"],
    ['=1+1', "'=1+1"],
    ['plain, "quoted"', 'plain, "quoted"'],
    ['y;=cmd', "y;'=cmd"],
  ])('writes the cell %j as %j', (value, written) => {
    expect(neutraliseFormulas(value)).toBe(written);
  });
});
