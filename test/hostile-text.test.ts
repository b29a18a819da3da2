// Hostile text: what is written out as CSV never starts a formula in a spreadsheet, whichever
// way the file is split; names, descriptions and file names keep out characters that make
// text lie about itself; inputs that used to reach unexpected errors get input errors; and
// unexpected errors show nothing of the server unless DEBUG_ERRORS=1.
import { describe, expect, it, vi } from 'vitest';
import { csvStream } from '../src/csv-writer.ts';
import {
  createTenant,
  expectMember,
  fromGlobalId,
  importCsvFile,
  importText,
  indicatorByValue,
  newCollection,
  previewFile,
  startTestApp,
  updateIndicator,
  unique,
  type Client,
  type TestApp,
} from './kit.ts';
import {
  Collections,
  CreateCollection,
  ImportFile,
  ImportText,
  Indicators,
  Nodes,
  PreviewFile,
  Threats,
  UpdateCollection,
  UploadedFileNode,
} from './documents.ts';

const app = await startTestApp();
// Unexpected errors as `npm start` shows them (NODE_ENV development), and as DEBUG_ERRORS=1 does.
const development = await startTestApp({ NODE_ENV: 'development' }, { workers: false });
const debug = await startTestApp({ NODE_ENV: 'production', DEBUG_ERRORS: '1' }, { workers: false });

interface RawAnswer {
  status: number;
  text: string;
  body: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

/** A request as any client could send it: raw text. */
async function rawRequest(target: TestApp, client: Client, body: string): Promise<RawAnswer> {
  const response = await target.yoga.fetch('http://yoga/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${client.key}` },
    body,
  });
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text) };
}

// ---- CSV written out

