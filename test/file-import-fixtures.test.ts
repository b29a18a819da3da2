// Every real IOC file of ../shared/fixtures/real (feed exports, analyst CSVs, workbooks)
// through both steps of a file import, as a person would do it: upload the file, read the
// preview, import with the SUGGESTED mapping (and `ignoreFirstLine: headerRowDetected`),
// and look at the counts. The files are read from ../shared at test time, never copied.
//
// The expected counts are written out per file (readable, and what the report quotes), and
// checked against the file itself with simple logic of this test's own: data lines,
// distinct values, and the rows a person expects rejected. Threat names are checked
// against the catalogue the tests load (src/modules/threats/demo-catalogue.json).
import * as XLSX from '@e965/xlsx';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { IndicatorProperty } from './generated/graphql.ts';
import {
  createTenant,
  expectMember,
  importFileAndWait,
  indicatorPage,
  newCollection,
  previewFile,
  rejectedRowsCsv,
  startTestApp,
  type Client,
  type IndicatorNode,
  type TestApp,
} from './kit.ts';
import { splitCsvLine } from './csv-line.ts';

const REAL = new URL('../../shared/fixtures/real/', import.meta.url);
const CATALOGUE = new URL('../src/modules/threats/demo-catalogue.json', import.meta.url);
const present = existsSync(fileURLToPath(REAL));

const started = present ? await startTestApp() : null;
const app = (): TestApp => started ?? expect.fail('no test app: the fixtures are absent');

// ---------------------------------------------------------------------------------------
// Reading the files with simple rules of our own (not the product's readers).

interface FileRow {
  /** 1-based line in the file (row in a sheet). */
  line: number;
  cells: string[];
}

/** Every non-blank line that is not a `#` comment (header row included), or every non-empty sheet row. */
function readFileRows(file: string): FileRow[] {
  const content = readFileSync(new URL(file, REAL));
  if (file.endsWith('.xlsx')) {
    const book = XLSX.read(content);
    const sheet = XLSX.utils.sheet_to_json<unknown[]>(book.Sheets[book.SheetNames[0]], { header: 1, defval: '' });
    return sheet
      .map((cells, index) => ({ line: index + 1, cells: cells.map((cell) => String(cell).trim()) }))
      .filter((row) => row.cells.some((cell) => cell !== ''));
  }
  return content
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .split(/\r\n|\n/)
    .flatMap((text, index) =>
      text.trim() === '' || text.startsWith('#') ? [] : [{ line: index + 1, cells: splitCsvLine(text) }],
    );
}

const distinct = (values: string[]) => new Set(values.map((value) => value.trim().toLowerCase())).size;

/** Names and aliases of the catalogue the tests load, lower-cased. */
const catalogueNames: ReadonlySet<string> = new Set(
  (JSON.parse(readFileSync(CATALOGUE, 'utf8')) as { name: string; aliases: string[] }[]).flatMap((threat) =>
    [threat.name, ...threat.aliases].map((name) => name.toLowerCase()),
  ),
);
const inCatalogue = (name: string) => catalogueNames.has(name.trim().toLowerCase());

// ---------------------------------------------------------------------------------------
// The files, and what a person expects of each.

const O = 'OBSERVABLE';

interface Counts {
  total: number;
  created: number;
  updated?: number;
  unchanged?: number;
  invalid?: number;
}

interface CheckContext {
  client: Client;
  collectionId: string;
  /** The data rows (header row left out), as read by `readFileRows`. */
  rows: FileRow[];
}

interface Fixture {
  /** Path under shared/fixtures/real/. */
  file: string;
  headerRowDetected: boolean;
  /** The header the preview shows (trailing columns empty in the header and the data left out). */
  header: string[] | null;
  /** The suggested property of each column. */
  mapping: (IndicatorProperty | null)[];
  unknownThreats?: string[];
  counts: Counts;
  /** The data rows a person expects rejected (by their cells), and the code they get. */
  rejects?: { code: string; when: (cells: string[]) => boolean };
  /** A look at some of what was imported. */
  check?: (context: CheckContext) => Promise<void>;
}

