// Scalars shared by every module.
import { DateTime } from 'luxon';
import { createGraphQLError } from 'graphql-yoga';
import { Kind } from 'graphql';
import { parseDateCell } from '../dates.ts';
import { builder } from './builder.ts';

function parseDateTime(value: unknown): Date {
  if (typeof value === 'string') {
    // An offset is required: a time without one is ambiguous across time zones.
    const parsed = DateTime.fromISO(value, { setZone: true });
    if (parsed.isValid && /(?:Z|[+-]\d{2}(?::?\d{2})?)$/i.test(value)) return parsed.toJSDate();
  }
  throw createGraphQLError(
    `DateTime must be an ISO-8601 string with a time zone, e.g. 2024-01-31T12:00:00Z; got ${JSON.stringify(value)?.slice(0, 60)}`,
    {
      extensions: { code: 'BAD_USER_INPUT' },
    },
  );
}

builder.scalarType('DateTime', {
  description: 'An ISO-8601 date and time with offset; always answered in UTC.',
  serialize: (value) => (value instanceof Date ? value : new Date(value as string)).toISOString(),
  parseValue: parseDateTime,
  parseLiteral: (ast) => parseDateTime(ast.kind === Kind.STRING ? ast.value : undefined),
});

function parseDate(value: unknown): string {
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) && parseDateCell(value) !== null) return value;
  throw createGraphQLError(
    `Date must be an ISO-8601 date, e.g. 2024-01-31; got ${JSON.stringify(value)?.slice(0, 60)}`,
    {
      extensions: { code: 'BAD_USER_INPUT' },
    },
  );
}

builder.scalarType('Date', {
  description: 'A calendar day (UTC), ISO-8601: `2024-01-31`.',
  serialize: (value) => (value instanceof Date ? value : new Date(value as string)).toISOString().slice(0, 10),
  parseValue: parseDate,
  parseLiteral: (ast) => parseDate(ast.kind === Kind.STRING ? ast.value : undefined),
});

builder.scalarType('JSON', {
  description: 'A JSON value, as sent (e.g. the event an alert quotes).',
  serialize: (value) => value,
  parseValue: () => {
    throw createGraphQLError('JSON is an output-only scalar', { extensions: { code: 'BAD_USER_INPUT' } });
  },
});
