// Text that people give and others read later (names, descriptions, file names, and the
// searches over them). Characters that make text lie about itself are kept out: control
// characters (terminal escapes, NUL, which PostgreSQL refuses), text-direction overrides
// and isolates (an RTL override shows `exe.txt` for `txt.exe`), zero-width characters
// (two names that look the same), and unpaired surrogates (not Unicode; PostgreSQL
// refuses them in JSON).
import { ValidationError } from './errors.ts';

/** C0 and C1 control characters, and DEL. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** The same, but tab and line feed: a description may have paragraphs. */
const CONTROL_BUT_TAB_AND_LINE_FEED = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
/** Direction marks, embeddings, overrides and isolates; zero-width space, joiners, word joiner, BOM. */
const INVISIBLE = /[\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]/;
const UNPAIRED_SURROGATE = /\p{Cs}/u;
const STRIPPED_FROM_FILE_NAMES = new RegExp(`${CONTROL.source}|${INVISIBLE.source}|${UNPAIRED_SURROGATE.source}`, 'gu');

const codePoint = (char: string) => `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

export interface TextRules {
  /** Line feeds and tabs allowed (CRLF read as LF); otherwise one line. */
  multiline?: boolean;
}

/** Why `text` may not be stored (to follow the field's name), or null. */
export function storedTextProblem(text: string, { multiline = false }: TextRules = {}): string | null {
  if (UNPAIRED_SURROGATE.test(text)) return 'is not valid Unicode (it holds an unpaired surrogate)';
  const control = multiline ? CONTROL_BUT_TAB_AND_LINE_FEED.exec(text.replace(/\r\n/g, '\n')) : CONTROL.exec(text);
  if (control?.[0] === '\u0000') return 'must not contain NUL characters';
  if (control) return `must not contain control characters (${codePoint(control[0])})`;
  const invisible = INVISIBLE.exec(text);
  if (invisible) return `must not contain invisible or text-direction characters (${codePoint(invisible[0])})`;
  return null;
}

/**
 * `value` as it is stored: trimmed (CRLF read as LF in multi-line text). Text with a
 * character listed above is refused with a ValidationError naming `field` (the input's path).
 */
export function storedText(field: string, value: string, rules: TextRules = {}): string {
  const text = (rules.multiline ? value.replace(/\r\n/g, '\n') : value).trim();
  const problem = storedTextProblem(text, rules);
  if (problem) throw new ValidationError(field, `${field} ${problem}`);
  return text;
}

/** A search argument by the same rules (what no stored text holds is refused, not looked for); null when empty. */
export const searchText = (field: string, value: string | null | undefined): string | null =>
  value == null ? null : storedText(field, value) || null;

/**
 * An uploaded file's name as stored and shown: the characters listed above are removed
 * rather than refused (the name is the browser's, not typed by the person), at most 255
 * characters.
 */
export function uploadedFileName(name: string): string {
  return name.slice(0, 255).replace(STRIPPED_FROM_FILE_NAMES, '').trim();
}
