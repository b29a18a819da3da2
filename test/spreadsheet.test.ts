// readSpreadsheet on workbooks built here with SheetJS (.xlsx and .xls), hostile files crafted
// byte by byte, and the real workbooks in ../shared when they are there. No database.
import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as XLSX from '@e965/xlsx';
import { beforeAll, describe, expect, it } from 'vitest';
import { readSpreadsheet } from '../src/modules/imports/tabular/spreadsheet.ts';
import { UnreadableFileError, type Table, type TableRow } from '../src/modules/imports/tabular/table.ts';
import { partsOf, sheetOf, WORKBOOK_PARTS, workbookOf, zipOf, type BookType } from './workbooks.ts';

async function rowsOf(table: Table): Promise<TableRow[]> {
  const rows: TableRow[] = [];
  for await (const row of table.rows) rows.push(row);
  return rows;
}

async function expectUnreadable(reading: Promise<unknown>, code: UnreadableFileError['code']) {
  const error = await reading.then(
    () => null,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(UnreadableFileError);
  expect(error).toMatchObject({ code });
  return error as UnreadableFileError;
}

describe.each<BookType>(['xlsx', 'biff8'])('a %s workbook', (bookType) => {
  it('gives every non-empty row as text, with the row numbers Excel shows', async () => {
    const sheet = sheetOf([
      ['indicator', 'port', 'active', 'first seen', 'score'],
      ['  evil.example  ', 443, true, new Date(Date.UTC(2023, 11, 22, 6, 58, 10)), 0.1 + 0.2],
      [],
      ['10.0.0.1', 1234567.125, false, '2024-01-31 12:00:00', 1e15],
      ['# a comment row in the middle', 'skipped'],
      ['merged', null, null, 45282.29039351852, null],
    ]);
    sheet['E6'] = { t: 'n', v: 3, f: 'B2-440' }; // a formula: its cached value is read
    sheet['D6'].z = 'yyyy-mm-dd hh:mm:ss'; // a serial number styled as a date
    sheet['!merges'] = [XLSX.utils.decode_range('A6:C6')];
    const table = await readSpreadsheet(workbookOf([['IOCs', sheet]], bookType), {});

    expect(table).toMatchObject({ sheets: ['IOCs'], sheet: 'IOCs', commentedHeader: null });
    expect(await rowsOf(table)).toEqual([
      { line: 1, cells: ['indicator', 'port', 'active', 'first seen', 'score'] },
      { line: 2, cells: ['evil.example', '443', 'TRUE', '2023-12-22T06:58:10.000Z', '0.3'] },
      { line: 4, cells: ['10.0.0.1', '1234567.125', 'FALSE', '2024-01-31 12:00:00', '1000000000000000'] },
      { line: 6, cells: ['merged', '', '', '2023-12-22T06:58:10.000Z', '3'] },
    ]);
  });

  it('keeps cells in the columns Excel shows them in', async () => {
    const sheet = XLSX.utils.sheet_add_aoa(
      sheetOf([]),
      [
        ['ip', 'port'],
        ['10.0.0.1', 443],
      ],
      { origin: 'C3' },
    );
    const table = await readSpreadsheet(workbookOf([['S', sheet]], bookType), {});
    expect(await rowsOf(table)).toEqual([
      { line: 3, cells: ['', '', 'ip', 'port'] },
      { line: 4, cells: ['', '', '10.0.0.1', '443'] },
    ]);
  });

  it('lists every sheet, reads the one asked for, and by default the first visible one with data', async () => {
    const content = workbookOf(
      [
        ['Empty', sheetOf([])],
        ['Lookup', sheetOf([['hidden data']])],
        ['Domains', sheetOf([['domain'], ['evil.example']])],
        ['IPs', sheetOf([['ip'], ['10.0.0.1'], ['10.0.0.2']])],
      ],
      bookType,
      ['Lookup'],
    );

    const first = await readSpreadsheet(content, {});
    expect(first.sheets).toEqual(['Empty', 'Lookup', 'Domains', 'IPs']);
    expect(first.sheet).toBe('Domains');
    expect((await rowsOf(first)).map((row) => row.cells)).toEqual([['domain'], ['evil.example']]);

    const ips = await readSpreadsheet(content, { sheet: 'IPs' });
    expect(ips.sheet).toBe('IPs');
    expect(await rowsOf(ips)).toHaveLength(3);

    const hidden = await readSpreadsheet(content, { sheet: 'Lookup' });
    expect((await rowsOf(hidden)).map((row) => row.cells)).toEqual([['hidden data']]);
  });

  it('refuses a sheet that does not exist, naming the ones that do', async () => {
    const content = workbookOf(
      [
        ['IOCs', sheetOf([['ip']])],
        ['Notes', sheetOf([['x']])],
      ],
      bookType,
    );
    const error = await expectUnreadable(readSpreadsheet(content, { sheet: 'Sheet9' }), 'UNKNOWN_SHEET');
    expect(error.message).toContain('"IOCs", "Notes"');
  });

  it('skips comment rows and finds a header written as a comment right above the data', async () => {
    const content = workbookOf(
      [
        [
          'Feed',
          sheetOf([
            ['# abuse.ch Feodo Tracker Botnet C2 IP Blocklist (CSV)'],
            ['# Last updated: 2024-04-04 12:00:00 UTC'],
            ['# first_seen_utc', 'dst_ip', 'malware'],
            ['2024-04-01 10:00:00', '10.0.0.1', 'Pikabot'],
            ['# END 1 entries'],
          ]),
        ],
        ['Banner', sheetOf([['# Last updated: 2024-01-31 12:00 UTC'], ['10.0.0.1']])],
        ['Gap', sheetOf([['# ip'], [], ['10.0.0.1']])],
      ],
      bookType,
    );

    const feed = await readSpreadsheet(content, {});
    expect(feed.commentedHeader).toEqual({ line: 3, cells: ['first_seen_utc', 'dst_ip', 'malware'] });
    expect(await rowsOf(feed)).toEqual([{ line: 4, cells: ['2024-04-01 10:00:00', '10.0.0.1', 'Pikabot'] }]);

    for (const sheet of ['Banner', 'Gap']) {
      expect((await readSpreadsheet(content, { sheet })).commentedHeader).toBeNull();
    }
  });

  it('stops a preview after maxRows data rows', async () => {
    const rows = [['# ip'], ...Array.from({ length: 500 }, (_, index) => [`10.0.${index >> 8}.${index & 255}`])];
    const table = await readSpreadsheet(workbookOf([['IPs', sheetOf(rows)]], bookType), { maxRows: 10 });
    const preview = await rowsOf(table);
    expect(table.commentedHeader).toEqual({ line: 1, cells: ['ip'] });
    expect(preview).toHaveLength(10);
    expect(preview.at(-1)).toEqual({ line: 11, cells: ['10.0.0.9'] });
  });

  it('keeps sheet names and header cells like __proto__ as plain data', async () => {
    const objectPrototypeKeys = Reflect.ownKeys(Object.prototype);
    const content = workbookOf(
      [
        [
          '__proto__',
          sheetOf([
            ['__proto__', 'constructor', 'prototype', 'polluted'],
            ['{"polluted":"yes"}', 'polluted', 'yes', 'yes'],
          ]),
        ],
        ['constructor', sheetOf([['prototype'], ['polluted']])],
        ['toString', sheetOf([['hasOwnProperty']])],
      ],
      bookType,
    );

    const first = await readSpreadsheet(content, {});
    expect(first.sheets).toEqual(['__proto__', 'constructor', 'toString']);
    expect(first.sheet).toBe('__proto__');
    expect(await rowsOf(first)).toEqual([
      { line: 1, cells: ['__proto__', 'constructor', 'prototype', 'polluted'] },
      { line: 2, cells: ['{"polluted":"yes"}', 'polluted', 'yes', 'yes'] },
    ]);
    const named = await readSpreadsheet(content, { sheet: 'constructor' });
    expect((await rowsOf(named)).map((row) => row.cells)).toEqual([['prototype'], ['polluted']]);
    const inherited = await readSpreadsheet(content, { sheet: 'toString' });
    expect((await rowsOf(inherited)).map((row) => row.cells)).toEqual([['hasOwnProperty']]);

    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Reflect.ownKeys(Object.prototype)).toEqual(objectPrototypeKeys);
  });
});

