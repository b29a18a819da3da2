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
