// What the file readers (CSV, spreadsheets) give the preview and the import: rows of
// text cells with the line (CSV) or row (sheet) number a person sees in the file.

export interface TableRow {
  /** 1-based line of the row's first character in a CSV file, or 1-based row number in a sheet. */
  line: number;
  /** Cell texts, trimmed; dates of spreadsheet cells as ISO-8601 UTC strings. */
  cells: string[];
}

export interface Table {
  /** Sheet names of a workbook, in order (empty for CSV). */
  sheets: string[];
  /** The sheet read (null for CSV). */
  sheet: string | null;
  /**
   * A header written as a comment right above the data (`# id,dateadded,url`), split into
   * cells like a data row; null when there is none.
   */
  commentedHeader: TableRow | null;
  /** Data rows (the header row, when there is one, included), comment and blank lines skipped. */
  rows: AsyncIterable<TableRow>;
}

/** A column name: starts with a letter, no `:` or `.` (banners, URLs, domains), no digits first (IPs, dates). */
const COLUMN_NAME = /^[\p{L}_][\p{L}\p{N}_ &()/-]*$/u;
const MAX_COLUMN_NAME_CHARS = 30;
const MAX_COLUMN_NAME_WORDS = 4;

const isColumnName = (cell: string) =>
  cell.length <= MAX_COLUMN_NAME_CHARS && cell.split(/\s+/).length <= MAX_COLUMN_NAME_WORDS && COLUMN_NAME.test(cell);

/**
 * Whether the cells of a comment right above the data (`#ip,ioc`, `# DstIP,DstPort`) are
 * a header rather than a banner: at least 2 cells (1 when the data has 1 column too), and
 * every non-empty cell a short name rather than a sentence, a value or a `key: value`.
 * One rule for every reader, so CSV and workbooks agree.
 */
export function isCommentedHeader(cells: string[], dataHasOneColumn: boolean): boolean {
  if (cells.length < 2 && !dataHasOneColumn) return false;
  return cells.some((cell) => cell !== '') && cells.every((cell) => cell === '' || isColumnName(cell));
}

/** A file the readers refuse, with a reason a person can act on. */
export class UnreadableFileError extends Error {
  constructor(
    readonly code:
      | 'EMPTY_FILE'
      | 'UNSUPPORTED_FORMAT'
      | 'ENCRYPTED_WORKBOOK'
      | 'WORKBOOK_TOO_LARGE'
      | 'MALFORMED_FILE'
      | 'UNKNOWN_SHEET'
      | 'PARSE_TIMEOUT',
    message: string,
  ) {
    super(message);
  }
}
