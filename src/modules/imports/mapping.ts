/**
 * Column mapping of file imports: which indicator property each column of a CSV or sheet
 * holds. The preview suggests a mapping (from header names and from the values), the person
 * confirms it, and the import job turns every row into an indicator with `mapRow`.
 *
 * `mapRow` runs on every row of an import (hundreds of thousands), so its regexes live at
 * module scope, threat names are looked up in a precomputed map, and dates are parsed by
 * shape (a regex picks the format) before luxon checks the calendar.
 */
import { DateTime } from 'luxon';
import { parseObservable } from '../indicators/observable.ts';
import {
  checkDescription,
  checkValidity,
  DESCRIPTION_MAX,
  type IndicatorProperties,
} from '../indicators/properties.ts';
import { phaseKey, resolveKillChainPhaseText } from '../threats/kill-chain.ts';
import type { SourceRow } from './runner.ts';
import type { TableRow } from './tabular/table.ts';

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

const DATE_LABELS = { VALID_FROM: 'valid from', VALID_UNTIL: 'valid until' } as const;

// --- Threats --------------------------------------------------------------------------------

export interface ThreatNames {
  id: string;
  name: string;
  aliases: readonly string[];
}

const WHITESPACE_RUN = /\s+/g;

/** `  Cobalt   Strike ` → `cobalt strike`. */
function threatKey(text: string): string {
  return text.trim().toLowerCase().replace(WHITESPACE_RUN, ' ');
}

/**
 * Finds threats of the catalogue by name or alias, case-insensitive and whitespace-normalised.
 * A name beats an alias: `Carbanak` gives both entries named Carbanak (a group and a malware),
 * not the entries that merely list it as an alias.
 */
export class ThreatMatcher {
  readonly #idsByKey = new Map<string, string[]>();

  constructor(threats: Iterable<ThreatNames>) {
    const byName = new Map<string, string[]>();
    const byAlias = new Map<string, string[]>();
    const add = (index: Map<string, string[]>, text: string, id: string) => {
      const key = threatKey(text);
      if (key === '') return;
      const ids = index.get(key);
      if (!ids) index.set(key, [id]);
      else if (!ids.includes(id)) ids.push(id);
    };
    for (const threat of threats) {
      add(byName, threat.name, threat.id);
      for (const alias of threat.aliases) add(byAlias, alias, threat.id);
    }
    for (const [key, ids] of byAlias) this.#idsByKey.set(key, ids);
    for (const [key, ids] of byName) this.#idsByKey.set(key, ids);
  }

  /** Ids of the threats `text` names; empty when the catalogue does not know it. */
  match(text: string): string[] {
    const ids = this.#idsByKey.get(threatKey(text));
    return ids ? [...ids] : [];
  }
}

// --- Multi-value cells ----------------------------------------------------------------------

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

// --- Dates ----------------------------------------------------------------------------------

const TIME = String.raw`(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?`;
/** `2024-01-31`, `2024-01-31T12:00:00.5+01:00`, `2024-01-31 12:00:00 UTC`, `2024/01/31 12:00`. */
const YEAR_FIRST = new RegExp(
  String.raw`^(\d{4})([-/])(\d{1,2})\2(\d{1,2})${TIME}\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$`,
  'i',
);
/** `01/31/2024`, `1/31/2024 1:05 PM`, `31/01/2024`, `31.01.2024 13:05`. */
const YEAR_LAST = new RegExp(String.raw`^(\d{1,2})([/.])(\d{1,2})\2(\d{4})${TIME}(?:\s*([AP]M))?$`, 'i');
/** Other ISO-8601 shapes (week and ordinal dates) are left to luxon. */
const ISO_PREFIX = /^\d{4}-/;
const DIGITS = /^\d+$/;
const DECIMAL = /^(\d+)\.(\d+)$/;

const MS_PER_DAY = 86_400_000;
/** Excel day 25569 is 1970-01-01 (its day 0 is 1899-12-30, as Excel counts 1900 as a leap year). */
const EXCEL_UNIX_EPOCH_DAY = 25_569;
/** Serials of 1954-10-03 to 2119-01-10: plausible indicator dates, unlike counts or ports. */
const EXCEL_SERIAL_MIN = 20_000;
const EXCEL_SERIAL_MAX = 80_000;
const COMPACT_DATE_YEARS = { min: 1900, max: 2199 };
/** Time zones are at most 14 hours from UTC; allow a margin, reject nonsense like +99:00. */
const MAX_OFFSET_MINUTES = 18 * 60;

