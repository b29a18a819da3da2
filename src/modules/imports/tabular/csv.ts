// Reads CSV files as IOC feeds and analysts really write them: any of four delimiters,
// `#` banner and trailer comments, a header that is itself a comment, BOMs, UTF-16 from
// Excel, CR/LF/CRLF, ragged rows.
//
// A small state-machine parser rather than @fast-csv/parse: rows must carry the line they
// start on (quoted newlines make a row span lines) and broken quoting must be reported
// with a line, neither of which fast-csv gives; comment lines must be skipped only at the
// start of a row, never inside a quoted field.
//
// Quoting is lenient: a quote opens a quoted field only as the field's first non-blank
// character (so `a, "b,c"` is two cells), a quote inside an unquoted field is a literal
// character (`5" disk`), and text after a closing quote is kept (`"a"b` is `ab`).
// A quoted field that is never closed is an error, not a guess: the rows before it are
// yielded, then reading stops with MALFORMED_FILE `line N: unterminated quoted field`, N
// being the line of the opening quote. Everything after that quote would have been one
// cell, so no later row can be trusted.
import { isCommentedHeader, UnreadableFileError, type Table, type TableRow } from './table.ts';

export type CsvDelimiter = ',' | ';' | '\t' | '|';

export interface CsvTable extends Table {
  /**
   * The delimiter detected from the first data lines; null when they have none (a plain
   * list), and then a line is one cell even if a later URL in it has a comma.
   */
  delimiter: CsvDelimiter | null;
}

type TextEncoding = 'utf-8' | 'utf-16le' | 'utf-16be';

/** In the order preferred when two delimiters split the sample equally well. */
const DELIMITERS: readonly CsvDelimiter[] = [',', ';', '\t', '|'];

/**
 * Bytes decoded and parsed at a time: rows are yielded chunk by chunk, never all at once.
 * Small enough that a chunk's text (up to 64 KB as UTF-16) stays out of V8's large-object
 * space: 1 MiB chunks made parsing three times slower, mostly in garbage collection.
 */
const CHUNK_BYTES = 32 * 1024;
/**
 * A row still open after this many characters is broken, not long: Excel cells hold at most
 * 32,767 characters. Without a limit an unclosed quote would be carried (and re-parsed)
 * chunk after chunk to the end of the file.
 */
const MAX_ROW_CHARS = 1 << 20;
/** The first bytes that must look like text. */
const SNIFF_BYTES = 8 * 1024;
/** Bytes read first to find the data lines; doubled while they hold only comments. */
const SAMPLE_BYTES = 64 * 1024;
/** Data lines the delimiter is detected from. */
const SAMPLE_DATA_LINES = 50;

const TAB = 9;
const LF = 10;
const CR = 13;
const SPACE = 32;
const QUOTE = 34;
const HASH = 35;
/** The delimiter code of a one-column file: no character has it. */
const NO_DELIMITER = -1;

const LINE_BREAK = /\r\n|\r|\n/;
const BLANK_LINE = /^[ \t]*$/;
const COMMENT_LINE = /^[ \t]*#/;
const COMMENT_MARK = /^[ \t]*#+[ \t]*/;

export function readCsv(content: Buffer): CsvTable {
  const encoding = detectEncoding(content);
  rejectBinary(content, encoding);
  const { dataLines, commentAbove } = readPreamble(content, encoding);
  if (dataLines.length === 0) {
    const isEmpty = new TextDecoder(encoding).decode(content).trim() === '';
    throw new UnreadableFileError(
      'EMPTY_FILE',
      isEmpty ? 'the file is empty' : 'the file has no data rows, only comment (#) and blank lines',
    );
  }
  const delimiter = detectDelimiter(dataLines);
  const delimiterCode = delimiter === null ? NO_DELIMITER : delimiter.charCodeAt(0);
  return {
    sheets: [],
    sheet: null,
    delimiter,
    commentedHeader: commentAbove && readCommentedHeader(commentAbove, delimiterCode),
    // Each iteration reads the file again from the start (a preview, then the import).
    rows: asyncIterable(() => readRows(content, encoding, delimiterCode)),
  };
}

function detectEncoding(content: Buffer): TextEncoding {
  if (content[0] === 0xff && content[1] === 0xfe) return 'utf-16le';
  if (content[0] === 0xfe && content[1] === 0xff) return 'utf-16be';
  return 'utf-8';
}

/**
 * Text has no NUL and almost no control characters; images, archives, workbooks and
 * UTF-16 without a BOM have them in their first bytes.
 */
