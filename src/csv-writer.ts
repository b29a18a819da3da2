// The one way we write CSV that leaves the service (rejected rows, exports). The cells come
// from untrusted input and the file is opened in spreadsheets, so it is written so that no
// reader, whichever delimiter it splits on and whether it understands quotes, finds a cell
// that starts a formula (CSV injection).
import { Readable, pipeline } from 'node:stream';
import { format } from '@fast-csv/format';

/** Characters that make a spreadsheet read a cell as a formula (OWASP's list). */
const FORMULA_TRIGGERS = new Set(['=', '+', '-', '@', '\t', '\r']);
/** Where a reader may start a new cell: the delimiters readers split on, and line breaks. */
const CELL_BOUNDARIES = new Set([',', ';', '\t', '|', '\r', '\n']);

/**
 * The value with an apostrophe put before every formula trigger that some reader would
 * see at the start of a cell. Every cell is written quoted, so a quote-aware reader using
 * our comma sees the value itself; but a reader that splits on `;`, tab or `|` (Excel in
 * many locales), or on `,` without honouring quotes, starts a cell after any such character
 * inside the value, or at a line break. So the rule is applied at the start of the value
 * and after each of those characters, skipping the quotes and spaces such readers strip:
 * `y;=cmd|' /C calc'!A0;` becomes `y;'=cmd|' /C calc'!A0;` and `"=1+1` becomes `"'=1+1`.
 * A cell starting with an apostrophe is text to spreadsheets, which hide the apostrophe.
 */
export function neutraliseFormulas(value: string): string {
  let result = '';
  let atCellStart = true;
  for (const char of value) {
    if (atCellStart && FORMULA_TRIGGERS.has(char)) result += "'";
    result += char;
    if (CELL_BOUNDARIES.has(char)) atCellStart = true;
    else if (char !== '"' && !/\s/.test(char)) atCellStart = false;
  }
  return result;
}

/**
 * Rows as a UTF-8 CSV stream (comma, CRLF, every cell quoted, formulas neutralised), read
 * from `rows` only as fast as the client takes the bytes, so any size keeps constant memory.
 * A BOM leads, so that Excel opens the file with the right characters. `onError` hears of a
 * failure of `rows` (for the log; the client sees the download fail).
 */
export function csvStream(
  rows: AsyncIterable<readonly string[]>,
  onError: (error: Error) => void,
): ReadableStream<Uint8Array> {
  const csv = format<string[], string[]>({
    rowDelimiter: '\r\n',
    includeEndRowDelimiter: true,
    quoteColumns: true,
    quoteHeaders: true,
    writeBOM: true,
  });
  const safeRows = async function* () {
    for await (const row of rows) yield row.map(neutraliseFormulas);
  };
  // A failing source (the database gone mid-way) ends the download with an error instead of
  // a file that looks complete. A client that goes away is no failure.
  pipeline(Readable.from(safeRows()), csv, (error) => {
    const code = (error as NodeJS.ErrnoException | null)?.code;
    if (error && code !== 'ABORT_ERR' && code !== 'ERR_STREAM_PREMATURE_CLOSE') onError(error);
  });
  return Readable.toWeb(csv) as ReadableStream<Uint8Array>;
}