function utcDate(
  year: number,
  month: number,
  day: number,
  hour = 0,
  minute = 0,
  second = 0,
  millisecond = 0,
  offsetMinutes = 0,
): Date | null {
  const date = DateTime.fromObject({ year, month, day, hour, minute, second, millisecond }, { zone: 'utc' });
  return date.isValid ? new Date(date.toMillis() - offsetMinutes * 60_000) : null;
}

/** `5` → 500 ms, `123456` → 123 ms. */
function milliseconds(fraction: string | undefined): number {
  return fraction ? Number(fraction.slice(0, 3).padEnd(3, '0')) : 0;
}

/** `Z`, `UTC` → 0; `+01:00`, `+0100`, `+01` → 60; null when out of range. */
function offsetMinutes(zone: string | undefined): number | null {
  if (!zone || zone.length === 1 || zone.length === 3) return 0;
  const sign = zone[0] === '-' ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0);
  return minutes <= MAX_OFFSET_MINUTES ? sign * minutes : null;
}

/** `1 PM` → 13, `12 AM` → 0; null for hours that do not exist on a 12-hour clock. */
function hour24(hour: number, meridiem: string | undefined): number | null {
  if (!meridiem) return hour;
  if (hour < 1 || hour > 12) return null;
  return (hour % 12) + (meridiem.toUpperCase() === 'PM' ? 12 : 0);
}

function fromYearFirst(match: RegExpExecArray): Date | null {
  const [, year, , month, day, hour, minute, second, fraction, zone] = match;
  const offset = offsetMinutes(zone);
  if (offset === null) return null;
  return utcDate(+year, +month, +day, +(hour ?? 0), +(minute ?? 0), +(second ?? 0), milliseconds(fraction), offset);
}

/** Month first as in the US (`01/02/2024` is 2 January), unless the first number cannot be a month. */
function fromYearLast(match: RegExpExecArray): Date | null {
  const [, first, separator, second, year, hour, minute, seconds, fraction, meridiem] = match;
  const dayFirst = separator === '.' || +first > 12;
  const [day, month] = dayFirst ? [+first, +second] : [+second, +first];
  if (meridiem && hour === undefined) return null;
  const hours = hour24(+(hour ?? 0), meridiem);
  if (hours === null) return null;
  return utcDate(+year, month, day, hours, +(minute ?? 0), +(seconds ?? 0), milliseconds(fraction));
}

function fromExcelSerial(serial: number): Date | null {
  if (serial < EXCEL_SERIAL_MIN || serial > EXCEL_SERIAL_MAX) return null;
  return new Date(Math.round((serial - EXCEL_UNIX_EPOCH_DAY) * MS_PER_DAY));
}

/** Digits only: Excel serial (5), YYYYMMDD (8), epoch seconds (9-10) or milliseconds (12-13). */
function fromDigits(digits: string): Date | null {
  switch (digits.length) {
    case 5:
      return fromExcelSerial(Number(digits));
    case 8: {
      const year = Number(digits.slice(0, 4));
      if (year < COMPACT_DATE_YEARS.min || year > COMPACT_DATE_YEARS.max) return null;
      return utcDate(year, Number(digits.slice(4, 6)), Number(digits.slice(6, 8)));
    }
    case 9:
    case 10:
      return new Date(Number(digits) * 1000);
    case 12:
    case 13:
      return new Date(Number(digits));
    default:
      return null;
  }
}

/** `45282.2904` (Excel serial with a time of day) or `1700000000.5` (epoch seconds). */
function fromDecimal(match: RegExpExecArray): Date | null {
  const integerDigits = match[1].length;
  const value = Number(match[0]);
  if (integerDigits === 5) return fromExcelSerial(value);
  if (integerDigits === 9 || integerDigits === 10) return new Date(Math.round(value * 1000));
  return null;
}

function fromIso(text: string): Date | null {
  const date = DateTime.fromISO(text, { zone: 'utc' });
  return date.isValid ? date.toJSDate() : null;
}

/**
 * A date as feeds and spreadsheets write it, in UTC unless the text gives a zone; null when
 * the text is no date this reads. Never throws. See the regexes above for the accepted forms.
 */
