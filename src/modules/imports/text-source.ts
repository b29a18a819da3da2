// Rows of a text import: one observable per line, blank and comment lines skipped.
import { isCommentOrBlank } from '../indicators/observable.ts';
import type { IndicatorProperties } from '../indicators/properties.ts';
import type { SourceRow } from './runner.ts';

export function* textRows(text: string, properties: IndicatorProperties): Generator<SourceRow> {
  let line = 0;
  for (const raw of text.split(/\r\n|\n|\r/)) {
    line += 1;
    if (!isCommentOrBlank(raw)) yield { line, raw: raw.trim(), properties };
  }
}
