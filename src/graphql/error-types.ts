// GraphQL types of the expected failures (errors as data).
import { builder } from './builder.ts';
import {
  AppError,
  ConflictError,
  ErrorCode,
  ForbiddenError,
  IndicatorRevokedError,
  NotFoundError,
  QuotaExceededError,
  UnreadableFileError,
  ValidationError,
} from '../errors.ts';

const ErrorCodeEnum = builder.enumType('ErrorCode', { values: Object.values(ErrorCode) });

export const ErrorInterface = builder.interfaceRef<AppError>('Error').implement({
  description: 'An expected failure, returned as data. `code` is stable; `message` is for people.',
  fields: (t) => ({
    message: t.exposeString('message'),
    code: t.field({ type: ErrorCodeEnum, resolve: (error) => error.code }),
  }),
});

builder.objectType(AppError, { name: 'BaseError', interfaces: [ErrorInterface] });

builder.objectType(ValidationError, {
  name: 'ValidationError',
  description: 'An input value was rejected; `field` is its path, e.g. `input.validUntil`.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ field: t.exposeString('field') }),
});

builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  description: 'No such object, or one the caller may not see (the two answer alike).',
  interfaces: [ErrorInterface],
});

builder.objectType(ForbiddenError, {
  name: 'ForbiddenError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ missingPermission: t.exposeString('missingPermission') }),
});

builder.objectType(ConflictError, { name: 'ConflictError', interfaces: [ErrorInterface] });

builder.objectType(QuotaExceededError, {
  name: 'QuotaExceededError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ limit: t.exposeInt('limit'), current: t.exposeInt('current') }),
});

builder.objectType(IndicatorRevokedError, { name: 'IndicatorRevokedError', interfaces: [ErrorInterface] });

builder.objectType(UnreadableFileError, {
  name: 'UnreadableFileError',
  description: 'The file is not a readable CSV, XLS or XLSX file; nothing was stored.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    reason: t.exposeString('reason', {
      description:
        'EMPTY_FILE, UNSUPPORTED_FORMAT, ENCRYPTED_WORKBOOK, WORKBOOK_TOO_LARGE, MALFORMED_FILE, UNKNOWN_SHEET or PARSE_TIMEOUT.',
    }),
  }),
});
