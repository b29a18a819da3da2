// Parses one workbook with SheetJS in a worker thread started by spreadsheet.ts (which sets its
// memory limits and timeout), then answers each message from the parent with the next chunk of
// rows. Only arrays of strings leave the worker, so nothing a workbook names (a sheet or header
// called `__proto__`) ever becomes a property key in the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import * as XLSX from '@e965/xlsx';
import {
  encryptedWorkbookError,
  readZipDirectory,
  readZipEntry,
  type WorkbookFormat,
} from './spreadsheet-container.ts';
import { isCommentedHeader, UnreadableFileError, type TableRow } from './table.ts';

declare module '@e965/xlsx' {
  // Exported by SheetJS's ESM build, missing from its type declarations.
  function parse_zip(zip: unknown, options: ParsingOptions): WorkBook;
  function parse_xlscfb(cfb: unknown, options: ParsingOptions): WorkBook;
}

/** What spreadsheet.ts passes as `workerData`. */
export interface SpreadsheetJob {
  content: Uint8Array;
  format: WorkbookFormat;
  sheet: string | null;
  /** Data rows to read at most (a preview), or null for all. */
  maxRows: number | null;
  maxZipEntries: number;
  rowsPerMessage: number;
}

export type SpreadsheetWorkerMessage =
  | { kind: 'opened'; sheets: string[]; sheet: string | null; commentedHeader: TableRow | null }
  | { kind: 'rows'; rows: TableRow[]; done: boolean }
  | { kind: 'failed'; code: UnreadableFileError['code']; message: string };

/** Sheet rows parsed past `maxRows` for a preview, so comment rows above the data do not shorten it. */
export const PREVIEW_EXTRA_ROWS = 100;

const MS_PER_DAY = 86_400_000;
/** Day 0 of Excel's 1900 date system. */
const EXCEL_EPOCH = Date.UTC(1899, 11, 30);
const DAYS_FROM_1900_TO_1904_SYSTEM = 1462;
/** 9999-12-31, Excel's last date. */
const LAST_EXCEL_SERIAL = 2_958_465;

if (!parentPort) throw new Error('spreadsheet.worker.ts runs only as a worker thread');
run(workerData as SpreadsheetJob, parentPort);

function run(job: SpreadsheetJob, parent: NonNullable<typeof parentPort>): void {
  const post = (message: SpreadsheetWorkerMessage) => parent.postMessage(message);
  try {
    const workbook = parseWorkbook(job);
    const date1904 = Boolean(workbook.Workbook?.WBProps?.date1904);
    const sheet = chooseSheet(workbook, job.sheet, date1904);
    const worksheet = sheet === null ? undefined : worksheetNamed(workbook, sheet);
    const rows = firstRows(dataRows(worksheet, date1904), job.maxRows ?? Infinity);
    post({
      kind: 'opened',
      sheets: workbook.SheetNames,
      sheet,
      commentedHeader: commentedHeaderOf(nonEmptyRows(worksheet, date1904)),
    });
    parent.on('message', () => {
      const chunk = takeRows(rows, job.rowsPerMessage);
      post({ kind: 'rows', ...chunk });
      if (chunk.done) parent.close();
    });
  } catch (error) {
    const failure = asUnreadable(error);
    post({ kind: 'failed', code: failure.code, message: failure.message });
  }
}

function parseWorkbook(job: SpreadsheetJob): XLSX.WorkBook {
  const options: XLSX.ParsingOptions = {
    dense: true, // rows as arrays instead of one object key per cell
    cellNF: true, // number formats tell dates from numbers
    cellText: false, // no formatted text: cellText() formats values itself
    cellHTML: false,
    cellFormula: false, // formulas are read as their cached values
    sheetRows: job.maxRows === null ? 0 : job.maxRows + PREVIEW_EXTRA_ROWS,
    sheets: job.sheet ?? undefined,
  };
  const content = Buffer.from(job.content.buffer, job.content.byteOffset, job.content.byteLength);
  return job.format === 'xlsx'
    ? XLSX.parse_zip(unpackXlsx(content, job.maxZipEntries), options)
    : parseXls(content, options);
}

/**
 * The XML parts of a .xlsx in a SheetJS container, inflated by Node's zlib within the sizes
 * the main thread checked (SheetJS's own unzip trusts local headers, which may declare no size).
 * Images and other binary parts are never unpacked.
 */
function unpackXlsx(content: Buffer, maxEntries: number): unknown {
  const container = XLSX.CFB.utils.cfb_new();
  for (const entry of readZipDirectory(content, maxEntries)) {
    if (!/\.(?:xml|rels)$/i.test(entry.name)) continue;
    XLSX.CFB.utils.cfb_add(container, entry.name, readZipEntry(content, entry), { unsafe: true });
  }
  return container;
}

function parseXls(content: Buffer, options: XLSX.ParsingOptions): XLSX.WorkBook {
  const container = XLSX.CFB.read(content, { type: 'buffer' });
  // A password-protected .xlsx is an OLE2 file holding the encrypted ZIP.
  if (XLSX.CFB.find(container, 'EncryptionInfo') || XLSX.CFB.find(container, 'EncryptedPackage')) {
    throw encryptedWorkbookError();
  }
  if (!XLSX.CFB.find(container, '/Workbook') && !XLSX.CFB.find(container, '/Book')) {
    throw new UnreadableFileError(
      'UNSUPPORTED_FORMAT',
      'the file is an Office document without an Excel workbook (.xlsx or .xls)',
    );
  }
  return XLSX.parse_xlscfb(container, options);
}

