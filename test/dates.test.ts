// Dates as feeds and spreadsheets write them. The tests run outside UTC (vitest.config.ts), so
// a date read in the machine's zone instead of UTC fails here.
import { describe, expect, it } from 'vitest';
import { parseDateCell } from '../src/dates.ts';

const iso = (text: string) => parseDateCell(text)?.toISOString() ?? null;

describe('parseDateCell', () => {
  it.each([
    ['ISO date', '2024-01-31', '2024-01-31T00:00:00.000Z'],
    ['ISO without zone (UTC)', '2024-01-31T12:00:00', '2024-01-31T12:00:00.000Z'],
    ['ISO with Z and fraction', '2024-01-31T12:00:00.5Z', '2024-01-31T12:00:00.500Z'],
    ['ISO with offset', '2024-01-31T12:00:00+01:00', '2024-01-31T11:00:00.000Z'],
    ['ISO with compact offset', '2024-01-31T12:00:00-0530', '2024-01-31T17:30:00.000Z'],
    ['ISO with an hours-only offset', '2024-01-31T12:00:00+01', '2024-01-31T11:00:00.000Z'],
    ['ISO with the largest offset', '2024-01-31T12:00:00+18:00', '2024-01-30T18:00:00.000Z'],
    ['ISO with minutes and seconds', '2024-01-31T12:34:56Z', '2024-01-31T12:34:56.000Z'],
    ['ISO with a lower-case z', '2024-01-31T12:00:00z', '2024-01-31T12:00:00.000Z'],
    ['ISO without seconds', '2024-01-31T12:00', '2024-01-31T12:00:00.000Z'],
    ['ISO week date (luxon)', '2024-W05-3', '2024-01-31T00:00:00.000Z'],
    ['SQL style', '2024-01-31 12:00:00', '2024-01-31T12:00:00.000Z'],
    ['SQL style with UTC', '2024-01-31 12:00:00 UTC', '2024-01-31T12:00:00.000Z'],
    ['SQL style with utc', '2024-01-31 12:00:00 utc', '2024-01-31T12:00:00.000Z'],
    ['SQL style with GMT', '2024-01-31 12:34:56 GMT', '2024-01-31T12:34:56.000Z'],
    ['40 characters', '2024-01-31 12:00:00.123456789        UTC', '2024-01-31T12:00:00.123Z'],
    ['SQL style with microseconds', '2024-01-31 12:00:00.123456', '2024-01-31T12:00:00.123Z'],
    ['year first with slashes', '2024/1/31', '2024-01-31T00:00:00.000Z'],
    ['US', '01/31/2024', '2024-01-31T00:00:00.000Z'],
    ['US short with time', '1/31/2024 13:05', '2024-01-31T13:05:00.000Z'],
    ['US with seconds', '1/31/2024 13:05:09', '2024-01-31T13:05:09.000Z'],
    ['US with PM', '1/31/2024 1:05 PM', '2024-01-31T13:05:00.000Z'],
    ['US with 12 AM', '1/31/2024 12:30 AM', '2024-01-31T00:30:00.000Z'],
    ['US with 12 PM', '1/31/2024 12:05 PM', '2024-01-31T12:05:00.000Z'],
    ['US with a lower-case pm', '1/31/2024 1:05 pm', '2024-01-31T13:05:00.000Z'],
    ['12 first reads month first', '12/01/2024', '2024-12-01T00:00:00.000Z'],
    ['ambiguous slashes read month first', '01/02/2024', '2024-01-02T00:00:00.000Z'],
    ['day > 12 first reads day first', '31/01/2024', '2024-01-31T00:00:00.000Z'],
    ['dotted, day first', '31.01.2024', '2024-01-31T00:00:00.000Z'],
    ['dotted, day first even when ambiguous', '01.02.2024', '2024-02-01T00:00:00.000Z'],
    ['dotted with time', '31.01.2024 13:05', '2024-01-31T13:05:00.000Z'],
    ['Excel serial with time', '45282.2904', '2023-12-22T06:58:10.560Z'],
    ['Excel serial, whole day', '45282', '2023-12-22T00:00:00.000Z'],
    ['the first Excel serial read', '20000', '1954-10-03T00:00:00.000Z'],
    ['the last Excel serial read', '80000', '2119-01-11T00:00:00.000Z'],
    ['epoch seconds', '1700000000', '2023-11-14T22:13:20.000Z'],
    ['epoch seconds, 9 digits', '999999999', '2001-09-09T01:46:39.000Z'],
    ['epoch seconds with fraction', '1700000000.25', '2023-11-14T22:13:20.250Z'],
    ['9-digit epoch seconds with fraction', '999999999.5', '2001-09-09T01:46:39.500Z'],
    ['epoch milliseconds', '1700000000123', '2023-11-14T22:13:20.123Z'],
    ['compact YYYYMMDD (MISP)', '20161108', '2016-11-08T00:00:00.000Z'],
    ['the first compact date read', '19000101', '1900-01-01T00:00:00.000Z'],
    ['the last compact date read', '21991231', '2199-12-31T00:00:00.000Z'],
    ['surrounding spaces', '  2024-01-31  ', '2024-01-31T00:00:00.000Z'],
  ])('reads %s: %s', (_, text, expected) => {
    expect(iso(text)).toBe(expected);
  });

  it.each([
    ['2024-13-45'],
    ['2024-02-30'],
    ['yesterday'],
    ['99999999999999'],
    [''],
    ['12345'],
    ['99999'],
    ['12345678901'],
    ['13/13/2024'],
    ['1/31/2024 13:05 PM'],
    ['2024-01-31T12:00:00+99:00'],
    ['2024-01-31T12:00:00+18:01'],
    ['1/31/2024 0:05 AM'],
    ['19999'],
    ['80001'],
    ['18991231'],
    ['22000101'],
    ['123456.5'],
    ['2024-01-31 12:00:00.123456789         UTC'],
    ['2024-01-31T25:00:00'],
    ['30000101'],
    ['1.2.3.4'],
    ['443'],
    ['-1700000000'],
    ['2024-01-31 and more text'],
  ])('rejects %j', (text) => {
    expect(parseDateCell(text)).toBeNull();
  });
});
