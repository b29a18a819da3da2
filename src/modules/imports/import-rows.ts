// The rows an import job passes along: as its source gives them, parsed, or rejected.
import type { Observable } from '../indicators/observable.ts';
import type { IndicatorProperties } from '../indicators/properties.ts';

/** A row as a source gives it: an observable still to parse, or a row the source rejected. */
export type SourceRow = (
  | { line: number; raw: string; properties: IndicatorProperties }
  | { line: number; raw: string; error: { code: string; message: string } }
) & { cells?: string[] };

export interface ParsedRow {
  line: number;
  /** The text the user gave, for error reports. */
  raw: string;
  observable: Observable;
  properties: IndicatorProperties;
  /** File imports: the row's cells, kept with its error so it can be fixed and re-imported. */
  cells?: string[];
}

export interface RowError {
  line: number;
  value: string;
  code: string;
  message: string;
  cells?: string[];
}
