// Reads the .xlsx and .xls workbooks users upload as a Table. Workbooks are untrusted: their
// container is checked from the bytes first, then SheetJS parses them in a worker thread with a
// memory limit and a timeout, so a hostile file can cost that worker, never the service.
import { Worker } from 'node:worker_threads';
import { checkWorkbookContainer, type ContainerLimits } from './spreadsheet-container.ts';
import type { SpreadsheetJob, SpreadsheetWorkerMessage } from './spreadsheet.worker.ts';
import { UnreadableFileError, type Table, type TableRow } from './table.ts';

export interface SpreadsheetLimits extends ContainerLimits {
  /** V8 heap of the parsing worker (`resourceLimits.maxOldGenerationSizeMb`), in MiB. */
  workerHeapMb: number;
  /** Time to start the worker and parse the workbook. */
  parseTimeoutMs: number;
  /** A worker left waiting this long for the next request for rows is stopped. */
  idleTimeoutMs: number;
}

/** The defaults; `readSpreadsheet(..., { limits })` overrides them one by one. */
export const SPREADSHEET_LIMITS: Readonly<SpreadsheetLimits> = Object.freeze({
  maxZipEntries: 10_000,
  maxUncompressedBytes: 1024 ** 3,
  workerHeapMb: 1536,
  // 500,000 rows parse in ~15 s on the development machines.
  parseTimeoutMs: 120_000,
  idleTimeoutMs: 10 * 60_000,
});

/** Rows per message from the worker; the main thread holds at most two such chunks. */
export const ROWS_PER_MESSAGE = 5_000;

export interface ReadSpreadsheetOptions {
  /** The sheet to read; by default the first visible sheet with data. */
  sheet?: string | null;
  /** Read at most this many data rows (a preview); parsing stops soon after them too. */
  maxRows?: number;
  limits?: Partial<SpreadsheetLimits>;
}

type OpenedMessage = Extract<SpreadsheetWorkerMessage, { kind: 'opened' }>;
type RowsMessage = Extract<SpreadsheetWorkerMessage, { kind: 'rows' }>;

const WORKER_URL = new URL('./spreadsheet.worker.ts', import.meta.url);
// A worker thread starts without its parent's module hooks (tsx's under `node --import tsx`,
// Vite's under vitest), and `--import tsx` registers nothing in a worker thread on Node 20, so
// the worker registers tsx through its API before its TypeScript entry loads.
const REGISTER_TSX = `data:text/javascript,${encodeURIComponent(
  `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))}; register();`,
)}`;

/**
 * A .xlsx or .xls workbook (told apart by its bytes, not its name) as a Table. `rows` can be
 * read once; stopping early (`break`) stops the worker.
 */
export async function readSpreadsheet(content: Buffer, options: ReadSpreadsheetOptions = {}): Promise<Table> {
  const limits = { ...SPREADSHEET_LIMITS, ...options.limits };
  const format = checkWorkbookContainer(content, limits);
  const worker = new SpreadsheetWorker(
    {
      content,
      format,
      sheet: options.sheet ?? null,
      maxRows: options.maxRows ?? null,
      maxZipEntries: limits.maxZipEntries,
      rowsPerMessage: ROWS_PER_MESSAGE,
    },
    limits,
  );
  const { sheets, sheet, commentedHeader } = await worker.opened;
  return { sheets, sheet, commentedHeader, rows: streamRows(worker) };
}

async function* streamRows(worker: SpreadsheetWorker): AsyncGenerator<TableRow> {
  try {
    let chunk = await worker.nextRows();
    for (;;) {
      // The worker prepares the next chunk while the consumer works through this one.
      const next = chunk.done ? null : worker.nextRows();
      yield* chunk.rows;
      if (!next) return;
      chunk = await next;
    }
  } finally {
    worker.stop();
  }
}

interface PendingReply {
  resolve(message: OpenedMessage | RowsMessage): void;
  reject(error: Error): void;
}

/** One parsing worker and the reply it owes: the opened workbook, or the next chunk of rows. */
class SpreadsheetWorker {
  readonly opened: Promise<OpenedMessage>;
  readonly #worker: Worker;
  readonly #limits: SpreadsheetLimits;
  #pending: PendingReply | null = null;
  #failure: Error | null = null;
  #timer: NodeJS.Timeout | undefined;

  constructor(job: SpreadsheetJob, limits: SpreadsheetLimits) {
    this.#limits = limits;
    this.#worker = new Worker(WORKER_URL, {
      workerData: job,
      execArgv: ['--import', REGISTER_TSX],
      resourceLimits: { maxOldGenerationSizeMb: limits.workerHeapMb },
    });
    this.#worker.on('message', (message: SpreadsheetWorkerMessage) => this.#receive(message));
    this.#worker.on('error', (error: Error & { code?: string }) =>
      this.#fail(
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new UnreadableFileError(
              'WORKBOOK_TOO_LARGE',
              `reading the workbook needs more than the ${limits.workerHeapMb} MiB of memory allowed; split it into smaller files`,
            )
          : error,
      ),
    );
    this.#worker.on('exit', (code) => {
      if (this.#pending) this.#fail(new Error(`the spreadsheet worker stopped (exit code ${code})`));
    });
    this.opened = this.#expectReply() as Promise<OpenedMessage>;
    this.#startTimer(
      limits.parseTimeoutMs,
      () =>
        new UnreadableFileError(
          'PARSE_TIMEOUT',
          `reading the workbook took longer than ${limits.parseTimeoutMs / 1000} s; split it into smaller files`,
        ),
    );
  }

  nextRows(): Promise<RowsMessage> {
    if (this.#failure) return Promise.reject(this.#failure);
    const rows = this.#expectReply() as Promise<RowsMessage>;
    this.#worker.postMessage('next');
    // Prefetched chunks are awaited later: a failure meanwhile must not count as unhandled.
    rows.catch(() => {});
    return rows;
  }

  stop(): void {
    this.#fail(new Error('the spreadsheet worker was stopped'));
  }

  #expectReply(): Promise<OpenedMessage | RowsMessage> {
    clearTimeout(this.#timer);
    // Keep the process alive only while someone waits for the worker.
    this.#worker.ref();
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject };
    });
  }

  #receive(message: SpreadsheetWorkerMessage): void {
    if (this.#failure) return; // a reply that comes after a timeout
    if (message.kind === 'failed') {
      this.#fail(new UnreadableFileError(message.code, message.message));
      return;
    }
    const pending = this.#pending;
    this.#pending = null;
    clearTimeout(this.#timer);
    this.#worker.unref();
    if (message.kind === 'opened' || !message.done) {
      const idleMs = this.#limits.idleTimeoutMs;
      this.#startTimer(idleMs, () => new Error(`the rows of the workbook were not read for ${idleMs / 1000} s`));
    }
    pending?.resolve(message);
  }

  #startTimer(ms: number, failure: () => Error): void {
    this.#timer = setTimeout(() => this.#fail(failure()), ms).unref();
  }

  /** Settles the pending reply with the first failure and ends the worker. */
  #fail(error: Error): void {
    clearTimeout(this.#timer);
    this.#failure ??= error;
    this.#pending?.reject(this.#failure);
    this.#pending = null;
    void this.#worker.terminate();
  }
}
