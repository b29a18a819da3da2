import * as XLSX from '@e965/xlsx';
import { describe, expect, it } from 'vitest';
import { ImportFile, PreviewFile, Threats } from './documents.ts';
import {
  createTenant,
  expectMember,
  importCsvFile,
  importFileAndWait,
  indicatorPage,
  newCollection,
  previewFile,
  startTestApp,
} from './kit.ts';

const app = await startTestApp({ UPLOAD_MAX_BYTES: String(2 * 1024 * 1024) });

const csv = (lines: string[]) => Buffer.from(lines.join('\r\n'));

describe('file import: preview', () => {
  it('previews a feed export: comments, quoted header, suggested mapping, first 10 rows', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    const lines = [
      '# Feodo Tracker style banner',
      '#',
      '"first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware"',
      ...Array.from(
        { length: 14 },
        (_, i) => `"2024-01-0${(i % 9) + 1} 17:51:44","192.0.2.${i + 1}","443","online","2024-04-01","Emotet"`,
      ),
      '# END 14 entries',
    ];
    const result = expectMember(
      await previewFile(tenant.client, collectionId, 'feed.csv', csv(lines)),
      'PreviewIndicatorFileSuccess',
    );
    expect(result.preview).toMatchObject({
      format: 'CSV',
      sheets: [],
      headerRowDetected: true,
      header: ['first_seen_utc', 'dst_ip', 'dst_port', 'c2_status', 'last_online', 'malware'],
      unknownThreats: [],
    });
    expect(result.preview.rows).toHaveLength(10);
    expect(result.preview.rows[0]).toEqual([
      '2024-01-01 17:51:44',
      '192.0.2.1',
      '443',
      'online',
      '2024-04-01',
      'Emotet',
    ]);
    expect(result.preview.columns.map((c) => c.suggestedProperty)).toEqual([
      'VALID_FROM',
      'OBSERVABLE',
      null,
      null,
      null,
      'THREATS',
    ]);
    expect(result.preview.file).toMatchObject({ fileName: 'feed.csv' });
  });

  it('reports threat names the catalogue does not know', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    const content = csv([
      'ioc,malware',
      '198.51.100.1,Emotet',
      '198.51.100.2,NotAThreatAtAll',
      '198.51.100.3,"TrickBot, Unheardof"',
    ]);
    const result = expectMember(
      await previewFile(tenant.client, collectionId, 'x.csv', content),
      'PreviewIndicatorFileSuccess',
    );
    expect(result.preview.unknownThreats).toEqual(['NotAThreatAtAll', 'Unheardof']);
  });

  it('lists the sheets of a workbook and previews another one by its handle', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    const book = XLSX.utils.book_new();
    XLSX.utils.book_append_sheet(book, XLSX.utils.aoa_to_sheet([['notes'], ['nothing to see']]), 'Read me');
    XLSX.utils.book_append_sheet(
      book,
      XLSX.utils.aoa_to_sheet([
        ['indicator', 'comment'],
        ['evil.example', 'phish'],
      ]),
      'IOCs',
    );
    const content = XLSX.write(book, { type: 'buffer', bookType: 'xlsx' }) as Buffer;
    const first = expectMember(
      await previewFile(tenant.client, collectionId, 'book.xlsx', content),
      'PreviewIndicatorFileSuccess',
    );
    expect(first.preview).toMatchObject({ format: 'XLSX', sheets: ['Read me', 'IOCs'], sheet: 'Read me' });
    const again = await tenant.client.gql(PreviewFile, {
      input: { collectionId, fileHandle: first.preview.fileHandle, sheet: 'IOCs' },
    });
    const second = expectMember(again.previewIndicatorFile, 'PreviewIndicatorFileSuccess');
    expect(second.preview).toMatchObject({ sheet: 'IOCs', headerRowDetected: true, rows: [['evil.example', 'phish']] });
    expect(second.preview.columns.map((c) => c.suggestedProperty)).toEqual(['OBSERVABLE', 'DESCRIPTION']);
  });

  it.each([
    ['an empty file', 'empty.csv', Buffer.alloc(0), 'EMPTY_FILE'],
    [
      'a PNG renamed to .csv',
      'image.csv',
      Buffer.from('89504e470d0a1a0a0000000d4948445200', 'hex'),
      'UNSUPPORTED_FORMAT',
    ],
    [
      'a PDF renamed to .xlsx',
      'doc.xlsx',
      Buffer.from('%PDF-1.7\n%\u00e2\u00e3\n1 0 obj\n<<>>\nendobj\n\u0000\u0001'),
      'UNSUPPORTED_FORMAT',
    ],
  ])('answers %s with a clear error and stores nothing', async (_, name, content, reason) => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    const before = await app.services.prisma.importSource.count({ where: { uploadedById: tenant.client.userId } });
    const result = expectMember(await previewFile(tenant.client, collectionId, name, content), 'UnreadableFileError');
    expect(result).toMatchObject({ code: 'UNREADABLE_FILE', reason });
    expect(await app.services.prisma.importSource.count({ where: { uploadedById: tenant.client.userId } })).toBe(
      before,
    );
  });

  it('refuses a file over the upload limit with 413', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    const big = Buffer.alloc(3 * 1024 * 1024, 'a');
    const { status } = await tenant.client.upload(
      PreviewFile,
      { input: { collectionId, file: null } },
      { name: 'big.csv', content: big },
    );
    expect(status).toBe(413);
  });
});

