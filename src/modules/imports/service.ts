// Import requests: checked here, then run by a pg-boss job (see runner.ts).
import { fromPrisma } from 'pg-boss';
import type { Collection, ImportJob, Prisma } from '../../generated/prisma/client.ts';
import type { ImportKind } from '../../generated/prisma/enums.ts';
import { NotFoundError, UnreadableFileError, ValidationError } from '../../errors.ts';
import { Queue, type ImportJobData } from '../../jobs/queues.ts';
import type { RequestContext, Services } from '../../services.ts';
import { uploadedFileName } from '../../stored-text.ts';
import { findManageableCollection } from '../collections/service.ts';
import { parseIndicatorProperties, type IndicatorPropertiesInput } from '../indicators/properties.ts';
import { loadThreatMatcher } from '../threats/service.ts';
import { checkMapping, type ColumnMapping, type IndicatorPropertyName } from './column-mapping.ts';
import { detectHeaderRow, suggestMapping, unknownThreatNames } from './column-sniffing.ts';
import { encodeImportOptions, type ImportOptions } from './options.ts';
import {
  addPreviewedTables,
  findStoredFile,
  insertFileSource,
  insertImportJob,
  insertTextSource,
  loadSourceContent,
  packSource,
  type PreviewedTable,
} from './store.ts';
import { detectFormat, readTable, type FileFormat } from './tabular/read-table.ts';
import { UnreadableFileError as UnreadableTableError, type Table, type TableRow } from './tabular/table.ts';

export interface TextImportInput {
  collectionId: string;
  text: string;
  properties?: IndicatorPropertiesInput | null;
}

/** Who asks, and what a request needs to store and queue an import. */
export type ImportRequestContext = RequestContext & Pick<Services, 'pool' | 'env' | 'boss'>;

const sourceExpiry = (ctx: ImportRequestContext) => new Date(Date.now() + ctx.env.IMPORT_SOURCE_TTL_HOURS * 3600_000);

/**
 * Stores the job and queues it in one transaction: no job without a worker to run it,
 * and no queued work for a job that was never stored.
 */
async function enqueueImport(
  ctx: ImportRequestContext,
  collection: Collection,
  kind: ImportKind,
  source: (tx: Prisma.TransactionClient) => Promise<{ id: string }>,
  options: ImportOptions,
): Promise<ImportJob> {
  return ctx.prisma.$transaction(async (tx) => {
    const { id: sourceId } = await source(tx);
    const job = await insertImportJob(tx, {
      collectionId: collection.id,
      requestedById: ctx.viewer.userId,
      kind,
      sourceId,
      options: encodeImportOptions(options) as object,
    });
    const data: ImportJobData = { importJobId: job.id };
    await ctx.boss.send(Queue.import, data, { db: fromPrisma(tx) });
    return job;
  });
}

export async function requestTextImport(ctx: ImportRequestContext, input: TextImportInput): Promise<ImportJob> {
  const collection = await findManageableCollection(ctx, input.collectionId);
  const size = Buffer.byteLength(input.text, 'utf8');
  if (!input.text.trim()) throw new ValidationError('input.text', 'The text is empty: give one observable per line');
  if (size > ctx.env.TEXT_IMPORT_MAX_BYTES) {
    throw new ValidationError(
      'input.text',
      `The text is ${size} bytes; at most ${ctx.env.TEXT_IMPORT_MAX_BYTES} are accepted (import a file instead)`,
    );
  }
  const properties = await parseIndicatorProperties(ctx.prisma, input.properties ?? {}, 'input.properties');
  const content = (await packSource(Buffer.from(input.text, 'utf8'))) as Uint8Array<ArrayBuffer>;
  return enqueueImport(
    ctx,
    collection,
    'TEXT',
    (tx) =>
      insertTextSource(tx, {
        collectionId: collection.id,
        uploadedById: ctx.viewer.userId,
        content,
        size,
        expiresAt: sourceExpiry(ctx),
      }),
    { properties },
  );
}

// ---- files

/** Rows the preview shows, and rows it reads to suggest a mapping. */
const PREVIEW_ROWS = 10;
const PREVIEW_SCAN_ROWS = 50;

export interface UploadedFile {
  name: string;
  content: Buffer;
}

export interface PreviewInput {
  collectionId: string;
  file?: UploadedFile | null;
  fileHandle?: string | null;
  sheet?: string | null;
}

export interface FilePreview {
  fileHandle: string;
  fileName: string | null;
  format: FileFormat;
  sheets: string[];
  sheet: string | null;
  headerRowDetected: boolean;
  header: string[] | null;
  rows: string[][];
  columns: {
    index: number;
    header: string | null;
    samples: string[];
    suggestedProperty: IndicatorPropertyName | null;
  }[];
  unknownThreats: string[];
}

/** A stored file of the collection, not yet expired; any other handle reads as missing. */
async function findFile(ctx: ImportRequestContext, collection: Collection, fileHandle: string) {
  const source = await findStoredFile(ctx.prisma, collection.id, fileHandle);
  if (!source) throw new NotFoundError('File (it may have expired: upload it again)');
  return source;
}

async function openTable(content: Buffer, sheet: string | null | undefined, maxRows?: number) {
  try {
    const table = await readTable(content, { sheet, maxRows });
    const rows: TableRow[] = [];
    for await (const row of table.rows) {
      rows.push(row);
      if (maxRows && rows.length >= maxRows) break;
    }
    return { table, rows };
  } catch (error) {
    if (error instanceof UnreadableTableError) throw new UnreadableFileError(error.code, error.message);
    throw error;
  }
}

