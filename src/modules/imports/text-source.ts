// Rows of a text import: one observable per line, blank and comment lines skipped.
import { isCommentOrBlank } from '../indicators/observable.ts';
import type { IndicatorProperties } from '../indicators/properties.ts';
import type { SourceRow } from './import-rows.ts';

const LINE_BREAK = /\r\n|\n|\r/;

export function* textRows(text: string, properties: IndicatorProperties): Generator<SourceRow> {
  let line = 0;
  for (const raw of text.split(LINE_BREAK)) {
    line += 1;
    if (!isCommentOrBlank(raw)) yield { line, raw: raw.trim(), properties };
  }
}

export function countTextRows(text: string): number {
  let count = 0;
  for (const raw of text.split(LINE_BREAK)) if (!isCommentOrBlank(raw)) count += 1;
  return count;
}