export function parseDateCell(text: string): Date | null {
  const value = text.trim();
  // Every accepted form starts with a digit and is 5 (an Excel serial) to ~40 characters long.
  if (value.length < 5 || value.length > 40) return null;
  const first = value.charCodeAt(0);
  if (first < 48 || first > 57) return null;

  if (DIGITS.test(value)) return fromDigits(value);
  const decimal = DECIMAL.exec(value);
  if (decimal) return fromDecimal(decimal);
  const yearFirst = YEAR_FIRST.exec(value);
  if (yearFirst) return fromYearFirst(yearFirst);
  const yearLast = YEAR_LAST.exec(value);
  if (yearLast) return fromYearLast(yearLast);
  return ISO_PREFIX.test(value) ? fromIso(value) : null;
}

// --- What cells hold ------------------------------------------------------------------------

const NUMBER = /^[+-]?\d+(?:[.,]\d+)?$/;
/** A bare 5-digit integer is as likely a port or a count as an Excel date. */
const FIVE_DIGITS = /^\d{5}$/;
/** Words separated by whitespace: text about an indicator rather than a value. */
const PROSE = /\S\s+\S/;

function isObservable(cell: string): boolean {
  return parseObservable(cell).ok;
}

/** A date for sniffing columns: bare 5-digit numbers only count once a person maps the column. */
function isDate(cell: string): boolean {
  return !FIVE_DIGITS.test(cell) && parseDateCell(cell) !== null;
}

function isDataLike(cell: string): boolean {
  return NUMBER.test(cell) || isObservable(cell) || parseDateCell(cell) !== null;
}

function isThreatList(cell: string, threats: ThreatMatcher): boolean {
  const names = splitMultiValue(cell);
  return names.length > 0 && names.every((name) => threats.match(name).length > 0);
}

function isPhaseList(cell: string): boolean {
  const phases = splitMultiValue(cell);
  return phases.length > 0 && phases.every((phase) => resolveKillChainPhaseText(phase).ok);
}

/** `'a b c'` → `['a', 'b', 'c']`: long lists of names stay readable. */
const words = (text: string): string[] => text.split(' ');

/** Values of "type" columns (`sha256`, `ip-dst`, `hash_md5`, `FileHash-MD5`), compacted. */
const OBSERVABLE_TYPE_NAMES: ReadonlySet<string> = new Set(
  words(
    'ip ipv4 ipv6 ipdst ipsrc ipaddress domain domainname hostname host fqdn url uri link ' +
      'email emailsrc emaildst emailaddress hash filehash md5 sha1 sha256 sha512 ' +
      'hashmd5 hashsha1 hashsha256 hashsha512 filehashmd5 filehashsha1 filehashsha256 filehashsha512',
  ),
);

const NOT_ALPHANUMERIC = /[^a-z0-9]+/g;

/** `First Seen (UTC)`, `first_seen_utc` → `firstseenutc`. */
function compactName(text: string): string {
  return text.toLowerCase().replace(NOT_ALPHANUMERIC, '');
}

// --- Header names ---------------------------------------------------------------------------

/** A known header name that is no property: `type`, ports, ids, and last-seen dates. */
const OTHER = 'OTHER';
type HeaderMeaning = IndicatorPropertyName | typeof OTHER;

/** Header names that only say "the indicator" and may head text about it (`ioc`: a description). */
const GENERIC_OBSERVABLE_HEADERS: ReadonlySet<string> = new Set(['ioc', 'indicator', 'value', 'data', 'observable']);

const HEADER_NAMES: Record<HeaderMeaning, string[]> = {
  OBSERVABLE: [
    ...GENERIC_OBSERVABLE_HEADERS,
    ...words('ip ipv4 ipv6 ipaddress address dstip srcip domain domainname hostname host'),
    ...words('url uri md5 sha1 sha256 sha512 hash filehash email emailaddress'),
  ],
  THREATS: words('malware malwarefamily malwareprintable family threat threats actor threatactor'),
  VALID_FROM: words('firstseen firstseenutc dateadded date validfrom listingdate created createdat creationdate'),
  VALID_UNTIL: words('validuntil validto expires expiresat expiration expirationdate expiry'),
  KILL_CHAIN_PHASES: words('killchain killchainphase killchainphases phase phases tactic tactics'),
  DESCRIPTION: words('comment comments description note notes reason listingreason remarks'),
  // Last seen/online says when a source last saw the indicator, not until when it is valid.
  // Tags hold free labels (`exe`, `signed`) next to threat names: as THREATS they would reject rows.
  OTHER: [
    ...words('type indicatortype ioctype threattype kind category port dstport srcport status c2status'),
    ...words('lastseen lastseenutc lastonline id uuid eventid toids source reference tags confidence'),
    ...words('confidencelevel reporter'),
  ],
};