const FEODO_HEADER = ['first_seen_utc', 'dst_ip', 'dst_port', 'c2_status', 'last_online', 'malware'];
const FEODO_MAPPING: Fixture['mapping'] = ['VALID_FROM', O, null, null, null, 'THREATS'];

const FIXTURES: Fixture[] = [
  // --- feeds/
  {
    // The header is the comment `#ip,ioc`, so the first line of data (a private IP marked
    // `TEST DATA`) is data, and a valid IPv4.
    file: 'feeds/c2_ips_30day_commented_header.csv',
    headerRowDetected: false,
    header: ['ip', 'ioc'],
    mapping: [O, 'DESCRIPTION'],
    // 3 IPs come back as "Possible Metasploit C2 IP" after "Possible Cobaltstrike C2 IP":
    // the later description replaces the first, so they are updated.
    counts: { total: 1318, created: 1315, updated: 3 },
    check: async ({ client, collectionId, rows }) => {
      const test = rows.find((row) => row.cells[1] === 'TEST DATA')!;
      expect(await findIndicator(client, collectionId, test.cells[0])).toMatchObject({
        type: 'IPV4',
        description: 'TEST DATA',
      });
    },
  },
  {
    file: 'feeds/emergingthreats_compromised-ips.txt',
    headerRowDetected: false,
    header: null,
    mapping: [O],
    counts: { total: 539, created: 539 },
  },
  {
    // Pikabot is in the test catalogue (S1145), so no row is lost.
    file: 'feeds/feodotracker_ipblocklist.csv',
    headerRowDetected: true,
    header: FEODO_HEADER,
    mapping: FEODO_MAPPING,
    unknownThreats: [],
    counts: { total: 28, created: 28 },
    check: async ({ client, collectionId, rows }) => {
      const [firstSeen, ip, , , , malware] = rows[0].cells;
      const indicator = await findIndicator(client, collectionId, ip);
      expect(indicator.validFrom).toBe(`${firstSeen.replace(' ', 'T')}.000Z`);
      expect(indicator.threats.map((t) => t.name)).toEqual([malware]);
    },
  },
  {
    // Despite its name, the first line is the header. Dridex 166, Emotet 178, TrickBot 128.
    file: 'feeds/feodotracker_ipblocklist_aggressive_2021_noheader.csv',
    headerRowDetected: true,
    header: FEODO_HEADER,
    mapping: FEODO_MAPPING,
    unknownThreats: [],
    // 6 IPs are listed twice and 1 three times, always with another first_seen (and
    // sometimes another family): each repeat moves validFrom (and merges threats).
    counts: { total: 472, created: 465, updated: 7 },
  },
  {
    // The comment `# md5_hash` right above the data is its header. The trailer says
    // "Number of entries: 506", but the file lists 507 distinct MD5s.
    file: 'feeds/malwarebazaar_recent_md5.txt',
    headerRowDetected: false,
    header: ['md5_hash'],
    mapping: [O],
    counts: { total: 507, created: 507 },
  },
  {
    // The commented header names 2 columns, the rows have 3 (ip, port, reason).
    file: 'feeds/sslbl_sslipblacklist_2015.csv',
    headerRowDetected: false,
    header: ['DstIP', 'DstPort'],
    mapping: [O, null, 'DESCRIPTION'],
    counts: { total: 83, created: 83 },
  },
  {
    // Column 2 is the constant ` IOC FOUND`: ignored. 165 repeated domains are unchanged.
    file: 'feeds/threatfox_domains_processed.csv',
    headerRowDetected: true,
    header: ['Address', 'url'],
    mapping: [O, null],
    counts: { total: 4999, created: 4834, unchanged: 165 },
  },
  {
    // Each IP is listed about three times in a row: the repeats are unchanged.
    file: 'feeds/threatview_cobaltstrike_ips_with_dupes.txt',
    headerRowDetected: false,
    header: null,
    mapping: [O],
    counts: { total: 2087, created: 804, unchanged: 1283 },
  },

  // --- csv/
  {
    file: 'csv/ahamed_IOC-3rd_March_quoted.csv',
    headerRowDetected: true,
    header: ['type', 'value', 'source'],
    mapping: [null, O, null],
    counts: { total: 390, created: 390 },
  },
  {
    // The C2 column holds domains too, but one column is the observable: the MD5 (named so).
    // AlienSpy (6 rows) and Adzok (4) are not in the catalogue: those rows are rejected.
    // `CyberGate` and `Cybergate` are one threat, so the 13 repeated MD5s are unchanged.
    file: 'csv/citizenlab_201512_PackRAT_md5-c2.csv',
    headerRowDetected: true,
    header: ['MD5', '', 'C2', 'Malware Family'],
    mapping: [O, null, null, 'THREATS'],
    unknownThreats: ['AlienSpy', 'Adzok'],
    counts: { total: 50, created: 27, unchanged: 13, invalid: 10 },
    rejects: { code: 'UNKNOWN_THREAT', when: (cells) => !inCatalogue(cells[3]) },
    check: async ({ client, collectionId, rows }) => {
      const lowerCase = rows.find((row) => row.cells[3] === 'Cybergate')!;
      const indicator = await findIndicator(client, collectionId, lowerCase.cells[0]);
      expect(indicator.threats.map((t) => t.name)).toEqual(['CyberGate']);
    },
  },
  {
    // MISP: `comment` mixes family names with prose (`C2 server`, `IP address linked to
    // ...`), so it is a description; `date` is YYYYMMDD. The 4 `text` rows (family names)
    // and 3 `regkey` rows are no observables.
    file: 'csv/citizenlab_misp_201512_PackRAT_iocs.csv',
    headerRowDetected: true,
    header: ['uuid', 'event_id', 'category', 'type', 'value', 'comment', 'to_ids', 'date'],
    mapping: [null, null, null, null, O, 'DESCRIPTION', null, 'VALID_FROM'],
    unknownThreats: [],
    counts: { total: 136, created: 129, invalid: 7 },
    rejects: { code: 'UNRECOGNISED', when: (cells) => cells[3] === 'text' || cells[3] === 'regkey' },
    check: async ({ client, collectionId, rows }) => {
      // Its C2 domain: with `comment` as THREATS it was rejected as the unknown threat "C2 server".
      const c2 = rows.find((row) => row.cells[5] === 'C2 server')!;
      const date = c2.cells[7]; // YYYYMMDD
      expect(await findIndicator(client, collectionId, c2.cells[4])).toMatchObject({
        type: 'DOMAIN',
        description: 'C2 server',
        validFrom: `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6)}T00:00:00.000Z`,
      });
      // The URL with a non-ASCII `×` (U+00D7) is kept, percent-encoded.
      const url = rows.find((row) => row.cells[4].includes('\u00d7'))!;
      const [before] = url.cells[4].split('\u00d7');
      expect((await findIndicator(client, collectionId, before)).value).toBe(url.cells[4].replace('\u00d7', '%C3%97'));
    },
  },
  {
    file: 'csv/deepinstinct_Storm0978_RomCom_IOCs.csv',
    headerRowDetected: true,
    header: ['Type', 'Value'],
    mapping: [null, O],
    counts: { total: 7, created: 7 },
  },
  {
    // One column under `hash`; 6 hashes are listed twice.
    file: 'csv/nanparam_malhash_uppercase_sha256.csv',
    headerRowDetected: true,
    header: ['hash'],
    mapping: [O],
    counts: { total: 135, created: 129, unchanged: 6 },
  },
  {
    // The BOM is not part of the first column name. The `Description` row (its Data is a
    // sentence) is no indicator; defanged URLs and hashes with a trailing space are fine.
    file: 'csv/sophos_2024-02_ScreenConnect_payloads.csv',
    headerRowDetected: true,
    header: ['Indicator_type', 'Data', 'Note'],
    mapping: [null, O, 'DESCRIPTION'],
    counts: { total: 34, created: 33, invalid: 1 },
    rejects: { code: 'UNRECOGNISED', when: (cells) => cells[0] === 'Description' },
  },
  {
    // The trailing comma of every line makes a 4th column without a name; it stays in the
    // preview because one row has a stray `:"l` in it. 3 bitcoin, 7 ethereum and 1 trac
    // address are no observables.
    //
    // KNOWN GAP (reported): the `Description` row's Data is the URL of Sophos's article, so
    // it is imported as a URL indicator (counted in `created`). A person expects it rejected
    // like the ScreenConnect file's Description row; the type column is not used at all.
    file: 'csv/sophos_ShaZhuPanfakeapps.csv',
    headerRowDetected: true,
    header: ['Indicator_type', 'Data', 'Note', ''],
    mapping: [null, O, 'DESCRIPTION', null],
    counts: { total: 623, created: 612, invalid: 11 },
    rejects: { code: 'UNRECOGNISED', when: (cells) => cells[0].endsWith('_address') },
    check: async ({ client, collectionId, rows }) => {
      const description = rows.find((row) => row.cells[0] === 'Description')!;
      expect(await findIndicator(client, collectionId, description.cells[1])).toMatchObject({ type: 'URL' });
    },
  },
  {
    // `Indicator,Data,Notes,,,,`: 4 empty columns left out. Some `ip` rows hold domains,
    // imported as domains (the type comes from the value).
    file: 'csv/sophos_crimson_palace_stac1248-alpha.csv',
    headerRowDetected: true,
    header: ['Indicator', 'Data', 'Notes'],
    mapping: [null, O, 'DESCRIPTION'],
    counts: { total: 38, created: 38 },
  },

  // --- xlsx/
  {
    file: 'xlsx/deepinstinct_Storm0978_RomCom_IOCs.xlsx',
    headerRowDetected: true,
    header: ['Type', 'Value'],
    mapping: [null, O],
    counts: { total: 7, created: 7 },
  },
  {
    // ListingDate cells are Excel date serials: they become validFrom.
    file: 'xlsx/sslbl_sslblacklist.xlsx',
    headerRowDetected: true,
    header: ['SHA1', 'ListingReason', 'ListingDate'],
    mapping: [O, 'DESCRIPTION', 'VALID_FROM'],
    counts: { total: 5565, created: 5565 },
    check: async ({ client, collectionId, rows }) => {
      const [sha1, reason, serial] = rows[0].cells;
      const excelEpoch = Date.UTC(1899, 11, 30);
      const listed = new Date(excelEpoch + Math.round(Number(serial) * 86_400) * 1000);
      expect(await findIndicator(client, collectionId, sha1)).toMatchObject({
        type: 'FILE',
        description: reason,
        validFrom: listed.toISOString(),
      });
    },
  },
];

