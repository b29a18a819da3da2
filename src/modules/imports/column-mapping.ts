// Column mapping of file imports: which indicator property each column of a CSV or sheet
// holds. The preview suggests one (column-sniffing.ts), the person confirms it, and the
// import job maps every row with it (row-mapping.ts).

export const INDICATOR_PROPERTIES = [
  'OBSERVABLE',
  'THREATS',
  'VALID_FROM',
  'VALID_UNTIL',
  'KILL_CHAIN_PHASES',
  'DESCRIPTION',
] as const;
export type IndicatorPropertyName = (typeof INDICATOR_PROPERTIES)[number];
/** The property of each column, by column index; null: the column is ignored. */
export type ColumnMapping = (IndicatorPropertyName | null)[];

const MULTI_VALUE_SEPARATOR = /[,;|\r\n]/;

/** `Emotet, TrickBot` → [`Emotet`, `TrickBot`]: several threats or phases in one cell. */
export function splitMultiValue(text: string): string[] {
  if (!MULTI_VALUE_SEPARATOR.test(text)) {
    const value = text.trim();
    return value === '' ? [] : [value];
  }
  const values: string[] = [];
  for (const part of text.split(MULTI_VALUE_SEPARATOR)) {
    const value = part.trim();
    if (value !== '' && !values.includes(value)) values.push(value);
  }
  return values;
}

/**
 * Why `mapping` cannot be used for a file of `columnCount` columns, or null when it can.
 * THREATS and KILL_CHAIN_PHASES may come from several columns (their values are merged).
 */
export function checkMapping(mapping: ColumnMapping, columnCount: number): string | null {
  if (mapping.length > columnCount) {
    return `the mapping has ${mapping.length} entries but the file has ${columnCount} column${columnCount === 1 ? '' : 's'}`;
  }
  for (const property of ['OBSERVABLE', 'VALID_FROM', 'VALID_UNTIL', 'DESCRIPTION'] as const) {
    const columns = mapping.flatMap((p, column) => (p === property ? [column + 1] : []));
    if (columns.length > 1) {
      return `only one column can be mapped to ${property} (columns ${columns.join(', ')} are)`;
    }
  }
  return mapping.includes('OBSERVABLE') ? null : 'no column is mapped to OBSERVABLE';
}