const HEADER_MEANINGS: ReadonlyMap<string, HeaderMeaning> = new Map(
  Object.entries(HEADER_NAMES).flatMap(([meaning, names]) => names.map((name) => [name, meaning as HeaderMeaning])),
);

function headerMeaning(header: string | undefined): HeaderMeaning | null {
  return header ? (HEADER_MEANINGS.get(compactName(header)) ?? null) : null;
}

// --- Header row -----------------------------------------------------------------------------

/** More than half of the non-empty cells; false when all are empty. */
function mostly(cells: readonly string[], test: (cell: string) => boolean): boolean {
  let nonEmpty = 0;
  let passing = 0;
  for (const cell of cells) {
    if (cell === '') continue;
    nonEmpty += 1;
    if (test(cell)) passing += 1;
  }
  return passing * 2 > nonEmpty;
}

/**
 * Is `first` a header row? Only if none of its cells is data (an observable, a date or a
 * number), and then if one of them is a known header name, or heads a column whose
 * following cells (`next`) are mostly data.
 */
export function detectHeaderRow(first: string[], next: string[][]): boolean {
  const cells = first.map((cell) => cell.trim());
  if (cells.every((cell) => cell === '') || cells.some((cell) => cell !== '' && isDataLike(cell))) return false;
  if (cells.some((cell) => headerMeaning(cell) !== null)) return true;
  const column = (index: number) => next.map((row) => row[index]?.trim() ?? '');
  return cells.some((cell, index) => cell !== '' && mostly(column(index), isDataLike));
}

// --- Suggested mapping ----------------------------------------------------------------------

/** What the header and the sampled values of one column say. */
interface ColumnProfile {
  index: number;
  header: HeaderMeaning | null;
  genericHeader: boolean;
  nonEmpty: number;
  /** Shares (0-1) of the non-empty samples. */
  observables: number;
  dates: number;
  threats: number;
  phases: number;
  prose: number;
  typeNames: number;
}

function profileColumn(
  index: number,
  header: string | undefined,
  cells: string[],
  threats: ThreatMatcher,
): ColumnProfile {
  const profile: ColumnProfile = {
    index,
    header: headerMeaning(header),
    genericHeader: header !== undefined && GENERIC_OBSERVABLE_HEADERS.has(compactName(header)),
    nonEmpty: 0,
    observables: 0,
    dates: 0,
    threats: 0,
    phases: 0,
    prose: 0,
    typeNames: 0,
  };
  for (const cell of cells) {
    if (cell === '') continue;
    profile.nonEmpty += 1;
    const observable = isObservable(cell);
    const date = isDate(cell);
    const threat = isThreatList(cell, threats);
    if (observable) profile.observables += 1;
    if (date) profile.dates += 1;
    if (threat) profile.threats += 1;
    if (isPhaseList(cell)) profile.phases += 1;
    if (OBSERVABLE_TYPE_NAMES.has(compactName(cell))) profile.typeNames += 1;
    if (!observable && !date && !threat && PROSE.test(cell)) profile.prose += 1;
  }
  if (profile.nonEmpty > 0) {
    for (const share of ['observables', 'dates', 'threats', 'phases', 'prose', 'typeNames'] as const) {
      profile[share] /= profile.nonEmpty;
    }
  }
  return profile;
}

const MOST = 0.5;

/** The share of a column's values that fit `property`, to choose between candidate columns. */
function fit(profile: ColumnProfile, property: IndicatorPropertyName): number {
  switch (property) {
    case 'OBSERVABLE':
      return profile.observables;
    case 'THREATS':
      return profile.threats;
    case 'VALID_FROM':
    case 'VALID_UNTIL':
      return profile.dates;
    case 'KILL_CHAIN_PHASES':
      return profile.phases;
    case 'DESCRIPTION':
      return profile.prose;
  }
}

/**
 * The observable column: among columns whose values mostly parse as observables, the first
 * one whose header names an observable, else the first one. When no column's values parse
 * (a header-only file, or values all invalid), the first column whose header names an
 * observable, unless its values are type names (`sha256`, `ip`) or text.
 */
function chooseObservableColumn(profiles: ColumnProfile[]): ColumnProfile | undefined {
  const parsing = profiles.filter((p) => p.observables > MOST);
  if (parsing.length > 0) return parsing.find((p) => p.header === 'OBSERVABLE') ?? parsing[0];
  return profiles.find((p) => p.header === 'OBSERVABLE' && p.typeNames <= MOST && p.prose <= MOST);
}

