// The containers of Excel workbooks, read from their bytes: .xlsx is a ZIP archive, .xls an
// OLE2 compound file (CFB). Only headers and the ZIP central directory are read here, with
// bounds checks on every offset, so this is safe to run on untrusted uploads in the main
// thread; everything else is parsed in the worker.
import { constants as zlibConstants, inflateRawSync } from 'node:zlib';
import { UnreadableFileError } from './table.ts';

export type WorkbookFormat = 'xlsx' | 'xls';

export interface ContainerLimits {
  /** Most entries a .xlsx (ZIP) may hold. */
  maxZipEntries: number;
  /** Most bytes the entries of a .xlsx may declare uncompressed, and the largest .xls. */
  maxUncompressedBytes: number;
}

export interface ZipEntry {
  name: string;
  /** General purpose bit flags (bit 0: encrypted). */
  flags: number;
  /** 0 stored, 8 deflated. */
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

const ZIP_LOCAL_HEADER = 0x04034b50;
const ZIP_CENTRAL_HEADER = 0x02014b50;
const ZIP_END_OF_DIRECTORY = 0x06054b50;
const ZIP64_EXTRA_FIELD = 0x0001;
const CFB_SIGNATURE = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
const CFB_HEADER_BYTES = 512;
const INFLATE_CHUNK_BYTES = 1 << 20;

const NOT_A_WORKBOOK = 'the file is not an Excel workbook (.xlsx or .xls)';
const DAMAGED_ZIP = 'the workbook is damaged: its ZIP structure is invalid';

/**
 * The workbook format of `content`, after checking its container against `limits`; throws
 * UnreadableFileError for empty, foreign, damaged, encrypted or oversized files.
 */
export function checkWorkbookContainer(content: Buffer, limits: ContainerLimits): WorkbookFormat {
  if (content.length === 0) throw new UnreadableFileError('EMPTY_FILE', 'the file is empty');
  if (content.length >= 4 && content.readUInt32LE(0) === ZIP_LOCAL_HEADER) {
    checkXlsxArchive(readZipDirectory(content, limits.maxZipEntries), limits);
    return 'xlsx';
  }
  if (content.subarray(0, CFB_SIGNATURE.length).equals(CFB_SIGNATURE)) {
    checkCompoundFileHeader(content, limits);
    return 'xls';
  }
  throw new UnreadableFileError('UNSUPPORTED_FORMAT', NOT_A_WORKBOOK);
}

function checkXlsxArchive(entries: ZipEntry[], limits: ContainerLimits): void {
  const names = new Set(entries.map((entry) => entry.name.toLowerCase()));
  if (!names.has('[content_types].xml') || !names.has('xl/workbook.xml')) {
    throw new UnreadableFileError(
      'UNSUPPORTED_FORMAT',
      names.has('xl/workbook.bin')
        ? 'binary .xlsb workbooks are not supported; save it as .xlsx and upload it again'
        : `${NOT_A_WORKBOOK}: it is a ZIP archive without a workbook`,
    );
  }
  const declaredBytes = entries.reduce((total, entry) => total + entry.uncompressedSize, 0);
  if (declaredBytes > limits.maxUncompressedBytes) {
    throw new UnreadableFileError(
      'WORKBOOK_TOO_LARGE',
      `the workbook unpacks to ${formatBytes(declaredBytes)}, more than the ${formatBytes(limits.maxUncompressedBytes)} allowed; split it into smaller files`,
    );
  }
  if (entries.some((entry) => entry.flags & 1)) throw encryptedWorkbookError();
}

export function encryptedWorkbookError(): UnreadableFileError {
  return new UnreadableFileError(
    'ENCRYPTED_WORKBOOK',
    'the workbook is password-protected; save it without a password and upload it again',
  );
}

/** The entries of a ZIP archive, from its central directory; nothing is inflated. */
export function readZipDirectory(content: Buffer, maxEntries: number): ZipEntry[] {
  const end = findEndOfDirectory(content);
  if (end.entryCount > maxEntries) {
    throw new UnreadableFileError(
      'WORKBOOK_TOO_LARGE',
      `the workbook holds ${end.entryCount} files, more than the ${maxEntries} allowed`,
    );
  }
  const entries: ZipEntry[] = [];
  let offset = end.directoryOffset;
  for (let index = 0; index < end.entryCount; index += 1) {
    if (offset + 46 > content.length || content.readUInt32LE(offset) !== ZIP_CENTRAL_HEADER) {
      throw new UnreadableFileError('MALFORMED_FILE', DAMAGED_ZIP);
    }
    const nameLength = content.readUInt16LE(offset + 28);
    const extraLength = content.readUInt16LE(offset + 30);
    const commentLength = content.readUInt16LE(offset + 32);
    const nameStart = offset + 46;
    const extraStart = nameStart + nameLength;
    const next = extraStart + extraLength + commentLength;
    if (next > content.length) throw new UnreadableFileError('MALFORMED_FILE', DAMAGED_ZIP);
    const entry: ZipEntry = {
      // OOXML part names are ASCII; latin1 maps bytes to characters as SheetJS does.
      name: content.toString('latin1', nameStart, extraStart),
      flags: content.readUInt16LE(offset + 8),
      method: content.readUInt16LE(offset + 10),
      compressedSize: content.readUInt32LE(offset + 20),
      uncompressedSize: content.readUInt32LE(offset + 24),
      localHeaderOffset: content.readUInt32LE(offset + 42),
    };
    applyZip64Sizes(entry, content.subarray(extraStart, extraStart + extraLength));
    entries.push(entry);
    offset = next;
  }
  return entries;
}

function findEndOfDirectory(content: Buffer): { entryCount: number; directoryOffset: number } {
  // The end record (22 bytes) is followed by a comment of at most 65,535 bytes. Its ZIP64
  // variant only matters past 65,535 entries or 4 GiB, far beyond the limits.
  const lowest = Math.max(0, content.length - 22 - 0xffff);
  for (let offset = content.length - 22; offset >= lowest; offset -= 1) {
    if (content.readUInt32LE(offset) !== ZIP_END_OF_DIRECTORY) continue;
    const directoryOffset = content.readUInt32LE(offset + 16);
    if (directoryOffset > offset) break;
    return { entryCount: content.readUInt16LE(offset + 10), directoryOffset };
  }
  throw new UnreadableFileError('MALFORMED_FILE', DAMAGED_ZIP);
}

/** Sizes and offsets too large for 32 bits are 0xFFFFFFFF, the real value in the ZIP64 extra field. */
function applyZip64Sizes(entry: ZipEntry, extra: Buffer): void {
  for (let offset = 0; offset + 4 <= extra.length;) {
    const id = extra.readUInt16LE(offset);
    const size = extra.readUInt16LE(offset + 2);
    if (id === ZIP64_EXTRA_FIELD) {
      let field = offset + 4;
      const fieldEnd = Math.min(field + size, extra.length);
      for (const key of ['uncompressedSize', 'compressedSize', 'localHeaderOffset'] as const) {
        if (entry[key] !== 0xffffffff || field + 8 > fieldEnd) continue;
        entry[key] = readUInt64(extra, field);
        field += 8;
      }
      return;
    }
    offset += 4 + size;
  }
}

/**
 * The bytes of a ZIP entry. Inflation stops at the size the central directory declares (the
 * size the limits were checked against), so an entry that lies about its size cannot grow
 * past it.
 */
export function readZipEntry(content: Buffer, entry: ZipEntry): Buffer {
  const header = entry.localHeaderOffset;
  if (header + 30 > content.length || content.readUInt32LE(header) !== ZIP_LOCAL_HEADER) {
    throw new UnreadableFileError('MALFORMED_FILE', DAMAGED_ZIP);
  }
  // Sizes come from the central directory: local headers of streamed archives hold zeros.
  const dataStart = header + 30 + content.readUInt16LE(header + 26) + content.readUInt16LE(header + 28);
  const dataEnd = dataStart + entry.compressedSize;
  if (dataEnd > content.length) throw new UnreadableFileError('MALFORMED_FILE', DAMAGED_ZIP);
  const data = content.subarray(dataStart, dataEnd);
  if (entry.method === 0) return data;
  if (entry.method !== 8) {
    throw new UnreadableFileError(
      'MALFORMED_FILE',
      `the workbook uses an unsupported ZIP compression method (${entry.method})`,
    );
  }
  const inflated = inflateAtMost(data, entry.uncompressedSize);
  if (inflated?.length !== entry.uncompressedSize) {
    throw new UnreadableFileError(
      'MALFORMED_FILE',
      `the workbook is damaged: ${entry.name} does not unpack to the size its ZIP directory declares`,
    );
  }
  return inflated;
}

/** Null when the data is not valid deflate or inflates to more than `size` bytes. */
function inflateAtMost(data: Buffer, size: number): Buffer | null {
  try {
    return inflateRawSync(data, {
      maxOutputLength: Math.max(1, size),
      // Larger output chunks than zlib's 16 KiB halve the time for big sheets.
      chunkSize: Math.min(Math.max(size, zlibConstants.Z_MIN_CHUNK), INFLATE_CHUNK_BYTES),
    });
  } catch {
    return null;
  }
}

function checkCompoundFileHeader(content: Buffer, limits: ContainerLimits): void {
  if (content.length > limits.maxUncompressedBytes) {
    throw new UnreadableFileError(
      'WORKBOOK_TOO_LARGE',
      `the workbook is ${formatBytes(content.length)}, more than the ${formatBytes(limits.maxUncompressedBytes)} allowed; split it into smaller files`,
    );
  }
  const damaged = new UnreadableFileError(
    'MALFORMED_FILE',
    'the workbook is damaged: its compound file header is invalid',
  );
  if (content.length < CFB_HEADER_BYTES) throw damaged;
  const majorVersion = content.readUInt16LE(0x1a);
  const sectorShift = content.readUInt16LE(0x1e);
  const validSectors = (majorVersion === 3 && sectorShift === 9) || (majorVersion === 4 && sectorShift === 12);
  if (!validSectors || content.readUInt16LE(0x1c) !== 0xfffe || content.readUInt16LE(0x20) !== 6) {
    throw damaged;
  }
  // Sectors after the header, at most (version 4 pads the header to a whole 4,096-byte sector).
  const sectorCount = Math.ceil((content.length - CFB_HEADER_BYTES) / (1 << sectorShift));
  const allocationSectors = content.readUInt32LE(0x2c);
  const extraAllocationSectors = content.readUInt32LE(0x48);
  if (sectorCount < 1 || allocationSectors > sectorCount || extraAllocationSectors > sectorCount) {
    throw damaged;
  }
}

function readUInt64(buffer: Buffer, offset: number): number {
  // Past 2^53 the value is only approximate, and far beyond any limit anyway.
  return Number(buffer.readBigUInt64LE(offset));
}

function formatBytes(bytes: number): string {
  if (bytes >= 1 << 30) return `${(bytes / (1 << 30)).toFixed(1)} GiB`;
  if (bytes >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
  return `${bytes} bytes`;
}
