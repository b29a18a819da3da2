// The quirks of the real IOC files of ../shared/fixtures/real (see its SOURCES.md), each
// in a small synthetic file written here, so that a clone without ../shared still tests
// them. Every file goes through the path a person takes: upload and preview, then import
// with the SUGGESTED mapping (and `ignoreFirstLine: headerRowDetected`), then the counts,
// the rejected lines and a look at what was stored. The real files stay an extra pass in
// file-import-fixtures.test.ts; nothing of them is copied here (documentation addresses,
// `.example` names and hashes of made-up texts only). STIX bundles are not covered: the
// product does not read STIX yet.
import * as XLSX from '@e965/xlsx';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { IndicatorProperty } from './generated/graphql.ts';
import {
  createTenant,
  expectMember,
  importFileAndWait,
  importText,
  indicatorByValue,
  newCollection,
  previewFile,
  rejectedRowsCsv,
  startTestApp,
  type IndicatorNode,
} from './kit.ts';
import { sheetOf, workbookOf } from './workbooks.ts';

const app = await startTestApp();

const O = 'OBSERVABLE';
const md5 = (seed: string) => createHash('md5').update(seed).digest('hex');
const sha1 = (seed: string) => createHash('sha1').update(seed).digest('hex');
const sha256 = (seed: string) => createHash('sha256').update(seed).digest('hex');

/** A text file of `lines`, with the line ending, final newline and BOM given. */
function textFile(lines: string[], { eol = '\n', finalNewline = true, bom = false } = {}): Buffer {
  const text = lines.join(eol) + (finalNewline ? eol : '');
  return Buffer.from(bom ? `\uFEFF${text}` : text);
}

/** `count` banner comment lines as abuse.ch-style feeds start them: a title, notes, and a blank `#` last. */
const banner = (count: number) => [
  '#'.repeat(40),
  '# Made-up Tracker: C2 blocklist (CSV)',
  '# Last updated: 2024-04-04 07:00:00 UTC',
  ...Array.from({ length: count - 4 }, (_, i) => `# Terms of use: note ${i + 1}`),
  '#',
];

const FEODO_HEADER = ['first_seen_utc', 'dst_ip', 'dst_port', 'c2_status', 'last_online', 'malware'];
const FEODO_MAPPING: (IndicatorProperty | null)[] = ['VALID_FROM', O, null, null, null, 'THREATS'];
const quoted = (cells: string[]) => cells.map((cell) => `"${cell}"`).join(',');

interface CheckContext {
  /** The one indicator of the collection with this value. */
  indicator(value: string): Promise<IndicatorNode>;
}

interface Quirk {
  /** The real file whose quirks this file has, and what they are. */
  title: string;
  name: string;
  content: Buffer;
  /** For a workbook: its one sheet. */
  sheet?: string;
  headerRowDetected: boolean;
  header: string[] | null;
  mapping: (IndicatorProperty | null)[];
  unknownThreats?: string[];
  /** The observable column of the first preview row. */
  firstObservable: string;
  counts: { total: number; created: number; updated?: number; unchanged?: number; invalid?: number };
  /** The rejected lines (1-based, comments and blank lines counted) and their codes. */
  rejects?: [number, string][];
  /** The rejected rows CSV, its messages left out: the file's header, then the rejected cells, line and code. */
  rejectedCsv?: string[][];
  check?: (context: CheckContext) => Promise<void>;
}