const FORMULA_TRIGGER = /^[=+\-@\t\r]/;
/** What a reader strips before it looks at a cell: quotes and spaces. */
const startsFormula = (cell: string) => FORMULA_TRIGGER.test(cell.replace(/^[ "]*/, ''));

/** A quote-aware reader (RFC 4180, lenient like spreadsheets) splitting on `delimiter`. */
function parseCsv(text: string, delimiter: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  let atCellStart = true;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"' && atCellStart) {
      quoted = true;
      atCellStart = false;
    } else if (char === delimiter) {
      row.push(cell);
      cell = '';
      atCellStart = true;
    } else if (char === '\r' || char === '\n') {
      if (char === '\r' && text[i + 1] === '\n') i += 1;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      atCellStart = true;
    } else {
      cell += char;
      atCellStart = false;
    }
  }
  if (cell || row.length) rows.push([...row, cell]);
  return rows;
}

/** A reader that knows nothing of quotes: lines, then cells split on `delimiter`. */
const splitNaively = (text: string, delimiter: string) =>
  text.split(/\r\n|\r|\n/).flatMap((line) => line.split(delimiter));

/** No reader, quote-aware or not, on any common delimiter, finds a cell that starts a formula. */
function expectNoFormulaCell(csv: string) {
  for (const delimiter of [',', ';', '\t', '|']) {
    const quoteAware = parseCsv(csv, delimiter).flat().filter(startsFormula);
    expect(quoteAware, `quote-aware reader on ${JSON.stringify(delimiter)}`).toEqual([]);
    const naive = splitNaively(csv, delimiter).filter(startsFormula);
    expect(naive, `plain split on ${JSON.stringify(delimiter)}`).toEqual([]);
  }
}

const csvCell = (value: string) => `"${value.replace(/"/g, '""')}"`;

describe('CSV written out', () => {
  it('neutralises formulas in errors.csv for readers splitting on ; , tab or |, quoted or not', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    const hostile: [string, string][] = [
      [`y;=cmd|' /C calc'!A0;`, 'plain'],
      ['"=1+1', '" =quoted'],
      ['a,=1+1', '|=2'],
      ['x|@SUM(A1)', 'line one\n-2+3'],
      ['semi;colon, comma|pipe', 'two\r\n+lines'],
    ];
    const content = Buffer.from(['ioc,comment', ...hostile.map((cells) => cells.map(csvCell).join(','))].join('\n'));
    const job = await importCsvFile(tenant.client, collectionId, 'hostile.csv', content, ['OBSERVABLE', 'DESCRIPTION']);
    expect(job).toMatchObject({ status: 'SUCCEEDED', invalid: hostile.length });

    const response = await tenant.client.request(`/api/imports/${encodeURIComponent(job.id)}/errors.csv`);
    expect(response.status).toBe(200);
    const csv = (await response.text()).replace(/^\uFEFF/, '');
    expectNoFormulaCell(csv);
    // Read back as written (comma, quotes honoured): the values, an apostrophe before each formula.
    const [header, ...rows] = parseCsv(csv, ',');
    expect(header).toEqual(['ioc', 'comment', 'error_line', 'error_code', 'error_message']);
    expect(rows.map((cells) => cells.slice(0, 3))).toEqual([
      [`y;'=cmd|' /C calc'!A0;`, 'plain', '2'],
      [`"'=1+1`, `" '=quoted`, '3'],
      [`a,'=1+1`, `|'=2`, '4'],
      ['x|' + "'@SUM(A1)", "line one\n'-2+3", '5'],
      // Line 5 spans two lines of the file.
      ['semi;colon, comma|pipe', expect.stringMatching(/^two\r?\n'\+lines$/), '7'],
    ]);
  });

  it('neutralises cells starting with tab or CR, after quotes, spaces or any delimiter', async () => {
    const values = ['\tcmd', '\r=1', ' \t=x', '""@y', 'a;\t=b', 'a\t\t=c', 'a|-1', 'x\r\n=y', 'fine; really'];
    const rows = async function* () {
      yield ['value'];
      for (const value of values) yield [value];
    };
    const csv = (await new Response(csvStream(rows(), (error) => expect.fail(String(error)))).text()).replace(
      /^\uFEFF/,
      '',
    );
    expectNoFormulaCell(csv);
    expect(parseCsv(csv, ',').map(([cell]) => cell)).toEqual([
      'value',
      "'\tcmd",
      "'\r'=1",
      " '\t'=x",
      `""'@y`,
      "a;'\t'=b",
      "a\t'\t'=c",
      "a|'-1",
      "x\r\n'=y",
      'fine; really',
    ]);
  });
});

// ---- text that is stored

const BIDI_OVERRIDE = '\u202e';
const ZERO_WIDTH_SPACE = '\u200b';
const ESCAPE = '\u001b';
const LONE_SURROGATE = '\ud800';

describe('stored text', () => {
  it.each([
    ['a right-to-left override', `invoice${BIDI_OVERRIDE}fdp.exe`, /U\+202E/],
    ['a left-to-right isolate', `a\u2066b`, /U\+2066/],
    ['a zero-width space', `pay${ZERO_WIDTH_SPACE}pal`, /U\+200B/],
    ['a byte-order mark inside', `a\ufeffb`, /U\+FEFF/],
    ['a terminal escape', `red${ESCAPE}[31m`, /control characters \(U\+001B\)/],
    ['a C1 control', `a\u0085b`, /U\+0085/],
    ['a line break', 'two\nlines', /U\+000A/],
    ['a lone surrogate', `a${LONE_SURROGATE}b`, /unpaired surrogate/],
  ])('refuses a collection name with %s, naming the field', async (_, name, message) => {
    const tenant = await createTenant(app);
    const { createCollection } = await tenant.client.gql(CreateCollection, {
      input: { communityId: tenant.communityId, name },
    });
    const error = expectMember(createCollection, 'ValidationError');
    expect(error).toMatchObject({ code: 'VALIDATION', field: 'input.name' });
    expect(error.message).toMatch(message);
    expect(await app.services.prisma.collection.count({ where: { communityId: tenant.communityRawId } })).toBe(0);
  });

  it('keeps line breaks and tabs in descriptions (CRLF as LF), refuses the rest, and changes nothing refused', async () => {
    const tenant = await createTenant(app);
    const name = unique('described');
    const { createCollection } = await tenant.client.gql(CreateCollection, {
      input: { communityId: tenant.communityId, name, description: 'Line one\r\n\tLine two\n' },
    });
    const { collection } = expectMember(createCollection, 'CreateCollectionSuccess');
    expect(collection.description).toBe('Line one\n\tLine two');

    for (const [input, field] of [
      [{ description: `x${BIDI_OVERRIDE}y` }, 'input.description'],
      [{ description: `bell\u0007` }, 'input.description'],
      [{ description: `lone\rreturn` }, 'input.description'],
      [{ name: `x${ZERO_WIDTH_SPACE}` }, 'input.name'],
    ] as const) {
      const { updateCollection } = await tenant.client.gql(UpdateCollection, {
        input: { id: collection.id, ...input },
      });
      expect(expectMember(updateCollection, 'ValidationError').field).toBe(field);
    }
    const stored = await app.services.prisma.collection.findUniqueOrThrow({
      where: { id: fromGlobalId(collection.id).id },
    });
    expect(stored).toMatchObject({ name, description: 'Line one\n\tLine two' });
  });

  it('refuses such characters in an indicator description and in import descriptions, lone surrogates included', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    await importText(tenant.client, collectionId, '198.51.100.77', { description: 'kept' });
    const indicator = await indicatorByValue(tenant.client, collectionId, '198.51.100.77');

    const updated = await updateIndicator(tenant.client, indicator.id, { description: `C2${BIDI_OVERRIDE}gpj.exe` });
    expect(expectMember(updated, 'ValidationError')).toMatchObject({ field: 'input.description' });

    const text = await tenant.client.gql(ImportText, {
      input: { collectionId, text: '198.51.100.78', properties: { description: `bad ${LONE_SURROGATE} text` } },
    });
    const refused = expectMember(text.importIndicatorsFromText, 'ValidationError');
    expect(refused).toMatchObject({ code: 'VALIDATION', field: 'input.properties.description' });
    expect(refused.message).toMatch(/unpaired surrogate/);

    const previewed = expectMember(
      await previewFile(tenant.client, collectionId, 'iocs.csv', Buffer.from('198.51.100.79\n')),
      'PreviewIndicatorFileSuccess',
    );
    const file = await tenant.client.gql(ImportFile, {
      input: {
        collectionId,
        fileHandle: previewed.preview.fileHandle,
        mapping: ['OBSERVABLE'],
        ignoreFirstLine: false,
        defaults: { description: `zero${ZERO_WIDTH_SPACE}width` },
      },
    });
    expect(expectMember(file.importIndicatorsFromFile, 'ValidationError').field).toBe('input.defaults.description');

    // Nothing of it was stored: one import job, the description as it was.
    expect(await indicatorByValue(tenant.client, collectionId, '198.51.100.77')).toMatchObject({ description: 'kept' });
    expect(await app.services.prisma.importJob.count({ where: { collectionId: fromGlobalId(collectionId).id } })).toBe(
      1,
    );
  });

  it('rejects a file row whose description holds such characters, naming its line and column', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    const content = Buffer.from(`ioc,comment\n198.51.100.90,fine\n198.51.100.91,"C2 ${BIDI_OVERRIDE}gpj.exe"\n`);
    const job = await importCsvFile(tenant.client, collectionId, 'described.csv', content, [
      'OBSERVABLE',
      'DESCRIPTION',
    ]);
    expect(job).toMatchObject({ status: 'SUCCEEDED', created: 1, invalid: 1 });
    expect(job.errors.edges.map((e) => e.node)).toEqual([
      {
        line: 3,
        value: '198.51.100.91',
        code: 'INVALID_DESCRIPTION',
        message: 'column 2: description must not contain invisible or text-direction characters (U+202E)',
      },
    ]);
  });

  it('strips such characters from uploaded file names', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    const answer = await previewFile(
      tenant.client,
      collectionId,
      `report${BIDI_OVERRIDE}vsc${ZERO_WIDTH_SPACE}.exe`,
      Buffer.from('198.51.100.80\n'),
    );
    const { preview } = expectMember(answer, 'PreviewIndicatorFileSuccess');
    expect(preview.file.fileName).toBe('reportvsc.exe');
  });
});