/** The sheet asked for; else the first (visible, then hidden) sheet with data; else the first. */
function chooseSheet(workbook: XLSX.WorkBook, requested: string | null, date1904: boolean): string | null {
  const names = workbook.SheetNames;
  if (requested !== null) {
    if (names.includes(requested)) return requested;
    throw new UnreadableFileError(
      'UNKNOWN_SHEET',
      `the workbook has no sheet named ${JSON.stringify(requested)}; its sheets are ${names.map((name) => JSON.stringify(name)).join(', ')}`,
    );
  }
  const isHidden = (name: string) => Boolean(workbook.Workbook?.Sheets?.[names.indexOf(name)]?.Hidden);
  const byVisibility = [...names.filter((name) => !isHidden(name)), ...names.filter(isHidden)];
  const withData = byVisibility.find((name) => !dataRows(worksheetNamed(workbook, name), date1904).next().done);
  return withData ?? names[0] ?? null;
}

/**
 * SheetJS keeps sheets in a plain object: a sheet named `__proto__` becomes its prototype, and
 * names like `toString` would find inherited members.
 */
function worksheetNamed(workbook: XLSX.WorkBook, name: string): XLSX.WorkSheet | undefined {
  if (Object.hasOwn(workbook.Sheets, name)) return workbook.Sheets[name];
  const prototype: unknown = Object.getPrototypeOf(workbook.Sheets);
  return name === '__proto__' && prototype !== Object.prototype ? (prototype as XLSX.WorkSheet) : undefined;
}

/** Rows with at least one non-empty cell; `line` is the row number Excel shows. */
function* nonEmptyRows(worksheet: XLSX.WorkSheet | undefined, date1904: boolean): Generator<TableRow> {
  const data = worksheet?.['!data'] ?? [];
  for (let index = 0; index < data.length; index += 1) {
    const row = data[index];
    if (!row) continue;
    // Array.from visits the holes of a sparse row as undefined.
    const cells = Array.from(row, (cell) => cellText(cell, date1904));
    while (cells.length > 0 && cells[cells.length - 1] === '') cells.pop();
    if (cells.length > 0) yield { line: index + 1, cells };
  }
}

function* dataRows(worksheet: XLSX.WorkSheet | undefined, date1904: boolean): Generator<TableRow> {
  for (const row of nonEmptyRows(worksheet, date1904)) if (!isComment(row)) yield row;
}

function* firstRows(rows: Iterator<TableRow>, count: number): Generator<TableRow> {
  for (let taken = 0; taken < count; taken += 1) {
    const next = rows.next();
    if (next.done) return;
    yield next.value;
  }
}

function takeRows(rows: Iterator<TableRow>, count: number): { rows: TableRow[]; done: boolean } {
  const taken: TableRow[] = [];
  while (taken.length < count) {
    const next = rows.next();
    if (next.done) return { rows: taken, done: true };
    taken.push(next.value);
  }
  return { rows: taken, done: false };
}

function cellText(cell: XLSX.CellObject | undefined, date1904: boolean): string {
  switch (cell?.t) {
    case 's':
      return String(cell.v).trim();
    case 'n':
      return cell.z !== undefined && XLSX.SSF.is_date(cell.z)
        ? serialDateText(cell.v as number, date1904)
        : numberText(cell.v as number);
    case 'b':
      return cell.v ? 'TRUE' : 'FALSE';
    default:
      // Empty cells, stubs, and error values such as #N/A, which are not data. (Date cells
      // arrive as serial numbers with a date format: `cellDates` is off.)
      return '';
  }
}

/** As Excel shows it: at most 15 significant digits, no binary noise (0.1 + 0.2 is 0.3). */
function numberText(value: number): string {
  return String(Number(value.toPrecision(15)));
}

/** An Excel date serial (days since the epoch, time as the fraction) as an ISO-8601 UTC string. */
function serialDateText(serial: number, date1904: boolean): string {
  if (!(serial >= 0 && serial <= LAST_EXCEL_SERIAL)) return numberText(serial);
  // The 1900 system counts a 29 February 1900 that never was: serials before it are a day late.
  const days = date1904 ? serial + DAYS_FROM_1900_TO_1904_SYSTEM : serial < 60 ? serial + 1 : serial;
  return new Date(EXCEL_EPOCH + Math.round(days * MS_PER_DAY)).toISOString();
}

function isComment(row: TableRow): boolean {
  return row.cells.find((cell) => cell !== '')?.startsWith('#') ?? false;
}

/** The comment row right above the first data row, when its cells read as column names. */
function commentedHeaderOf(rows: Iterable<TableRow>): TableRow | null {
  let previous: TableRow | null = null;
  for (const row of rows) {
    if (!isComment(row)) {
      return previous?.line === row.line - 1 ? headerFromComment(previous, row.cells.length) : null;
    }
    previous = row;
  }
  return null;
}

function headerFromComment(comment: TableRow, dataColumns: number): TableRow | null {
  const marked = comment.cells.findIndex((cell) => cell !== '');
  const cells = comment.cells.map((cell, index) => (index === marked ? cell.replace(/^#+\s*/, '') : cell));
  return isCommentedHeader(cells, dataColumns <= 1) ? { line: comment.line, cells } : null;
}

/** SheetJS reports problems as plain Errors: give each the code a person can act on. */
function asUnreadable(error: unknown): UnreadableFileError {
  if (error instanceof UnreadableFileError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  if (/password-protected/i.test(detail)) return encryptedWorkbookError();
  // V8's longest string (~512 MiB) and failed buffer allocations: the sheet is too big to read.
  if (error instanceof RangeError && /Invalid string length|allocation failed/i.test(detail)) {
    return new UnreadableFileError(
      'WORKBOOK_TOO_LARGE',
      'the workbook is too large to read; split it into smaller files',
    );
  }
  return new UnreadableFileError(
    'MALFORMED_FILE',
    `the workbook is damaged or not a valid .xlsx or .xls file (${detail})`,
  );
}