function rejectBinary(content: Buffer, encoding: TextEncoding): void {
  const head = new TextDecoder(encoding).decode(content.subarray(0, SNIFF_BYTES));
  let controls = 0;
  for (let i = 0; i < head.length; i++) {
    const code = head.charCodeAt(i);
    if (code === 0) throw notText('it contains NUL bytes');
    // Tab, LF, VT, FF and CR are text; so is the DOS end-of-file mark (0x1A).
    if ((code < 32 && (code < 9 || code > 13) && code !== 0x1a) || code === 0x7f) controls++;
  }
  // A stray ESC pasted from a terminal is tolerated; binary formats have many.
  if (controls > Math.max(4, head.length / 100)) throw notText('it contains binary data');
}

function notText(reason: string): UnreadableFileError {
  return new UnreadableFileError(
    'UNSUPPORTED_FORMAT',
    `this is not a text (CSV) file: ${reason} in its first bytes. Save it as CSV (UTF-8) and try again.`,
  );
}

interface CommentLine {
  line: number;
  text: string;
}

/**
 * The first data lines (for the delimiter) and the comment line right above the first of
 * them (a possible header). Lines are split naively here, ignoring quotes: a multi-line
 * quoted field in the sample only adds a stray line to the delimiter statistics.
 */
function readPreamble(
  content: Buffer,
  encoding: TextEncoding,
): { dataLines: string[]; commentAbove: CommentLine | null } {
  for (let size = SAMPLE_BYTES; ; size *= 2) {
    const isWholeFile = size >= content.length;
    const lines = new TextDecoder(encoding).decode(content.subarray(0, size)).split(LINE_BREAK);
    if (!isWholeFile) lines.pop(); // cut by the sample
    // The header comment must be right above the data: a blank line in between ends it.
    const dataLines: string[] = [];
    let commentAbove: CommentLine | null = null;
    for (let index = 0; index < lines.length && dataLines.length < SAMPLE_DATA_LINES; index++) {
      const text = lines[index];
      if (BLANK_LINE.test(text)) {
        if (dataLines.length === 0) commentAbove = null;
      } else if (COMMENT_LINE.test(text)) {
        if (dataLines.length === 0) commentAbove = { line: index + 1, text };
      } else {
        dataLines.push(text);
      }
    }
    if (dataLines.length > 0 || isWholeFile) return { dataLines, commentAbove };
  }
}

/**
 * The delimiter that splits the most sample lines into the same number of cells (its most
 * frequent count per line); ties go to the one making more cells, then to DELIMITERS order.
 * A delimiter absent from most lines (a `;` in a few URLs of a one-column list) is not one.
 */
function detectDelimiter(lines: string[]): CsvDelimiter | null {
  let best: { delimiter: CsvDelimiter | null; usualCount: number; agreeingLines: number } = {
    delimiter: null,
    usualCount: 0,
    agreeingLines: 0,
  };
  for (const delimiter of DELIMITERS) {
    const linesByCount = new Map<number, number>();
    for (const line of lines) {
      const count = countOutsideQuotes(line, delimiter.charCodeAt(0));
      linesByCount.set(count, (linesByCount.get(count) ?? 0) + 1);
    }
    let usualCount = 0;
    let agreeingLines = 0;
    for (const [count, linesWithCount] of linesByCount) {
      if (linesWithCount > agreeingLines || (linesWithCount === agreeingLines && count > usualCount)) {
        usualCount = count;
        agreeingLines = linesWithCount;
      }
    }
    const isBetter =
      agreeingLines > best.agreeingLines || (agreeingLines === best.agreeingLines && usualCount > best.usualCount);
    if (usualCount > 0 && isBetter) best = { delimiter, usualCount, agreeingLines };
  }
  return best.delimiter;
}

function countOutsideQuotes(line: string, delimiterCode: number): number {
  let count = 0;
  let inQuotes = false;
  for (let i = 0; i < line.length; i++) {
    const code = line.charCodeAt(i);
    if (code === QUOTE) inQuotes = !inQuotes;
    else if (code === delimiterCode && !inQuotes) count++;
  }
  return count;
}

/** The comment right above the data, split like a data row, when it reads as a header. */
function readCommentedHeader(comment: CommentLine, delimiterCode: number): TableRow | null {
  const rows: TableRow[] = [];
  parseRows(comment.text.replace(COMMENT_MARK, ''), comment.line, true, delimiterCode, rows);
  const row = rows[0];
  return row && isCommentedHeader(row.cells, delimiterCode === NO_DELIMITER) ? row : null;
}

/**
 * Parsing is synchronous, a chunk at a time; an async generator would add about a
 * microsecond of promise plumbing to every row, a third of the time of a simple file.
 */
function asyncIterable<T>(iterate: () => Iterator<T>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      const iterator = iterate();
      return { next: () => new Promise((resolve) => resolve(iterator.next())) };
    },
  };
}

