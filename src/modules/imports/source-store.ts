// Import sources (uploaded files, pasted texts) live in PostgreSQL so that any worker on
// any host can run the import. They are stored gzip-compressed (level 1: fast, and feeds
// shrink 5-10x), in a column PostgreSQL does not compress again: a 100 MB CSV then costs
// a few MB on the wire and in memory.
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gzip, constants } from 'node:zlib';
import type pg from 'pg';

const compress = promisify(gzip);
const decompress = promisify(gunzip);

export const packSource = (content: Buffer) => compress(content, { level: constants.Z_BEST_SPEED });

export interface NewFileSource {
  collectionId: string;
  uploadedById: string;
  filename: string;
  content: Buffer;
  expiresAt: Date;
}

export async function storeFileSource(pool: pg.Pool, source: NewFileSource): Promise<string> {
  const id = randomUUID();
  await pool.query(
    `INSERT INTO import_sources (id, collection_id, uploaded_by_id, kind, filename, content, size, expires_at)
     VALUES ($1, $2, $3, 'FILE', $4, $5, $6, $7)`,
    [
      id,
      source.collectionId,
      source.uploadedById,
      source.filename,
      await packSource(source.content),
      source.content.length,
      source.expiresAt,
    ],
  );
  return id;
}

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