it('reads a workbook whose ZIP directory keeps the sizes in ZIP64 fields', async () => {
  const parts = partsOf(workbookOf([['S', sheetOf([['ip'], ['10.0.0.1']])]], 'xlsx'));
  const table = await readSpreadsheet(zipOf(parts, { zip64: true }), {});
  expect((await rowsOf(table)).map((row) => row.cells)).toEqual([['ip'], ['10.0.0.1']]);
});

describe('dates', () => {
  it('reads serials of the 1904 date system', async () => {
    const sheet = sheetOf([['seen'], [45282.29039351852 - 1462]]);
    sheet['A2'].z = 'yyyy-mm-dd hh:mm';
    const workbook = XLSX.utils.book_new();
    XLSX.utils.book_append_sheet(workbook, sheet, 'S');
    workbook.Workbook = { WBProps: { date1904: true } };
    const table = await readSpreadsheet(XLSX.write(workbook, { type: 'buffer', bookType: 'xlsx' }), {});
    expect((await rowsOf(table))[1]!.cells).toEqual(['2023-12-22T06:58:10.000Z']);
  });

  it('leaves numbers in date-styled cells that are no Excel date as numbers', async () => {
    const sheet = sheetOf([['value'], [-5], [1e12]]);
    sheet['A2'].z = 'yyyy-mm-dd';
    sheet['A3'].z = 'yyyy-mm-dd';
    const table = await readSpreadsheet(workbookOf([['S', sheet]], 'xlsx'), {});
    expect((await rowsOf(table)).map((row) => row.cells[0])).toEqual(['value', '-5', '1000000000000']);
  });
});

