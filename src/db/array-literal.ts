// Lists of text for bulk statements that take one row per array element (unnest): a row's
// own list travels as a PostgreSQL array literal, cast back to an array in SQL.

/** A PostgreSQL array literal; elements are quoted so any text survives. */
export function arrayLiteral(items: string[]): string {
  return `{${items.map((s) => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}
