// Every query of the imports module's tables: import_sources (uploaded files and pasted
// texts), import_jobs and import_row_errors.
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { constants, gunzip, gzip } from 'node:zlib';
import type pg from 'pg';
import { arrayLiteral } from '../../db/array-literal.ts';
import type { Selection } from '../../db/listing.ts';
import type { Db } from '../../db/prisma.ts';
import type { Prisma } from '../../generated/prisma/client.ts';
import type { ImportKind } from '../../generated/prisma/enums.ts';
import type { Access } from '../communities/access.ts';
import { importJobFilter } from '../communities/visibility.ts';
import type { RowError } from './import-rows.ts';

/** What a GraphQL field asks to load with a row (Pothos' `query`). */

// ---- sources

// Sources live in PostgreSQL so that any worker on any host can run the import. They are
// stored gzip-compressed (level 1: fast, and feeds shrink 5-10x), in a column PostgreSQL
// does not compress again: a 100 MB CSV then costs a few MB on the wire and in memory.
const compress = promisify(gzip);
const decompress = promisify(gunzip);

export const packSource = (content: Buffer) => compress(content, { level: constants.Z_BEST_SPEED });

/** What a preview learnt of one table of a stored file, so that an import request need not read the file again. */
export interface PreviewedTable {
  /** The sheet asked for (null: the default one). */
  requested: string | null;
  /** The sheet read (null for CSV). */
  sheet: string | null;
  /** Columns of the header and the first data rows: what a mapping is checked against. */
  columnCount: number;
}

export interface NewFileSource {
  collectionId: string;
  uploadedById: string;
  filename: string;
  content: Buffer;
  expiresAt: Date;
  previewedTables: PreviewedTable[];
}

export async function insertFileSource(pool: pg.Pool, source: NewFileSource): Promise<string> {
  const id = randomUUID();
  await pool.query(
    `INSERT INTO import_sources (id, collection_id, uploaded_by_id, kind, filename, content, size, expires_at,
                                 previewed_tables)
     VALUES ($1, $2, $3, 'FILE', $4, $5, $6, $7, $8)`,
    [
      id,
      source.collectionId,
      source.uploadedById,
      source.filename,
      await packSource(source.content),
      source.content.length,
      source.expiresAt,
      JSON.stringify(source.previewedTables),
    ],
  );
  return id;
}

export async function addPreviewedTables(pool: pg.Pool, sourceId: string, tables: PreviewedTable[]): Promise<void> {
  await pool.query('UPDATE import_sources SET previewed_tables = previewed_tables || $2::jsonb WHERE id = $1', [
    sourceId,
    JSON.stringify(tables),
  ]);
}

export const insertTextSource = (
  tx: Prisma.TransactionClient,
  source: {
    collectionId: string;
    uploadedById: string;
    content: Uint8Array<ArrayBuffer>;
    size: number;
    expiresAt: Date;
  },
) => tx.importSource.create({ data: { ...source, kind: 'TEXT' }, select: { id: true } });

export async function loadSourceContent(pool: pg.Pool, sourceId: string): Promise<Buffer> {
  // base64 (decoded natively by Node) instead of pg's hex text for bytea: a third smaller
  // on the wire and several times faster to decode.
  const { rows } = await pool.query<{ content: string }>(
    `SELECT encode(content, 'base64') AS content FROM import_sources WHERE id = $1`,
    [sourceId],
  );
  if (!rows.length) throw new Error(`import source ${sourceId} is gone`);
  return decompress(Buffer.from(rows[0].content, 'base64'));
}

/** A stored file of the collection, not yet expired, without its content; null for any other id. */
export async function findStoredFile(db: Db, collectionId: string, id: string) {
  const source = await db.importSource.findFirst({
    where: { id, collectionId, kind: 'FILE', expiresAt: { gt: new Date() } },
    select: { id: true, filename: true, previewedTables: true },
  });
  return source && { ...source, previewedTables: source.previewedTables as unknown as PreviewedTable[] };
}

export const findUploadedFile = (
  db: Db,
  query: Selection<Prisma.ImportSourceSelect, Prisma.ImportSourceInclude>,
  id: string,
) => db.importSource.findUniqueOrThrow({ ...query, where: { id } });

export const deleteImportSource = (db: Db, id: string) => db.importSource.delete({ where: { id } });

/** Sources past their expiry that no queued or running import still needs. */
export async function deleteExpiredImportSources(db: Db): Promise<number> {
  const { count } = await db.importSource.deleteMany({
    where: { expiresAt: { lt: new Date() }, jobs: { none: { status: { in: ['QUEUED', 'RUNNING'] } } } },
  });
  return count;
}