describe('files that are refused', () => {
  it('refuses an empty file', async () => {
    await expectUnreadable(readSpreadsheet(Buffer.alloc(0), {}), 'EMPTY_FILE');
  });

  it.each([
    ['a PNG image', Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), randomBytes(64)])],
    ['a PDF document', Buffer.from('%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n')],
    ['a CSV file', Buffer.from('ip,port\n10.0.0.1,443\n')],
    ['a ZIP archive without a workbook', zipOf([{ name: 'hello.txt', data: Buffer.from('hello') }])],
    ['a binary .xlsb workbook', zipOf([WORKBOOK_PARTS[0]!, { name: 'xl/workbook.bin', data: Buffer.alloc(16) }])],
  ])('refuses %s renamed to .xlsx', async (_, content) => {
    await expectUnreadable(readSpreadsheet(content, {}), 'UNSUPPORTED_FORMAT');
  });

  it('refuses an Office file that holds no workbook', async () => {
    const container = XLSX.CFB.utils.cfb_new();
    XLSX.CFB.utils.cfb_add(container, 'WordDocument', randomBytes(4096));
    const content: Buffer = XLSX.CFB.write(container, { type: 'buffer' });
    await expectUnreadable(readSpreadsheet(content, {}), 'UNSUPPORTED_FORMAT');
  });

  it('refuses a ZIP whose directory declares more than 1 GiB unpacked', async () => {
    const bomb = zipOf([
      ...WORKBOOK_PARTS,
      { name: 'xl/worksheets/sheet1.xml', data: Buffer.alloc(1024), declaredSize: 0xfffffff0 },
    ]);
    const error = await expectUnreadable(readSpreadsheet(bomb, {}), 'WORKBOOK_TOO_LARGE');
    expect(error.message).toContain('4.0 GiB');
  });

  it('refuses a ZIP that declares too many entries', async () => {
    await expectUnreadable(
      readSpreadsheet(zipOf(WORKBOOK_PARTS, { declaredEntryCount: 20_000 }), {}),
      'WORKBOOK_TOO_LARGE',
    );
  });

  it('applies the limits it is given', async () => {
    const content = workbookOf([['S', sheetOf([['ip'], ['10.0.0.1']])]], 'xlsx');
    await expectUnreadable(readSpreadsheet(content, { limits: { maxUncompressedBytes: 1000 } }), 'WORKBOOK_TOO_LARGE');
    await expectUnreadable(readSpreadsheet(content, { limits: { maxZipEntries: 3 } }), 'WORKBOOK_TOO_LARGE');
  });

  it('stops unpacking a part that inflates past the size its directory declares', async () => {
    const parts = partsOf(workbookOf([['S', sheetOf([['ip'], ['10.0.0.1']])]], 'xlsx'));
    const liar = zipOf(
      parts.map((part) =>
        part.name === 'xl/worksheets/sheet1.xml' ? { ...part, declaredSize: part.data.length - 10 } : part,
      ),
    );
    const error = await expectUnreadable(readSpreadsheet(liar, {}), 'MALFORMED_FILE');
    expect(error.message).toContain('xl/worksheets/sheet1.xml');
  });

  it('refuses a truncated workbook as damaged', async () => {
    const content = workbookOf([['S', sheetOf([['ip'], ['10.0.0.1']])]], 'xlsx');
    await expectUnreadable(readSpreadsheet(content.subarray(0, content.length - 30), {}), 'MALFORMED_FILE');
  });

  it('refuses a password-protected .xlsx (an OLE2 file holding the encrypted package)', async () => {
    const container = XLSX.CFB.utils.cfb_new();
    XLSX.CFB.utils.cfb_add(container, 'EncryptionInfo', Buffer.from([4, 0, 4, 0, 0x40, 0, 0, 0]));
    XLSX.CFB.utils.cfb_add(container, 'EncryptedPackage', randomBytes(8192));
    const content: Buffer = XLSX.CFB.write(container, { type: 'buffer' });
    const error = await expectUnreadable(readSpreadsheet(content, {}), 'ENCRYPTED_WORKBOOK');
    expect(error.message).toBe('the workbook is password-protected; save it without a password and upload it again');
  });

  it('refuses a password-protected .xls (a FILEPASS record)', async () => {
    const container = XLSX.CFB.read(workbookOf([['S', sheetOf([['ip']])]], 'biff8'), { type: 'buffer' });
    const stream = XLSX.CFB.find(container, '/Workbook');
    const records = Buffer.from(stream.content);
    const afterBof = 4 + records.readUInt16LE(2);
    // FILEPASS (0x2F) with XOR obfuscation: type 0, key, verifier.
    const filePass = Buffer.from([0x2f, 0x00, 0x06, 0x00, 0x00, 0x00, 0x34, 0x12, 0x78, 0x56]);
    stream.content = Buffer.concat([records.subarray(0, afterBof), filePass, records.subarray(afterBof)]);
    stream.size = stream.content.length;
    const content: Buffer = XLSX.CFB.write(container, { type: 'buffer' });
    await expectUnreadable(readSpreadsheet(content, {}), 'ENCRYPTED_WORKBOOK');
  });
});