function* readRows(content: Buffer, encoding: TextEncoding, delimiterCode: number): Generator<TableRow> {
  const decoder = new TextDecoder(encoding); // drops the BOM; bad bytes become U+FFFD
  let unfinishedRow = ''; // the start of a row cut off by the end of the previous chunk
  let line = 1;
  for (let start = 0; start < content.length; start += CHUNK_BYTES) {
    const isLastChunk = start + CHUNK_BYTES >= content.length;
    const text = unfinishedRow + decoder.decode(content.subarray(start, start + CHUNK_BYTES), { stream: !isLastChunk });
    // A CR ending the chunk may be the first half of a CRLF: parse it with the next chunk.
    const parsable = !isLastChunk && text.endsWith('\r') ? text.slice(0, -1) : text;
    const rows: TableRow[] = [];
    const stop = parseRows(parsable, line, isLastChunk, delimiterCode, rows);
    yield* rows;
    unfinishedRow = text.slice(stop.offset);
    line = stop.line;
    if (stop.openQuoteLine !== null && (isLastChunk || unfinishedRow.length > MAX_ROW_CHARS)) {
      throw new UnreadableFileError('MALFORMED_FILE', `line ${stop.openQuoteLine}: unterminated quoted field`);
    }
    if (unfinishedRow.length > MAX_ROW_CHARS) {
      throw new UnreadableFileError(
        'MALFORMED_FILE',
        `line ${line}: the row is longer than ${MAX_ROW_CHARS} characters`,
      );
    }
  }
}

interface ParseStop {
  /** Where the first row that could not be completed starts (the text's length when none). */
  offset: number;
  /** The line that row starts on. */
  line: number;
  /** The line of the quote that row's open quoted field starts at, if it stopped in one. */
  openQuoteLine: number | null;
}

/**
 * Parses the complete rows of `text` into `rows`. Unless `isLast`, the text may end in the
 * middle of a row: that row is left for the caller to parse again with the next chunk.
 * When `isLast`, only an unterminated quoted field leaves a row unparsed.
 */
function parseRows(text: string, line: number, isLast: boolean, delimiterCode: number, rows: TableRow[]): ParseStop {
  const end = text.length;
  let position = 0;
  let code = 0;
  while (position < end) {
    const rowStart = position;
    const rowLine = line;

    // Blank and comment lines: only spaces and tabs before the line break, or before a `#`.
    let i = position;
    while (i < end && ((code = text.charCodeAt(i)) === SPACE || code === TAB)) i++;
    if (i === end || code === HASH || code === CR || code === LF) {
      while (i < end && (code = text.charCodeAt(i)) !== CR && code !== LF) i++;
      if (i === end) {
        return isLast
          ? { offset: end, line, openQuoteLine: null }
          : { offset: rowStart, line: rowLine, openQuoteLine: null };
      }
      position = code === CR && text.charCodeAt(i + 1) === LF ? i + 2 : i + 1;
      line++;
      continue;
    }

    const cells: string[] = [];
    i = position;
    for (;;) {
      // Blanks before an opening quote are not part of the field (`a, "b,c"`).
      let fieldStart = i;
      while (
        fieldStart < end &&
        ((code = text.charCodeAt(fieldStart)) === SPACE || (code === TAB && delimiterCode !== TAB))
      ) {
        fieldStart++;
      }
      if (fieldStart < end && code === QUOTE) {
        const quoteLine = line;
        let value = '';
        let pieceStart = fieldStart + 1;
        let k = pieceStart;
        for (;;) {
          if (k === end) return { offset: rowStart, line: rowLine, openQuoteLine: quoteLine };
          code = text.charCodeAt(k);
          if (code === QUOTE) {
            // A doubled quote or the closing one? The next chunk tells.
            if (k + 1 === end && !isLast) return { offset: rowStart, line: rowLine, openQuoteLine: quoteLine };
            if (text.charCodeAt(k + 1) === QUOTE) {
              value += text.slice(pieceStart, k + 1);
              k += 2;
              pieceStart = k;
              continue;
            }
            value += text.slice(pieceStart, k);
            k++;
            break;
          }
          if (code === LF) line++;
          else if (code === CR) {
            line++;
            if (text.charCodeAt(k + 1) === LF) k++;
          }
          k++;
        }
        i = k;
        while (i < end && (code = text.charCodeAt(i)) !== delimiterCode && code !== CR && code !== LF) i++;
        cells.push((i > k ? value + text.slice(k, i) : value).trim());
      } else {
        i = fieldStart;
        while (i < end && (code = text.charCodeAt(i)) !== delimiterCode && code !== CR && code !== LF) i++;
        cells.push(text.slice(fieldStart, i).trim());
      }

      if (i === end) {
        if (!isLast) return { offset: rowStart, line: rowLine, openQuoteLine: null };
        break;
      }
      if (code === delimiterCode) {
        i++;
        continue;
      }
      i = code === CR && text.charCodeAt(i + 1) === LF ? i + 2 : i + 1;
      line++;
      break;
    }
    rows.push({ line: rowLine, cells });
    position = i;
  }
  return { offset: end, line, openQuoteLine: null };
}