const QUIRKS: Quirk[] = [
  {
    title: 'c2_ips_30day_commented_header.csv: header written as the comment `#ip,ioc`, a private test IP first',
    name: 'c2_ips.csv',
    content: textFile([
      '#ip,ioc',
      '10.20.30.40,TEST DATA',
      '192.0.2.10,Suspected Cobalt Strike C2 IP',
      '192.0.2.11,Suspected Cobalt Strike C2 IP',
      '198.51.100.12,Suspected Metasploit C2 IP',
      '192.0.2.10,Suspected Metasploit C2 IP',
    ]),
    headerRowDetected: false,
    header: ['ip', 'ioc'],
    mapping: [O, 'DESCRIPTION'],
    firstObservable: '10.20.30.40',
    // A listed-again IP with another description is updated: the later description wins.
    counts: { total: 5, created: 4, updated: 1 },
    check: async ({ indicator }) => {
      expect(await indicator('10.20.30.40')).toMatchObject({ type: 'IPV4', description: 'TEST DATA' });
      expect((await indicator('192.0.2.10')).description).toBe('Suspected Metasploit C2 IP');
    },
  },
  {
    title:
      'feodotracker_ipblocklist.csv: 9 `#` banner lines, a quoted header, every field quoted, `# END` trailer, no final newline',
    name: 'ipblocklist.csv',
    content: textFile(
      [
        ...banner(9),
        quoted(FEODO_HEADER),
        quoted(['2023-05-23 17:51:44', '192.0.2.21', '2222', 'online', '2024-04-01', 'Pikabot']),
        quoted(['2023-06-02 08:10:00', '192.0.2.22', '2078', 'online', '2024-04-01', 'Pikabot']),
        quoted(['2023-07-14 21:00:09', '192.0.2.23', '13721', 'offline', '2024-03-30', 'Pikabot']),
        '# END 3 entries',
      ],
      { finalNewline: false },
    ),
    headerRowDetected: true,
    header: FEODO_HEADER,
    mapping: FEODO_MAPPING,
    unknownThreats: [],
    firstObservable: '192.0.2.21',
    counts: { total: 3, created: 3 },
    check: async ({ indicator }) => {
      const first = await indicator('192.0.2.21');
      expect(first.validFrom).toBe('2023-05-23T17:51:44.000Z');
      expect(first.threats.map((t) => t.name)).toEqual(['Pikabot']);
    },
  },
  {
    title:
      'feodotracker_ipblocklist_aggressive_2021_noheader.csv: quoted header first, CRLF, no final newline, repeated IPs, odd ports',
    name: 'ipblocklist_aggressive.csv',
    content: textFile(
      [
        quoted(FEODO_HEADER),
        quoted(['2021-01-17 07:30:05', '198.51.100.31', '449', 'offline', '2021-01-17', 'TrickBot']),
        quoted(['2021-01-17 07:44:46', '198.51.100.32', '3889', 'offline', '2021-01-17', 'Dridex']),
        quoted(['2021-01-18 10:00:00', '198.51.100.33', '14043', 'online', '2021-01-18', 'Emotet']),
        quoted(['2021-01-19 08:00:00', '198.51.100.31', '449', 'offline', '2021-01-19', 'Emotet']),
        quoted(['2021-01-20 09:15:00', '198.51.100.32', '3889', 'offline', '2021-01-20', 'Dridex']),
      ],
      { eol: '\r\n', finalNewline: false },
    ),
    headerRowDetected: true,
    header: FEODO_HEADER,
    mapping: FEODO_MAPPING,
    unknownThreats: [],
    firstObservable: '198.51.100.31',
    // Each repeat brings another first_seen (and once another family): updated.
    counts: { total: 5, created: 3, updated: 2 },
    check: async ({ indicator }) => {
      const repeated = await indicator('198.51.100.31');
      expect(repeated.validFrom).toBe('2021-01-19T08:00:00.000Z');
      expect(repeated.threats.map((t) => t.name).sort()).toEqual(['Emotet', 'TrickBot']);
      expect((await indicator('198.51.100.32')).validFrom).toBe('2021-01-20T09:15:00.000Z');
    },
  },
  {
    title:
      'malwarebazaar_recent_md5.txt: banner whose last line `# md5_hash` is the header, one MD5 a line, trailer comment',
    name: 'recent_md5.txt',
    content: textFile([
      ...banner(8),
      '# md5_hash',
      md5('quirks sample 1'),
      md5('quirks sample 2'),
      md5('quirks sample 3').slice(0, 31), // line 12: a truncated hash
      md5('quirks sample 4'),
      '# Number of entries: 4',
    ]),
    headerRowDetected: false,
    header: ['md5_hash'],
    mapping: [O],
    firstObservable: md5('quirks sample 1'),
    counts: { total: 4, created: 3, invalid: 1 },
    rejects: [[12, 'INVALID_HASH']],
    check: async ({ indicator }) => {
      expect((await indicator(md5('quirks sample 4'))).hashes).toEqual([
        { algorithm: 'MD5', value: md5('quirks sample 4') },
      ]);
    },
  },
  {
    title:
      'sslbl_sslipblacklist_2015.csv: commented header `# DstIP,DstPort` names 2 columns, rows have 3, `&` in values, no final newline',
    name: 'sslipblacklist.csv',
    content: textFile(
      [
        ...banner(8),
        '# DstIP,DstPort',
        '203.0.113.10,443,Dridex C&C',
        '203.0.113.11,8443,TrickBot C&C',
        '203.0.113.12,443,ZeuS C&C',
        '# Number of entries: 3',
      ],
      { finalNewline: false },
    ),
    headerRowDetected: false,
    header: ['DstIP', 'DstPort'],
    mapping: [O, null, 'DESCRIPTION'],
    firstObservable: '203.0.113.10',
    counts: { total: 3, created: 3 },
    check: async ({ indicator }) => {
      expect((await indicator('203.0.113.11')).description).toBe('TrickBot C&C');
    },
  },
  {
    title:
      'threatfox_domains_processed.csv: misleading header `Address,url`, constant ` IOC FOUND` with a leading space, duplicates',
    name: 'threatfox.csv',
    content: textFile([
      'Address,url',
      'alpha-c2.example, IOC FOUND',
      'bravo-c2.example, IOC FOUND',
      'alpha-c2.example, IOC FOUND',
      'charlie-c2.example, IOC FOUND',
      'bravo-c2.example, IOC FOUND',
      // The upstream file's trailer: a comment with a CSV column appended.
      '# Number of entries: 5, IOC FOUND',
    ]),
    headerRowDetected: true,
    header: ['Address', 'url'],
    mapping: [O, null],
    firstObservable: 'alpha-c2.example',
    counts: { total: 5, created: 3, unchanged: 2 },
    check: async ({ indicator }) => {
      expect(await indicator('charlie-c2.example')).toMatchObject({ type: 'DOMAIN', description: null });
    },
  },
  {
    title: 'threatview_cobaltstrike_ips_with_dupes.txt: one IPv4 a line, each listed three times in a row',
    name: 'cobaltstrike_ips.txt',
    content: textFile(['192.0.2.41', '192.0.2.42', '198.51.100.43'].flatMap((ip) => [ip, ip, ip])),
    headerRowDetected: false,
    header: null,
    mapping: [O],
    firstObservable: '192.0.2.41',
    counts: { total: 9, created: 3, unchanged: 6 },
  },
  {
    title: 'ahamed_IOC-3rd_March_quoted.csv: every field quoted, a type column (`hash_md5`…), upper-case hashes',
    name: 'IOC list.csv',
    content: textFile([
      quoted(['type', 'value', 'source']),
      quoted(['url', 'http://payload.example/drop/a.exe', 'analyst']),
      quoted(['hash_md5', md5('ahamed 1').toUpperCase(), 'analyst']),
      quoted(['hash_sha1', sha1('ahamed 2').toUpperCase(), 'sandbox']),
      quoted(['hash_sha256', sha256('ahamed 3').toUpperCase(), 'sandbox']),
      quoted(['domain', 'payload.example', 'analyst']),
    ]),
    headerRowDetected: true,
    header: ['type', 'value', 'source'],
    mapping: [null, O, null],
    firstObservable: 'http://payload.example/drop/a.exe',
    counts: { total: 5, created: 5 },
    check: async ({ indicator }) => {
      expect((await indicator(sha256('ahamed 3'))).hashes).toEqual([
        { algorithm: 'SHA256', value: sha256('ahamed 3') },
      ]);
    },
  },
  {
    title:
      'citizenlab_201512_PackRAT_md5-c2.csv: an empty column name, `CyberGate`/`Cybergate`, one MD5 with several C2s, an unknown family',
    name: 'md5-c2.csv',
    content: textFile([
      'MD5,,C2,Malware Family',
      `${md5('packrat 1')},,rat-one.no-ip.org,CyberGate`,
      `${md5('packrat 1')},,rat-two.servehttp.com,Cybergate`,
      `${md5('packrat 2')},,rat-three.no-ip.org,CyberGate`,
      `${md5('packrat 3')},,rat-four.no-ip.org,MadeUpRAT`,
    ]),
    headerRowDetected: true,
    header: ['MD5', '', 'C2', 'Malware Family'],
    mapping: [O, null, null, 'THREATS'],
    unknownThreats: ['MadeUpRAT'],
    firstObservable: md5('packrat 1'),
    counts: { total: 4, created: 2, unchanged: 1, invalid: 1 },
    rejects: [[5, 'UNKNOWN_THREAT']],
    rejectedCsv: [
      ['MD5', '', 'C2', 'Malware Family', 'error_line', 'error_code'],
      [md5('packrat 3'), '', 'rat-four.no-ip.org', 'MadeUpRAT', '5', 'UNKNOWN_THREAT'],
    ],
    check: async ({ indicator }) => {
      expect((await indicator(md5('packrat 1'))).threats.map((t) => t.name)).toEqual(['CyberGate']);
    },
  },
  {
    title:
      'citizenlab_misp_201512_PackRAT_iocs.csv: MISP export, prose comments, YYYYMMDD dates, text/regkey rows, a non-ASCII × in a URL',
    name: 'iocs.csv',
    content: textFile([
      'uuid,event_id,category,type,value,comment,to_ids,date',
      `5667a1b2-0001-4c5e-9f3a-0a0b0c0d0e01,77,Network activity,domain,c2-server.example,C2 server,1,20151208`,
      `5667a1b2-0002-4c5e-9f3a-0a0b0c0d0e02,77,Payload delivery,md5,${md5('misp 1')},CyberGate,1,20151208`,
      `5667a1b2-0003-4c5e-9f3a-0a0b0c0d0e03,77,Network activity,ip-dst,203.0.113.45,IP address linked to the campaign,1,20151209`,
      `5667a1b2-0004-4c5e-9f3a-0a0b0c0d0e04,77,Payload delivery,email-src,sender@mail.example,Phishing sender,1,20151209`,
      `5667a1b2-0005-4c5e-9f3a-0a0b0c0d0e05,77,Network activity,url,http://files.example/img/photo-300\u00d7169.jpg,,1,20151210`,
      `5667a1b2-0006-4c5e-9f3a-0a0b0c0d0e06,77,Attribution,text,CyberGate,,0,20151210`,
      `5667a1b2-0007-4c5e-9f3a-0a0b0c0d0e07,77,Persistence mechanism,regkey,HKCU\\Software\\Run\\updater,,1,20151210`,
      `5667a1b2-0008-4c5e-9f3a-0a0b0c0d0e08,77,External analysis,link,https://research.example/packrat,Report,0,20151211`,
    ]),
    headerRowDetected: true,
    header: ['uuid', 'event_id', 'category', 'type', 'value', 'comment', 'to_ids', 'date'],
    mapping: [null, null, null, null, O, 'DESCRIPTION', null, 'VALID_FROM'],
    unknownThreats: [],
    firstObservable: 'c2-server.example',
    counts: { total: 8, created: 6, invalid: 2 },
    rejects: [
      [7, 'UNRECOGNISED'],
      [8, 'UNRECOGNISED'],
    ],
    check: async ({ indicator }) => {
      expect(await indicator('c2-server.example')).toMatchObject({
        type: 'DOMAIN',
        description: 'C2 server',
        validFrom: '2015-12-08T00:00:00.000Z',
      });
      expect((await indicator('http://files.example/img/photo-300%C3%97169.jpg')).type).toBe('URL');
    },
  },
  {
    title: 'nanparam_malhash_uppercase_sha256.csv: one column under `hash`, upper-case SHA256, duplicates',
    name: 'malhash.csv',
    content: textFile(['hash', ...['n1', 'n2', 'n1', 'n3'].map((seed) => sha256(seed).toUpperCase())]),
    headerRowDetected: true,
    header: ['hash'],
    mapping: [O],
    firstObservable: sha256('n1').toUpperCase(),
    counts: { total: 4, created: 3, unchanged: 1 },
    check: async ({ indicator }) => {
      expect((await indicator(sha256('n3'))).type).toBe('FILE');
    },
  },
  {
    title:
      'sophos_2024-02_ScreenConnect_payloads.csv: BOM, CRLF, defanged URLs inside quoted notes, a Description row, a hash with a trailing space',
    name: 'ScreenConnect payloads.csv',
    content: textFile(
      [
        'Indicator_type,Data,Note',
        'Description,Payloads seen after the made-up exploitation,',
        `sha256,${sha256('sc 1')},"loader; source hxxp://192.0.2.77:804/download/stage.log"`,
        `sha256,${sha256('sc 2')} ,"""stage.exe"" ransomware executable"`,
        `sha256,${sha256('sc 3')},"dropper, seen with hxxps://drop[.]example/x"`,
      ],
      { eol: '\r\n', bom: true },
    ),
    headerRowDetected: true,
    header: ['Indicator_type', 'Data', 'Note'],
    mapping: [null, O, 'DESCRIPTION'],
    firstObservable: 'Payloads seen after the made-up exploitation',
    counts: { total: 4, created: 3, invalid: 1 },
    rejects: [[2, 'UNRECOGNISED']],
    // The BOM is not part of the first column's name.
    rejectedCsv: [
      ['Indicator_type', 'Data', 'Note', 'error_line', 'error_code'],
      ['Description', 'Payloads seen after the made-up exploitation', '', '2', 'UNRECOGNISED'],
    ],
    check: async ({ indicator }) => {
      // A note is a description: kept as written, its defanged URL not imported.
      expect((await indicator(sha256('sc 1'))).description).toBe(
        'loader; source hxxp://192.0.2.77:804/download/stage.log',
      );
      expect((await indicator(sha256('sc 2'))).description).toBe('"stage.exe" ransomware executable');
      expect((await indicator(sha256('sc 3'))).description).toBe('dropper, seen with hxxps://drop[.]example/x');
      expect((await indicator(sha256('sc 2'))).type).toBe('FILE');
    },
  },
  {
    title:
      'sophos_ShaZhuPanfakeapps.csv: every field quoted and a trailing comma on every line, LF, crypto-currency addresses',
    name: 'fakeapps.csv',
    content: textFile(
      [
        ['Indicator_type', 'Data', 'Note'],
        ['domain', 'fake-wallet.example', 'fake trading app'],
        ['domain', 'fake-exchange.example', 'fake trading app'],
        ['ethereum_address', `0x${'ab12'.repeat(10)}`, 'victim deposits'],
        ['bitcoin_address', 'bc1qx8y7z6w5v4u3t2s1r0q9p8n7m6l5k4j3h2g', 'victim deposits'],
        ['trac_address', 'TXk3Pq9Lm2Nb7Vc5Zx8Aa1Ss4Dd6Ff0Gh', 'victim deposits'],
      ].map((cells) => `${quoted(cells)},`),
    ),
    headerRowDetected: true,
    // The 4th column, empty in the header and every row, is left out.
    header: ['Indicator_type', 'Data', 'Note'],
    mapping: [null, O, 'DESCRIPTION'],
    firstObservable: 'fake-wallet.example',
    counts: { total: 5, created: 2, invalid: 3 },
    rejects: [
      [4, 'UNRECOGNISED'],
      [5, 'UNRECOGNISED'],
      [6, 'UNRECOGNISED'],
    ],
  },
  {
    title:
      'sophos_crimson_palace_stac1248-alpha.csv: header `Indicator,Data,Notes,,,,` (4 empty columns), CRLF, a domain in an `ip` row',
    name: 'crimson_palace.csv',
    content: textFile(
      [
        'Indicator,Data,Notes,,,,',
        'ip,203.0.113.61,made-up C2,,,,',
        `sha256,${sha256('cp 1')},made-up backdoor,,,,`,
        'ip,c2.crimson.example,made-up C2,,,,',
        'domain,update.crimson.example,,,,,',
      ],
      { eol: '\r\n' },
    ),
    headerRowDetected: true,
    header: ['Indicator', 'Data', 'Notes'],
    mapping: [null, O, 'DESCRIPTION'],
    firstObservable: '203.0.113.61',
    counts: { total: 4, created: 4 },
    check: async ({ indicator }) => {
      // The type comes from the value, not from the type column.
      expect((await indicator('c2.crimson.example')).type).toBe('DOMAIN');
    },
  },
  {
    title: 'deepinstinct_Storm0978_RomCom_IOCs.csv: tiny, `Type,Value`, lower-case types, CRLF',
    name: 'IOCs.csv',
    content: textFile(
      [
        'Type,Value',
        `sha256,${sha256('romcom 1')}`,
        `sha256,${sha256('romcom 2')}`,
        'ip,198.51.100.71',
        'ip,198.51.100.72',
      ],
      { eol: '\r\n' },
    ),
    headerRowDetected: true,
    header: ['Type', 'Value'],
    mapping: [null, O],
    firstObservable: sha256('romcom 1'),
    counts: { total: 4, created: 4 },
  },
  {
    title: 'deepinstinct_Storm0978_RomCom_IOCs.xlsx: the same rows in the one sheet `Sheet1`',
    name: 'IOCs.xlsx',
    content: workbookOf(
      [
        [
          'Sheet1',
          sheetOf([
            ['Type', 'Value'],
            ['sha256', sha256('romcom 1')],
            ['sha256', sha256('romcom 2')],
            ['ip', '198.51.100.71'],
            ['ip', '198.51.100.72'],
          ]),
        ],
      ],
      'xlsx',
    ),
    sheet: 'Sheet1',
    headerRowDetected: true,
    header: ['Type', 'Value'],
    mapping: [null, O],
    firstObservable: sha256('romcom 1'),
    counts: { total: 4, created: 4 },
  },
  {
    title:
      'sslbl_sslblacklist.xlsx: ListingDate cells are numeric Excel date serials with a date style, a shared strings table',
    name: 'sslblacklist.xlsx',
    content: sslblWorkbook(),
    sheet: 'sslblacklist',
    headerRowDetected: true,
    header: ['SHA1', 'ListingReason', 'ListingDate'],
    mapping: [O, 'DESCRIPTION', 'VALID_FROM'],
    firstObservable: sha1('sslbl 1'),
    counts: { total: 3, created: 3 },
    check: async ({ indicator }) => {
      // 45282.2904 days after 1899-12-30, to the second.
      expect(await indicator(sha1('sslbl 1'))).toMatchObject({
        type: 'FILE',
        description: 'AsyncRAT C&C',
        validFrom: '2023-12-22T06:58:10.000Z',
      });
    },
  },
  {
    title: 'eset_agrius_samples.sha256: one lower-case SHA256 a line, in a file named `.sha256`',
    name: 'samples.sha256',
    content: textFile([sha256('eset 1'), sha256('eset 2'), sha256('eset 3')]),
    headerRowDetected: false,
    header: null,
    mapping: [O],
    firstObservable: sha256('eset 1'),
    counts: { total: 3, created: 3 },
  },
  {
    title: 'ahamed_IOCs_ips_crlf.txt and threatfox_ioc_ips.txt: sorted IPv4s, CRLF, no final newline',
    name: 'IOCs.txt',
    content: textFile(['192.0.2.1', '192.0.2.2', '192.0.2.10', '198.51.100.1'], { eol: '\r\n', finalNewline: false }),
    headerRowDetected: false,
    header: null,
    mapping: [O],
    firstObservable: '192.0.2.1',
    counts: { total: 4, created: 4 },
  },
];