describe('the parsing worker', () => {
  const content = workbookOf([['S', sheetOf([['ip'], ['10.0.0.1']])]], 'xlsx');

  it('is stopped when parsing takes longer than allowed', async () => {
    await expectUnreadable(readSpreadsheet(content, { limits: { parseTimeoutMs: 1 } }), 'PARSE_TIMEOUT');
  });

  it('is stopped when the rows are not read for too long', async () => {
    const table = await readSpreadsheet(content, { limits: { idleTimeoutMs: 20 } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await expect(rowsOf(table)).rejects.toThrow('were not read');
  });

  it('is stopped when the reader stops early', async () => {
    const rows = Array.from({ length: 12_000 }, (_, index) => [`host${index}.example`]);
    const table = await readSpreadsheet(workbookOf([['Hosts', sheetOf(rows)]], 'xlsx'), {});
    const iterator = table.rows[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toEqual({ line: 1, cells: ['host0.example'] });
    await iterator.return?.();
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });
});

describe('a large workbook', () => {
  const ROWS = 200_000;
  let content: Buffer;

  beforeAll(() => {
    const rows = Array.from({ length: ROWS }, (_, index) => [
      `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`,
      'ipv4',
      `Threat ${index % 97}`,
      new Date(Date.UTC(2024, 0, 1) + index * 60_000),
      443 + (index % 10),
    ]);
    const header = ['ip', 'type', 'threat', 'first_seen', 'port'];
    const workbook = XLSX.utils.book_new();
    const sheet = XLSX.utils.aoa_to_sheet([header, ...rows], { dense: true, UTC: true });
    XLSX.utils.book_append_sheet(workbook, sheet, 'IOCs');
    content = XLSX.write(workbook, { type: 'buffer', bookType: 'xlsx', compression: true });
  });

  it(`reads all ${ROWS} rows in chunks, in order`, { timeout: 120_000 }, async () => {
    const started = performance.now();
    const table = await readSpreadsheet(content, {});
    const opened = performance.now();
    let count = 0;
    let last: TableRow | undefined;
    for await (const row of table.rows) {
      if (last && row.line !== last.line + 1) throw new Error(`row ${row.line} after ${last.line}`);
      last = row;
      count += 1;
    }
    const finished = performance.now();
    console.info(
      `${ROWS} rows x 5 columns (${(content.length / 2 ** 20).toFixed(1)} MiB .xlsx): opened in ${Math.round(opened - started)} ms, all rows in ${Math.round(finished - started)} ms`,
    );
    expect(count).toBe(ROWS + 1);
    expect(last).toEqual({
      line: ROWS + 1,
      cells: ['10.3.13.63', 'ipv4', `Threat ${(ROWS - 1) % 97}`, '2024-05-18T21:19:00.000Z', '452'],
    });
  });

  it('previews the first rows', { timeout: 60_000 }, async () => {
    const started = performance.now();
    const preview = await rowsOf(await readSpreadsheet(content, { maxRows: 50 }));
    console.info(`preview of 50 of ${ROWS} rows: ${Math.round(performance.now() - started)} ms`);
    expect(preview).toHaveLength(50);
  });

  it('stops the worker when parsing needs more memory than allowed', async () => {
    // 16 MiB is enough for the worker itself and small workbooks, not for this one.
    await expectUnreadable(readSpreadsheet(content, { limits: { workerHeapMb: 16 } }), 'WORKBOOK_TOO_LARGE');
  });
});

const REAL_FIXTURES = new URL('../../shared/fixtures/real/', import.meta.url);

describe.skipIf(!existsSync(REAL_FIXTURES))('real workbooks', () => {
  const fixture = (name: string) => readFileSync(new URL(`xlsx/${name}`, REAL_FIXTURES));

  it('reads the SSLBL blacklist with its Excel date serials as ISO dates', async () => {
    const table = await readSpreadsheet(fixture('sslbl_sslblacklist.xlsx'), {});
    const [header, ...data] = await rowsOf(table);
    expect(table).toMatchObject({ sheets: ['Sheet1'], sheet: 'Sheet1', commentedHeader: null });
    expect(header).toEqual({ line: 1, cells: ['SHA1', 'ListingReason', 'ListingDate'] });
    expect(data).toHaveLength(5565);
    // 45282.29040509259 in a `m/d/yy h:mm` cell
    expect(data[0]).toEqual({
      line: 2,
      cells: ['19e664f09401bf648b6ea57719e34ad795f3b6cb', 'AsyncRAT C&C', '2023-12-22T06:58:11.000Z'],
    });
    expect(data.every((row) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(row.cells[2]!))).toBe(true);
  });

  it('reads the Deep Instinct IOC sheet', async () => {
    const table = await readSpreadsheet(fixture('deepinstinct_Storm0978_RomCom_IOCs.xlsx'), {});
    const [header, ...data] = await rowsOf(table);
    expect(header!.cells).toEqual(['Type', 'Value']);
    expect(data).toHaveLength(7);
    expect(data.at(-1)).toEqual({ line: 8, cells: ['ip', '94.232.40.34'] });
  });
});