/** The rows a mapping is checked against: the commented header and the first two rows. */
const MAPPING_CHECK_ROWS = 2;

function previewedTable(requested: string | null, table: Table, rows: TableRow[]): PreviewedTable {
  const checked = rows.slice(0, MAPPING_CHECK_ROWS).map((row) => row.cells.length);
  const columnCount = Math.max(table.commentedHeader?.cells.length ?? 0, ...checked, 1);
  return { requested, sheet: table.sheet, columnCount };
}

/** What an import request asking for `requested` will find; asking for the default sheet by name finds the same table. */
function learntTables(requested: string | null, table: Table, rows: TableRow[]): PreviewedTable[] {
  const learnt = previewedTable(requested, table, rows);
  return requested === null && table.sheet !== null ? [learnt, { ...learnt, requested: table.sheet }] : [learnt];
}

async function readTableShape(ctx: ImportRequestContext, sourceId: string, requested: string | null) {
  const content = await loadSourceContent(ctx.pool, sourceId);
  const { table, rows } = await openTable(content, requested, MAPPING_CHECK_ROWS);
  return previewedTable(requested, table, rows);
}

export async function previewFile(ctx: ImportRequestContext, input: PreviewInput): Promise<FilePreview> {
  const collection = await findManageableCollection(ctx, input.collectionId);
  if (!input.file === !input.fileHandle) {
    throw new ValidationError('input.file', 'Give either a file to upload or the fileHandle of one uploaded before');
  }
  const stored = input.fileHandle ? await findFile(ctx, collection, input.fileHandle) : null;
  const content = input.file?.content ?? (await loadSourceContent(ctx.pool, stored!.id));
  const { table, rows } = await openTable(content, input.sheet, PREVIEW_SCAN_ROWS);

  const headerRowDetected =
    !table.commentedHeader &&
    rows.length > 1 &&
    detectHeaderRow(
      rows[0].cells,
      rows.slice(1).map((r) => r.cells),
    );
  const header = headerRowDetected ? rows[0].cells : (table.commentedHeader?.cells ?? null);
  const dataRows = (headerRowDetected ? rows.slice(1) : rows).map((r) => r.cells);
  const width = Math.max(0, header?.length ?? 0, ...dataRows.map((cells) => cells.length));
  // Columns empty in the header and in every sampled row (Excel's trailing commas) are left out.
  let columnCount = width;
  while (columnCount > 0 && !header?.[columnCount - 1] && dataRows.every((cells) => !cells[columnCount - 1]))
    columnCount -= 1;
  const threats = await loadThreatMatcher(ctx.prisma);
  const mapping = suggestMapping(header, dataRows, threats).slice(0, columnCount);

  const learnt = learntTables(input.sheet ?? null, table, rows);
  const fileName = stored?.filename ?? uploadedFileName(input.file!.name);
  let fileHandle: string;
  if (stored) {
    fileHandle = stored.id;
    const known = new Set(stored.previewedTables.map((t) => t.requested));
    const news = learnt.filter((t) => !known.has(t.requested));
    if (news.length) await addPreviewedTables(ctx.pool, stored.id, news);
  } else {
    fileHandle = await insertFileSource(ctx.pool, {
      collectionId: collection.id,
      uploadedById: ctx.viewer.userId,
      filename: fileName,
      content,
      expiresAt: sourceExpiry(ctx),
      previewedTables: learnt,
    });
  }
  return {
    fileHandle,
    fileName,
    format: detectFormat(content),
    sheets: table.sheets,
    sheet: table.sheet,
    headerRowDetected,
    header: header ? header.slice(0, columnCount) : null,
    rows: dataRows.slice(0, PREVIEW_ROWS).map((cells) => Array.from({ length: columnCount }, (_, i) => cells[i] ?? '')),
    columns: Array.from({ length: columnCount }, (_, index) => ({
      index,
      header: header?.[index] || null,
      samples: dataRows
        .map((cells) => cells[index] ?? '')
        .filter(Boolean)
        .slice(0, 5),
      suggestedProperty: mapping[index] ?? null,
    })),
    unknownThreats: unknownThreatNames(dataRows, mapping, threats),
  };
}

export interface FileImportInput {
  collectionId: string;
  fileHandle: string;
  mapping: ColumnMapping;
  ignoreFirstLine: boolean;
  sheet?: string | null;
  defaults?: IndicatorPropertiesInput | null;
}

export async function requestFileImport(ctx: ImportRequestContext, input: FileImportInput): Promise<ImportJob> {
  const collection = await findManageableCollection(ctx, input.collectionId);
  const source = await findFile(ctx, collection, input.fileHandle);
  const requested = input.sheet ?? null;
  // The file is read again only for a sheet no preview showed; the job reads it once.
  const { sheet, columnCount } =
    source.previewedTables.find((t) => t.requested === requested) ?? (await readTableShape(ctx, source.id, requested));
  const problem = checkMapping(input.mapping, columnCount);
  if (problem) throw new ValidationError('input.mapping', problem);
  const properties = await parseIndicatorProperties(ctx.prisma, input.defaults ?? {}, 'input.defaults');
  return enqueueImport(ctx, collection, 'FILE', async () => source, {
    properties,
    file: { mapping: input.mapping, ignoreFirstLine: input.ignoreFirstLine, sheet },
  });
}