/** The sslbl-style sheet: hashes, reasons with `&`, dates as styled serial numbers, shared strings. */
function sslblWorkbook(): Buffer {
  const rows = [
    [sha1('sslbl 1'), 'AsyncRAT C&C', 45282.29039351852],
    [sha1('sslbl 2'), 'QuasarRAT C&C', 45281.5],
    [sha1('sslbl 3'), 'Malware C&C', 45280.0104166667],
  ];
  const sheet = sheetOf([['SHA1', 'ListingReason', 'ListingDate'], ...rows]);
  for (let row = 2; row <= rows.length + 1; row++) sheet[`C${row}`].z = 'yyyy-mm-dd hh:mm:ss';
  const book = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(book, sheet, 'sslblacklist');
  return XLSX.write(book, { type: 'buffer', bookType: 'xlsx', bookSST: true }) as Buffer;
}

describe('file import of files with the quirks of the real IOC files', () => {
  it('the sslbl workbook keeps its dates as styled numbers in a shared-strings workbook', () => {
    // What the test relies on: the quirk is in the file, not added by the reader.
    const book = XLSX.read(sslblWorkbook(), { cellNF: true });
    const cell = book.Sheets[book.SheetNames[0]].C2;
    expect(cell).toMatchObject({ t: 'n', v: 45282.29039351852, z: 'yyyy-mm-dd hh:mm:ss' });
    expect(
      XLSX.CFB.read(sslblWorkbook(), { type: 'buffer' }).FullPaths.some((path: string) =>
        path.endsWith('sharedStrings.xml'),
      ),
    ).toBe(true);
  });

  it.concurrent.each(QUIRKS.map((quirk) => [quirk.title, quirk] as const))('%s', async (_, quirk) => {
    const tenant = await createTenant(app);
    const { client } = tenant;
    const collectionId = await newCollection(tenant);

    const { preview } = expectMember(
      await previewFile(client, collectionId, quirk.name, quirk.content),
      'PreviewIndicatorFileSuccess',
    );
    expect(preview).toMatchObject({
      format: quirk.sheet ? 'XLSX' : 'CSV',
      sheets: quirk.sheet ? [quirk.sheet] : [],
      sheet: quirk.sheet ?? null,
      headerRowDetected: quirk.headerRowDetected,
      header: quirk.header,
      unknownThreats: quirk.unknownThreats ?? [],
    });
    expect(preview.columns.map((c) => c.suggestedProperty)).toEqual(quirk.mapping);
    expect(preview.columns.map((c) => c.header)).toEqual(quirk.mapping.map((__, i) => quirk.header?.[i] || null));
    expect(preview.rows[0][quirk.mapping.indexOf(O)]).toBe(quirk.firstObservable);

    const job = await importFileAndWait(client, {
      collectionId,
      fileHandle: preview.fileHandle,
      mapping: preview.columns.map((c) => c.suggestedProperty ?? null),
      ignoreFirstLine: preview.headerRowDetected,
    });
    const { total, created, updated = 0, unchanged = 0, invalid = 0 } = quirk.counts;
    expect(job).toMatchObject({ status: 'SUCCEEDED', total, processed: total, created, updated, unchanged, invalid });
    const rejects = quirk.rejects ?? [];
    expect(job.errors.edges.map((e) => [e.node.line, e.node.code])).toEqual(rejects);

    if (rejects.length > 0) {
      // The rejected rows to fix and import again: the file's header, then each line with its cells.
      const [header, ...lines] = await rejectedRowsCsv(client, job.id);
      expect(header.slice(-3)).toEqual(['error_line', 'error_code', 'error_message']);
      expect(lines.map((cells) => cells.slice(-3, -1))).toEqual(rejects.map(([line, code]) => [String(line), code]));
      for (const cells of lines) expect(cells.at(-1)).not.toBe('');
      if (quirk.rejectedCsv) expect([header, ...lines].map((cells) => cells.slice(0, -1))).toEqual(quirk.rejectedCsv);
    }

    await quirk.check?.({ indicator: (value) => indicatorByValue(client, collectionId, value) });
  });
});