// ---- inputs that reached unexpected errors

describe('input errors instead of unexpected ones', () => {
  it.each([
    ['threats', (client: Client) => client.execute(Threats, { search: 'apt\u0000', first: 1 })],
    ['collections', (client: Client) => client.execute(Collections, { search: 'a\u0000b', first: 1 })],
  ])('refuses a NUL in %s(search:) naming the argument', async (_, run) => {
    const tenant = await createTenant(app);
    const answer = await run(tenant.client);
    expect(answer.errors).toHaveLength(1);
    expect(answer.errors![0]).toMatchObject({
      message: 'search must not contain NUL characters',
      extensions: { code: 'VALIDATION' },
    });
  });

  it('refuses a NUL in Collection.indicators(search:) naming the argument', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    const answer = await tenant.client.execute(Indicators, { id: collectionId, search: '\u0000', first: 1 });
    expect(answer.errors?.[0]).toMatchObject({
      message: 'search must not contain NUL characters',
      extensions: { code: 'VALIDATION' },
    });
  });

  it('says that previewIndicatorFile needs an uploaded file when `file` is a string', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    const asVariable = await tenant.client.execute(PreviewFile, {
      input: { collectionId, file: 'a string' as unknown as File },
    });
    expect(asVariable.errors?.[0].message).toMatch(/input\.file.*must be a file sent as a multipart request/);
    expect(asVariable.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    const inline = await rawRequest(
      app,
      tenant.client,
      JSON.stringify({
        query: `mutation HostileTextInlinePreview { previewIndicatorFile(input: { collectionId: "${collectionId}", file: "a string" }) { __typename } }`,
      }),
    );
    expect(inline.body.errors?.[0].message).toMatch(/must be a file sent as a multipart request/);
    expect(await app.services.prisma.importSource.count({ where: { uploadedById: tenant.client.userId } })).toBe(0);
  });

  it('resolves an UploadedFile through node and nodes for its owner, and for no one else', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    const { preview } = expectMember(
      await previewFile(tenant.client, collectionId, 'mine.csv', Buffer.from('198.51.100.81\n')),
      'PreviewIndicatorFileSuccess',
    );
    const fileId = preview.file.id;
    const { node } = await tenant.client.gql(UploadedFileNode, { id: fileId });
    expect(node).toEqual({ __typename: 'UploadedFile', id: fileId, fileName: 'mine.csv', size: 14 });
    const { nodes } = await tenant.client.gql(Nodes, { ids: [fileId, collectionId] });
    expect(nodes).toMatchObject([
      { __typename: 'UploadedFile', id: fileId },
      { __typename: 'Collection', id: collectionId },
    ]);

    const stranger = await createTenant(app);
    expect((await stranger.client.gql(UploadedFileNode, { id: fileId })).node).toBeNull();
    expect((await stranger.client.gql(Nodes, { ids: [fileId, collectionId] })).nodes).toEqual([null, null]);
  });
});

