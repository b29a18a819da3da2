// Workbooks built with SheetJS, and ZIP containers written byte by byte so that their
// directory can lie (bombs, forged sizes): shared by the reader's tests and the API's.
import { deflateRawSync } from 'node:zlib';
import * as XLSX from '@e965/xlsx';

export type BookType = 'xlsx' | 'biff8';

/** Sheets as [name, sheet] pairs: a record keyed `__proto__` would set its prototype instead. */
export function workbookOf(sheets: [string, XLSX.WorkSheet][], bookType: BookType, hidden: string[] = []): Buffer {
  const workbook = XLSX.utils.book_new();
  for (const [name, sheet] of sheets) XLSX.utils.book_append_sheet(workbook, sheet, name);
  workbook.Workbook = { Sheets: sheets.map(([name]) => ({ name, Hidden: hidden.includes(name) ? 1 : 0 })) };
  return XLSX.write(workbook, { type: 'buffer', bookType });
}

export function sheetOf(rows: unknown[][]): XLSX.WorkSheet {
  return XLSX.utils.aoa_to_sheet(rows, { UTC: true });
}

export interface ZipPart {
  name: string;
  data: Buffer;
  /** What the central directory claims the part unpacks to. */
  declaredSize?: number;
}

/**
 * A ZIP archive of deflated parts, written here so that its directory can lie. With `zip64`,
 * the directory keeps the sizes in ZIP64 extra fields, as some writers always do.
 */
export function zipOf(parts: ZipPart[], options: { declaredEntryCount?: number; zip64?: boolean } = {}): Buffer {
  const records: Buffer[] = [];
  const directory: Buffer[] = [];
  let offset = 0;
  for (const part of parts) {
    const name = Buffer.from(part.name);
    const compressed = deflateRawSync(part.data);
    const size = part.declaredSize ?? part.data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const zip64 = Buffer.alloc(options.zip64 ? 20 : 0);
    if (options.zip64) {
      zip64.writeUInt16LE(0x0001, 0);
      zip64.writeUInt16LE(16, 2);
      zip64.writeBigUInt64LE(BigInt(size), 4);
      zip64.writeBigUInt64LE(BigInt(compressed.length), 12);
    }
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(45, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(options.zip64 ? 0xffffffff : compressed.length, 20);
    central.writeUInt32LE(options.zip64 ? 0xffffffff : size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(zip64.length, 30);
    central.writeUInt32LE(offset, 42);
    records.push(local, name, compressed);
    directory.push(central, name, zip64);
    offset += local.length + name.length + compressed.length;
  }
  const directoryBytes = Buffer.concat(directory);
  const entryCount = options.declaredEntryCount ?? parts.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entryCount, 8);
  end.writeUInt16LE(entryCount, 10);
  end.writeUInt32LE(directoryBytes.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...records, directoryBytes, end]);
}

/** The parts of a .xlsx written by SheetJS, to pack again with zipOf(). */
export function partsOf(xlsx: Buffer): ZipPart[] {
  const container = XLSX.CFB.read(xlsx, { type: 'buffer' });
  return container.FileIndex.flatMap((file: { type: number; content: Uint8Array }, index: number) =>
    file.type === 2
      ? [{ name: container.FullPaths[index].replace(/^[^/]*\//, ''), data: Buffer.from(file.content) }]
      : [],
  );
}

/** The parts SheetJS needs to find a workbook, enough to pass the container checks. */
export const WORKBOOK_PARTS: ZipPart[] = [
  { name: '[Content_Types].xml', data: Buffer.from('<Types/>') },
  { name: 'xl/workbook.xml', data: Buffer.from('<workbook/>') },
];