// ---- jobs

export const insertImportJob = (
  tx: Prisma.TransactionClient,
  job: { collectionId: string; requestedById: string; kind: ImportKind; sourceId: string; options: object },
) => tx.importJob.create({ data: job });

export const findImportJob = (db: Db, query: Selection<Prisma.ImportJobSelect, Prisma.ImportJobInclude>, id: string) =>
  db.importJob.findUniqueOrThrow({ ...query, where: { id } });

/** The job if the viewer may see it, else null. */
export const findVisibleImportJob = (db: Db, access: Access, id: string) =>
  db.importJob.findFirst({ where: { id, ...importJobFilter(access) } });

const withCollection = { collection: { select: { communityId: true, name: true } } } as const;

/** The job with what a worker needs of its collection. */
export const findImportJobToRun = (db: Db, id: string) =>
  db.importJob.findUnique({ where: { id }, include: withCollection });

/** Marks a queued or running job as running; false when it has ended meanwhile (a finished job never runs again). */
export async function markImportJobRunning(db: Db, id: string, startedAt: Date): Promise<boolean> {
  const { count } = await db.importJob.updateMany({
    where: { id, status: { in: ['QUEUED', 'RUNNING'] } },
    data: { status: 'RUNNING', startedAt },
  });
  return count > 0;
}

export const setImportJobTotal = (db: Db, id: string, total: number) =>
  db.importJob.update({ where: { id }, data: { total } });

export const setImportJobHeader = (db: Db, id: string, header: string[]) =>
  db.importJob.update({ where: { id }, data: { header } });

/** Ends a running job as succeeded and lets its source go; undefined when another attempt ended it first. */
export async function markImportJobSucceeded(tx: Prisma.TransactionClient, id: string, total: number) {
  const [ended] = await tx.importJob.updateManyAndReturn({
    where: { id, status: 'RUNNING' },
    data: { status: 'SUCCEEDED', finishedAt: new Date(), total, sourceId: null },
  });
  return ended;
}

/** Ends a queued or running job as failed; undefined when it had ended already. */
export async function markImportJobFailed(tx: Prisma.TransactionClient, id: string, failureMessage: string) {
  const [failed] = await tx.importJob.updateManyAndReturn({
    where: { id, status: { in: ['QUEUED', 'RUNNING'] } },
    data: { status: 'FAILED', finishedAt: new Date(), failureMessage },
    include: withCollection,
  });
  return failed;
}

export interface BatchCounts {
  created: number;
  updated: number;
  unchanged: number;
  invalid: number;
}

/**
 * Moves the job's checkpoint from `processedBefore` to `processedAfter` and adds the
 * batch's counts; false when the checkpoint was not at `processedBefore`.
 */
export async function advanceImportCheckpoint(
  client: pg.PoolClient,
  jobId: string,
  processedBefore: number,
  processedAfter: number,
  counts: BatchCounts,
): Promise<boolean> {
  const moved = await client.query(
    `UPDATE import_jobs SET processed = $3, created = created + $4, updated = updated + $5,
            unchanged = unchanged + $6, invalid = invalid + $7
      WHERE id = $1 AND processed = $2`,
    [jobId, processedBefore, processedAfter, counts.created, counts.updated, counts.unchanged, counts.invalid],
  );
  return moved.rowCount === 1;
}

// ---- rejected rows

/** Rejected values are stored for people to read: bounded, and without NUL (PostgreSQL text cannot hold it). */
const printable = (value: string) => value.slice(0, 1000).replace(/\u0000/g, '\uFFFD');

/** Stores the rejected rows of a batch; a row stored by an earlier attempt is kept. */
export async function insertRowErrors(client: pg.PoolClient, jobId: string, errors: RowError[]): Promise<void> {
  await client.query(
    `INSERT INTO import_row_errors (job_id, line, value, code, message, cells)
     SELECT $1::uuid, u.line, u.value, u.code, u.message, u.cells::text[]
       FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[]) AS u(line, value, code, message, cells)
     ON CONFLICT DO NOTHING`,
    [
      jobId,
      errors.map((e) => e.line),
      errors.map((e) => printable(e.value)),
      errors.map((e) => e.code),
      errors.map((e) => e.message),
      errors.map((e) => (e.cells ? arrayLiteral(e.cells.map(printable)) : null)),
    ],
  );
}

/** Up to `take` rejected rows of the job after line `afterLine`, in line order. */
export const rowErrorsAfter = (db: Db, jobId: string, afterLine: number, take: number) =>
  db.importRowError.findMany({ where: { jobId, line: { gt: afterLine } }, orderBy: { line: 'asc' }, take });