/**
 * The property a column's header names, as far as its values agree: dates must mostly parse
 * (when there are any), and a comment column holding threat names (as MISP exports have) is
 * a threat column: mostly known names, and no text of several words (`C2 server`, `IP
 * address linked to …`), which would be rejected as unknown threats, losing its indicators.
 */
function namedProperty(profile: ColumnProfile): IndicatorPropertyName | null {
  const { header } = profile;
  if (header === null || header === OTHER || header === 'OBSERVABLE') return null;
  const isDateHeader = header === 'VALID_FROM' || header === 'VALID_UNTIL';
  if (isDateHeader && profile.nonEmpty > 0 && profile.dates <= MOST) return null;
  if (header === 'DESCRIPTION' && profile.threats > MOST && profile.prose === 0) return 'THREATS';
  return header;
}

/** The property a column's values alone suggest, for columns without a telling header. */
function sniffedProperty(profile: ColumnProfile): IndicatorPropertyName | null {
  if (profile.threats > MOST) return 'THREATS';
  if (profile.phases > MOST) return 'KILL_CHAIN_PHASES';
  if (profile.dates > MOST) return 'VALID_FROM';
  if (profile.prose > MOST) return 'DESCRIPTION';
  return null;
}

/**
 * Suggests a property per column, at most one column per property, in three passes:
 * 1. OBSERVABLE: see `chooseObservableColumn`.
 * 2. Header names (`namedProperty`); when several columns name one property, the one whose
 *    values fit it best, then the leftmost.
 * 3. Values alone, left to right, for columns whose header is absent, unknown or only
 *    generic (`ioc`, `value`): mostly known threats → THREATS, kill-chain phases →
 *    KILL_CHAIN_PHASES, dates → VALID_FROM, text of several words → DESCRIPTION.
 * Columns with any other known header (`type`, `port`, `last_seen`, a specific observable
 * name over values that are not observables) stay null.
 */
export function suggestMapping(header: string[] | null, samples: string[][], threats: ThreatMatcher): ColumnMapping {
  const columnCount = Math.max(header?.length ?? 0, ...samples.map((row) => row.length));
  const profiles = Array.from({ length: columnCount }, (_, column) =>
    profileColumn(
      column,
      header?.[column],
      samples.map((row) => row[column]?.trim() ?? ''),
      threats,
    ),
  );
  const mapping: ColumnMapping = new Array(columnCount).fill(null);
  const assign = (profile: ColumnProfile | undefined, property: IndicatorPropertyName) => {
    if (profile && !mapping.includes(property)) mapping[profile.index] = property;
  };
  const isFree = (profile: ColumnProfile) => mapping[profile.index] === null;

  assign(chooseObservableColumn(profiles), 'OBSERVABLE');

  for (const property of INDICATOR_PROPERTIES) {
    const named = profiles.filter((p) => isFree(p) && namedProperty(p) === property);
    const best = named.reduce<ColumnProfile | undefined>(
      (winner, p) => (winner === undefined || fit(p, property) > fit(winner, property) ? p : winner),
      undefined,
    );
    assign(best, property);
  }

  for (const profile of profiles) {
    if (!isFree(profile) || (profile.header !== null && !profile.genericHeader)) continue;
    const property = sniffedProperty(profile);
    if (property) assign(profile, property);
  }
  return mapping;
}