// ---------------------------------------------------------------------------------------
// Driving the API.

/** Step 1: uploads the file (GraphQL multipart request) and answers the preview. */
async function uploadAndPreview(client: Client, collectionId: string, file: string) {
  const content = readFileSync(new URL(file, REAL));
  const answer = await previewFile(client, collectionId, basename(file), content);
  return expectMember(answer, 'PreviewIndicatorFileSuccess').preview;
}

/** The one indicator of the collection whose value contains `search`. */
async function findIndicator(client: Client, collectionId: string, search: string): Promise<IndicatorNode> {
  const found = (await indicatorPage(client, collectionId, { search, first: 5 })).indicators.edges.map((e) => e.node);
  expect(found, `indicators matching ${search}`).toHaveLength(1);
  return found[0];
}

// ---------------------------------------------------------------------------------------

describe.skipIf(!present)('file import of the real IOC files', () => {
  it('covers every CSV, text feed and workbook of the fixture folders', () => {
    const listed = (folder: string) => readdirSync(new URL(folder, REAL)).map((name) => `${folder}${name}`);
    expect(FIXTURES.map((f) => f.file).sort()).toEqual(
      [...listed('feeds/'), ...listed('csv/'), ...listed('xlsx/')].sort(),
    );
  });

  it.each(FIXTURES.map((fixture) => [fixture.file, fixture] as const))('%s', async (_, fixture) => {
    const tenant = await createTenant(app());
    const { client } = tenant;
    const collectionId = await newCollection(tenant);
    const fileRows = readFileRows(fixture.file);
    const rows = fixture.headerRowDetected ? fileRows.slice(1) : fileRows;
    const observableColumn = fixture.mapping.indexOf(O);

    // Step 1: the preview.
    const preview = await uploadAndPreview(client, collectionId, fixture.file);
    const isWorkbook = fixture.file.endsWith('.xlsx');
    expect(preview).toMatchObject({
      format: isWorkbook ? 'XLSX' : 'CSV',
      sheets: isWorkbook ? ['Sheet1'] : [],
      sheet: isWorkbook ? 'Sheet1' : null,
      headerRowDetected: fixture.headerRowDetected,
      header: fixture.header,
      unknownThreats: fixture.unknownThreats ?? [],
    });
    expect(preview.columns.map((c) => c.suggestedProperty)).toEqual(fixture.mapping);
    expect(preview.columns.map((c) => c.header)).toEqual(fixture.mapping.map((_, i) => fixture.header?.[i] || null));
    // The first 10 data rows, header left out.
    expect(preview.rows.map((cells) => cells[observableColumn])).toEqual(
      rows.slice(0, 10).map((row) => row.cells[observableColumn]),
    );

    // Step 2: the import, with the suggested mapping as it is.
    const job = await importFileAndWait(client, {
      collectionId,
      fileHandle: preview.fileHandle,
      mapping: preview.columns.map((c) => c.suggestedProperty ?? null),
      ignoreFirstLine: preview.headerRowDetected,
    });
    const { total, created, updated = 0, unchanged = 0, invalid = 0 } = fixture.counts;
    expect(job).toMatchObject({ status: 'SUCCEEDED', total, processed: total, created, updated, unchanged, invalid });

    // The same numbers from the file, by our own simple rules.
    const rejected = rows.filter((row) => fixture.rejects?.when(row.cells) ?? false);
    const accepted = rows.filter((row) => !rejected.includes(row));
    expect(total, 'data rows of the file').toBe(rows.length);
    expect(invalid, 'rows a person expects rejected').toBe(rejected.length);
    expect(created, 'distinct observables of the other rows').toBe(
      distinct(accepted.map((row) => row.cells[observableColumn])),
    );
    expect(job.errors.totalCount).toBe(invalid);
    expect(new Set(job.errors.edges.map((e) => e.node.code))).toEqual(
      new Set(rejected.length ? [fixture.rejects!.code] : []),
    );
    expect((await indicatorPage(client, collectionId, { first: 1 })).indicatorCount).toBe(created);

    // The rejected rows, to fix and import again: exactly those lines, with their cells.
    if (rejected.length > 0) {
      const [header, ...lines] = await rejectedRowsCsv(client, job.id);
      const fileHeader = fixture.headerRowDetected ? fileRows[0].cells : fixture.header!;
      expect(header).toEqual([...fileHeader, 'error_line', 'error_code', 'error_message']);
      expect(lines.map((cells) => cells.slice(0, -1))).toEqual(
        rejected.map((row) => [...row.cells, String(row.line), fixture.rejects!.code]),
      );
      for (const cells of lines) expect(cells.at(-1)).not.toBe('');
    }

    await fixture.check?.({ client, collectionId, rows });
  });
});