describe('text import of lists with the quirks of the real text files', () => {
  it('malwarebazaar_recent_md5.txt pasted as text: banner, commented header and trailer skipped, line numbers kept', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    const quirk = QUIRKS.find((q) => q.name === 'recent_md5.txt')!;
    const job = await importText(tenant.client, collectionId, quirk.content.toString('utf8'));
    expect(job).toMatchObject({ status: 'SUCCEEDED', total: 4, created: 3, invalid: 1 });
    expect(job.errors.edges.map((e) => [e.node.line, e.node.code])).toEqual([[12, 'INVALID_HASH']]);
  });

  it('iocfanger_sample_text_defanged.txt: `[.]` everywhere, `hXXp`, plain MD5s, defanged repeats counted once', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    const lines = [
      'evil-site[.]example',
      '192[.]0[.]2[.]99',
      'hXXp://payload-host[.]example/binfile[.]php',
      md5('fanger 1'),
      'evil-site[.]example',
      'evil-site.example',
      '192[.]0[.]2[.]99',
      'hXXp://payload-host[.]example/binfile[.]php',
    ];
    const job = await importText(tenant.client, collectionId, lines.join('\n'));
    expect(job).toMatchObject({ status: 'SUCCEEDED', total: 8, created: 4, unchanged: 4, invalid: 0 });
    const stored = await Promise.all(
      ['evil-site.example', '192.0.2.99', 'http://payload-host.example/binfile.php', md5('fanger 1')].map((value) =>
        indicatorByValue(tenant.client, collectionId, value),
      ),
    );
    expect(stored.map((i) => i.type)).toEqual(['DOMAIN', 'IPV4', 'URL', 'FILE']);
  });
});