/** Names in the THREATS column(s) of `samples` that the catalogue does not know, first spelling kept. */
export function unknownThreatNames(samples: string[][], mapping: ColumnMapping, threats: ThreatMatcher): string[] {
  const unknown = new Map<string, string>();
  for (const row of samples) {
    mapping.forEach((property, column) => {
      if (property !== 'THREATS') return;
      for (const name of splitMultiValue(row[column] ?? '')) {
        const key = threatKey(name);
        if (!unknown.has(key) && threats.match(name).length === 0) unknown.set(key, name);
      }
    });
  }
  return [...unknown.values()];
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

// --- Rows -----------------------------------------------------------------------------------

type RowErrorCode =
  | 'EMPTY'
  | 'UNKNOWN_THREAT'
  | 'INVALID_DATE'
  | 'UNKNOWN_KILL_CHAIN_PHASE'
  | 'DESCRIPTION_TOO_LONG'
  | 'INVALID_DESCRIPTION'
  | 'INVALID_VALIDITY';

class RowProblem {
  constructor(
    readonly code: RowErrorCode,
    readonly message: string,
  ) {}
}

const quoted = (texts: string[]) => texts.map((text) => JSON.stringify(text)).join(', ');

function threatIdsOf(cell: string, column: number, threats: ThreatMatcher, into: string[]): RowProblem | null {
  const unknown: string[] = [];
  for (const name of splitMultiValue(cell)) {
    const ids = threats.match(name);
    if (ids.length === 0) unknown.push(name);
    for (const id of ids) if (!into.includes(id)) into.push(id);
  }
  if (unknown.length === 0) return null;
  const verb = unknown.length === 1 ? 'is' : 'are';
  return new RowProblem(
    'UNKNOWN_THREAT',
    `column ${column + 1}: ${quoted(unknown)} ${verb} not in the threat catalogue`,
  );
}

function phaseKeysOf(cell: string, column: number, into: string[]): RowProblem | null {
  const problems: string[] = [];
  for (const text of splitMultiValue(cell)) {
    const result = resolveKillChainPhaseText(text);
    if (!result.ok) problems.push(result.message);
    else if (!into.includes(phaseKey(result.phase))) into.push(phaseKey(result.phase));
  }
  return problems.length === 0
    ? null
    : new RowProblem('UNKNOWN_KILL_CHAIN_PHASE', `column ${column + 1}: ${problems.join('; ')}`);
}

function descriptionOf(cell: string, column: number): string | RowProblem {
  const description = cell.trim();
  const problem = checkDescription(description);
  if (problem === null) return description;
  const code = description.length > DESCRIPTION_MAX ? 'DESCRIPTION_TOO_LONG' : 'INVALID_DESCRIPTION';
  return new RowProblem(code, `column ${column + 1}: ${problem}`);
}

/**
 * One row of a file as the import job reads it: the observable cell (`raw`, parsed later by
 * the runner) and its properties, or the first problem found. A cell's value replaces the
 * default; an empty cell or an unmapped property keeps `defaults` (already checked).
 * `mapping` must have passed `checkMapping`.
 */
export function mapRow(
  row: TableRow,
  mapping: ColumnMapping,
  defaults: IndicatorProperties,
  threats: ThreatMatcher,
): SourceRow {
  const { line, cells } = row;
  const observableColumn = mapping.indexOf('OBSERVABLE');
  const raw = cells[observableColumn] ?? '';
  const fail = (problem: RowProblem): SourceRow => ({
    line,
    raw,
    error: { code: problem.code, message: problem.message },
  });
  if (raw.trim() === '') return fail(new RowProblem('EMPTY', `no observable in column ${observableColumn + 1}`));

  // Copied from `defaults` on the first cell that sets a property; shared otherwise.
  let properties: IndicatorProperties | null = null;
  let threatIds: string[] | null = null;
  let phaseKeys: string[] | null = null;
  for (let column = 0; column < mapping.length; column += 1) {
    const property = mapping[column];
    const cell = cells[column] ?? '';
    if (property === null || property === 'OBSERVABLE' || cell === '') continue;
    let problem: RowProblem | null = null;
    switch (property) {
      case 'THREATS':
        problem = threatIdsOf(cell, column, threats, (threatIds ??= []));
        break;
      case 'KILL_CHAIN_PHASES':
        problem = phaseKeysOf(cell, column, (phaseKeys ??= []));
        break;
      case 'VALID_FROM':
      case 'VALID_UNTIL': {
        const date = parseDateCell(cell);
        if (date === null) {
          const message = `column ${column + 1} (${DATE_LABELS[property]}): ${JSON.stringify(cell)} is not a date`;
          problem = new RowProblem('INVALID_DATE', message);
        } else if (property === 'VALID_FROM') (properties ??= { ...defaults }).validFrom = date;
        else (properties ??= { ...defaults }).validUntil = date;
        break;
      }
      case 'DESCRIPTION': {
        const description = descriptionOf(cell, column);
        if (description instanceof RowProblem) problem = description;
        else if (description !== '') (properties ??= { ...defaults }).description = description;
        break;
      }
    }
    if (problem) return fail(problem);
  }
  // A cell of separators only (`,`) names nothing: the default stands.
  if (threatIds?.length) (properties ??= { ...defaults }).threatIds = threatIds;
  if (phaseKeys?.length) (properties ??= { ...defaults }).killChainPhases = phaseKeys;
  if (properties === null) return { line, raw, properties: defaults };

  if (properties.validFrom) {
    const problem = checkValidity(properties.validFrom, properties.validUntil);
    if (problem) return fail(new RowProblem('INVALID_VALIDITY', problem));
  }
  return { line, raw, properties };
}
