// Opens an uploaded file as a table, whatever its name says: workbooks are recognised by
// their bytes (a ZIP for .xlsx, an OLE2 container for .xls), everything else is read as CSV.
import { readCsv } from './csv.ts';
import { readSpreadsheet } from './spreadsheet.ts';
import type { Table } from './table.ts';

export type FileFormat = 'CSV' | 'XLSX' | 'XLS';

const ZIP = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const OLE2 = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

export function detectFormat(content: Buffer): FileFormat {
  if (content.subarray(0, ZIP.length).equals(ZIP)) return 'XLSX';
  if (content.subarray(0, OLE2.length).equals(OLE2)) return 'XLS';
  return 'CSV';
}

export async function readTable(
  content: Buffer,
  options: { sheet?: string | null; maxRows?: number } = {},
): Promise<Table> {
  return detectFormat(content) === 'CSV' ? readCsv(content) : readSpreadsheet(content, options);
}
