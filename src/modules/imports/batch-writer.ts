// Writes one batch of an import in one transaction: its indicators (by the indicators
// module's upsert rules and quota), its rejected rows, and the job's checkpoint. A killed
// worker loses at most the batch in flight, and its retry resumes after the last committed
// checkpoint, so the collection ends exactly as after one clean run.
import type pg from 'pg';
import { inTransaction } from '../../db/transaction.ts';
import { upsertIndicatorBatch, type BatchTarget } from '../indicators/batch-upsert.ts';
import type { ParsedRow, RowError } from './import-rows.ts';
import { advanceImportCheckpoint, insertRowErrors, type BatchCounts } from './store.ts';

export interface ImportBatchTarget extends BatchTarget {
  jobId: string;
}

export class CheckpointMovedError extends Error {
  constructor() {
    super('another attempt of this import job advanced its checkpoint');
  }
}

/**
 * Applies `rows` (the parsed lines of one batch) and the rejected lines `invalid` in
 * one transaction, and moves the job's checkpoint from `processedBefore` to
 * `processedAfter`. Throws CheckpointMovedError when another attempt got there first.
 */
export async function writeBatch(
  pool: pg.Pool,
  target: ImportBatchTarget,
  rows: ParsedRow[],
  invalid: RowError[],
  processedBefore: number,
  processedAfter: number,
): Promise<BatchCounts> {
  return inTransaction(pool, async (client) => {
    const { rejected, ...written } = await upsertIndicatorBatch(client, target, rows);
    const errors: RowError[] = [
      ...invalid,
      ...rejected.map(({ row, code, message }) => ({
        line: row.line,
        value: row.raw,
        code,
        message,
        cells: row.cells,
      })),
    ];
    if (errors.length) await insertRowErrors(client, target.jobId, errors);
    const counts = { ...written, invalid: rejected.length + invalid.length };
    if (!(await advanceImportCheckpoint(client, target.jobId, processedBefore, processedAfter, counts))) {
      throw new CheckpointMovedError();
    }
    return counts;
  });
}
