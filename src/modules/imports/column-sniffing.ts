// The mapping a preview suggests for a file's columns, from their header names and sampled
// values, and whether its first row is a header.
import { parseObservable } from '../indicators/observable.ts';
import { resolveKillChainPhaseText } from '../threats/kill-chain.ts';
import { threatKey, type ThreatMatcher } from '../threats/matcher.ts';
import { parseDateCell } from '../../dates.ts';
import {
  INDICATOR_PROPERTIES,
  splitMultiValue,
  type ColumnMapping,
  type IndicatorPropertyName,
} from './column-mapping.ts';

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