// ---- unexpected errors

describe('unexpected errors', () => {
  /** A collection whose storing fails the way a lost database connection would, on `target`. */
  async function failingCreate(target: TestApp) {
    const tenant = await createTenant(target);
    const create = vi
      .spyOn(target.services.prisma, '$transaction')
      .mockRejectedValueOnce(new Error('connection to 10.0.0.5 lost'));
    const logged = vi.spyOn(target.services.logger, 'error');
    try {
      const answer = await tenant.client.execute(CreateCollection, {
        input: { communityId: tenant.communityId, name: unique('will fail') },
      });
      return {
        answer,
        tenant,
        loggedErrors: logged.mock.calls.map(([fields]) => (fields as { err?: unknown }).err).filter(Boolean),
      };
    } finally {
      create.mockRestore();
      logged.mockRestore();
    }
  }

  it('are masked in development mode, with no stack, message, path or id, and logged in full', async () => {
    const { answer, tenant, loggedErrors } = await failingCreate(development);
    expect(answer.errors).toEqual([
      expect.objectContaining({
        message: 'Unexpected error.',
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      }),
    ]);
    const shown = JSON.stringify(answer);
    for (const secret of ['10.0.0.5', 'stack', 'originalError', '/src/', tenant.communityRawId]) {
      expect(shown).not.toContain(secret);
    }
    // The server's log has it all: the driver's message and where it was thrown.
    expect(loggedErrors).toContainEqual(
      expect.objectContaining({
        message: 'connection to 10.0.0.5 lost',
        stack: expect.stringContaining('hostile-text.test.ts'),
      }),
    );
  });

  it('show their message and stack with DEBUG_ERRORS=1', async () => {
    const { answer } = await failingCreate(debug);
    expect(answer.errors?.[0]).toMatchObject({
      message: 'Unexpected error.',
      extensions: {
        originalError: { message: 'connection to 10.0.0.5 lost', stack: expect.stringContaining('Error') },
      },
    });
  });

  it('answer an invalid JSON body without echoing it', async () => {
    for (const target of [app, development]) {
      const tenant = await createTenant(target);
      const answer = await rawRequest(target, tenant.client, '{"query": "{ __typename }", "x": secret-body-text');
      expect(answer.body.errors).toEqual([
        {
          message: 'POST body sent invalid JSON.',
          extensions: {
            code: 'BAD_REQUEST',
            originalError: { name: 'SyntaxError', message: 'POST body sent invalid JSON.' },
          },
        },
      ]);
      expect(answer.text).not.toContain('secret-body-text');
    }
  });
});