describe('file import: the job', () => {
  it('imports with the confirmed mapping: dates, several threats in a cell, defaults for the rest', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    const content = csv([
      'ioc;first_seen;malware;comment',
      'hxxp://evil[.]example/a;2024-01-31 12:00:00;Emotet|TrickBot;first',
      '198.51.100.7;01/31/2024;;second',
      'not an ioc;2024-01-31;Emotet;third',
      '198.51.100.8;yesterday;Emotet;fourth',
    ]);
    const result = expectMember(
      await previewFile(tenant.client, collectionId, 'x.csv', content),
      'PreviewIndicatorFileSuccess',
    );
    const threats = await tenant.client.gql(Threats, { search: 'Cobalt Strike' });
    const job = await importFileAndWait(tenant.client, {
      collectionId,
      fileHandle: result.preview.fileHandle,
      mapping: ['OBSERVABLE', 'VALID_FROM', 'THREATS', 'DESCRIPTION'],
      ignoreFirstLine: true,
      defaults: { threatIds: [threats.threats.edges[0].node.id], killChainPhases: [{ phaseName: 'c2' }] },
    });
    expect(job).toMatchObject({ status: 'SUCCEEDED', kind: 'FILE', total: 4, processed: 4, created: 2, invalid: 2 });
    expect(job.errors.edges.map((e) => [e.node.line, e.node.code])).toEqual([
      [4, 'UNRECOGNISED'],
      [5, 'INVALID_DATE'],
    ]);
    const indicators = (await indicatorPage(tenant.client, collectionId)).indicators.edges.map((e) => e.node);
    const url = indicators.find((i) => i.type === 'URL')!;
    expect(url).toMatchObject({
      value: 'http://evil.example/a',
      validFrom: '2024-01-31T12:00:00.000Z',
      description: 'first',
    });
    expect(url.threats.map((t) => t.name).sort()).toEqual(['Emotet', 'TrickBot']);
    const ip = indicators.find((i) => i.type === 'IPV4')!;
    expect(ip.threats.map((t) => t.name)).toEqual(['Cobalt Strike']);
    expect(ip.killChainPhases).toEqual([
      { killChainName: 'lockheed-martin-cyber-kill-chain', phaseName: 'command-and-control' },
    ]);
  });

  it('rejects a mapping without exactly one observable column, and imports nothing', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    const result = expectMember(
      await previewFile(tenant.client, collectionId, 'x.csv', csv(['a,b', '198.51.100.1,x'])),
      'PreviewIndicatorFileSuccess',
    );
    const answer = await tenant.client.gql(ImportFile, {
      input: {
        collectionId,
        fileHandle: result.preview.fileHandle,
        mapping: [null, 'DESCRIPTION'],
        ignoreFirstLine: true,
      },
    });
    expect(expectMember(answer.importIndicatorsFromFile, 'ValidationError').field).toBe('input.mapping');
  });

  it("answers another tenant's file handle like a missing one", async () => {
    const owner = await createTenant(app);
    const other = await createTenant(app);
    const ownerCollection = await newCollection(owner);
    const otherCollection = await newCollection(other);
    const result = expectMember(
      await previewFile(owner.client, ownerCollection, 'x.csv', csv(['198.51.100.1'])),
      'PreviewIndicatorFileSuccess',
    );
    const answer = await other.client.gql(ImportFile, {
      input: {
        collectionId: otherCollection,
        fileHandle: result.preview.fileHandle,
        mapping: ['OBSERVABLE'],
        ignoreFirstLine: false,
      },
    });
    expect(expectMember(answer.importIndicatorsFromFile, 'NotFoundError').code).toBe('NOT_FOUND');
  });

  it('imports an .xls (BIFF8) workbook with date cells', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    const sheet = XLSX.utils.aoa_to_sheet(
      [
        ['Indicator', 'Listed'],
        ['evil-xls.example', new Date(Date.UTC(2023, 11, 22, 6, 58))],
        ['198.51.100.9', new Date(Date.UTC(2024, 0, 2))],
      ],
      // Excel dates have no zone: `UTC` writes these instants' UTC wall times, as a feed
      // exported in UTC would, whatever the zone the tests run in.
      { UTC: true },
    );
    const book = XLSX.utils.book_new();
    XLSX.utils.book_append_sheet(book, sheet, 'Sheet1');
    const content = XLSX.write(book, { type: 'buffer', bookType: 'biff8' }) as Buffer;
    const result = expectMember(
      await previewFile(tenant.client, collectionId, 'old.xls', content),
      'PreviewIndicatorFileSuccess',
    );
    expect(result.preview.format).toBe('XLS');
    expect(result.preview.columns.map((c) => c.suggestedProperty)).toEqual(['OBSERVABLE', 'VALID_FROM']);
    const job = await importFileAndWait(tenant.client, {
      collectionId,
      fileHandle: result.preview.fileHandle,
      mapping: ['OBSERVABLE', 'VALID_FROM'],
      ignoreFirstLine: true,
    });
    expect(job).toMatchObject({ status: 'SUCCEEDED', created: 2, invalid: 0 });
    const [indicator] = (await indicatorPage(tenant.client, collectionId, { search: 'evil-xls' })).indicators.edges.map(
      (e) => e.node,
    );
    expect(indicator.validFrom).toBe('2023-12-22T06:58:00.000Z');
  });

  it('gives the rejected rows back as a CSV to fix and re-import, with formulas neutralised', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    const content = csv(['ioc,comment', '198.51.100.1,fine', '=cmd|calc,"bad, quoted"', 'junk value,+1']);
    const job = await importCsvFile(tenant.client, collectionId, 'x.csv', content, ['OBSERVABLE', 'DESCRIPTION']);
    expect(job).toMatchObject({ created: 1, invalid: 2 });
    const response = await app.yoga.fetch(`http://yoga/api/imports/${encodeURIComponent(job.id)}/errors.csv`, {
      headers: { authorization: `Bearer ${tenant.client.key}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/csv');
    const lines = (await response.text())
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(lines[0]).toBe('"ioc","comment","error_line","error_code","error_message"');
    expect(lines[1]).toMatch(/^"'=cmd\|calc","bad, quoted","3","UNRECOGNISED",/);
    expect(lines[2]).toMatch(/^"junk value","'\+1","4","UNRECOGNISED",/);
    const stranger = await createTenant(app);
    const denied = await app.yoga.fetch(`http://yoga/api/imports/${encodeURIComponent(job.id)}/errors.csv`, {
      headers: { authorization: `Bearer ${stranger.client.key}` },
    });
    expect(denied.status).toBe(404);
    expect((await app.yoga.fetch(`http://yoga/api/imports/${encodeURIComponent(job.id)}/errors.csv`)).status).toBe(401);
  });
});
