// The one parser of dates as people and feeds write them (file cells, the Date scalar), in
// UTC unless the text gives a zone. It runs on every date cell of an import (hundreds of
// thousands), so its regexes live at module scope and dates are parsed by shape (a regex
// picks the format) before luxon checks the calendar.
import { DateTime } from 'luxon';

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
  if (!zone || (zone[0] !== '+' && zone[0] !== '-')) return 0;
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
