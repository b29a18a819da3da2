// Expected failures of the domain. Every one is an AppError with a stable `code`, and none
// knows about GraphQL: at the schema edge the errors plugin turns them into members of the
// mutation result unions, and src/graphql/mask-error.ts shows them elsewhere (queries,
// subscriptions, /api) as errors with the same code. Anything else thrown is masked.

export const ErrorCode = {
  VALIDATION: 'VALIDATION',
  NOT_FOUND: 'NOT_FOUND',
  FORBIDDEN: 'FORBIDDEN',
  CONFLICT: 'CONFLICT',
  QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
  INDICATOR_REVOKED: 'INDICATOR_REVOKED',
  UNREADABLE_FILE: 'UNREADABLE_FILE',
  SUBSCRIPTION_LIMIT: 'SUBSCRIPTION_LIMIT',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends AppError {
  /** `field` is the path of the offending input, e.g. `input.validUntil`. */
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(ErrorCode.VALIDATION, message);
  }
}

export class NotFoundError extends AppError {
  constructor(what: string) {
    super(ErrorCode.NOT_FOUND, `${what} not found`);
  }
}

/** The object is visible to the caller, but the caller may not do this with it. */
export class ForbiddenError extends AppError {
  constructor(
    message: string,
    readonly missingPermission: string,
  ) {
    super(ErrorCode.FORBIDDEN, message);
  }
}

export class ConflictError extends AppError {
  constructor(message: string) {
    super(ErrorCode.CONFLICT, message);
  }
}

export class QuotaExceededError extends AppError {
  constructor(
    readonly limit: number,
    readonly current: number,
  ) {
    super(ErrorCode.QUOTA_EXCEEDED, `Community quota of ${limit} indicators reached (${current} stored)`);
  }
}

export class IndicatorRevokedError extends AppError {
  constructor() {
    super(ErrorCode.INDICATOR_REVOKED, 'The indicator is revoked; revoked indicators cannot be changed');
  }
}

/** An uploaded file that cannot be read as CSV, XLS or XLSX; `reason` says why. */
export class UnreadableFileError extends AppError {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(ErrorCode.UNREADABLE_FILE, message);
  }
}

/** One subscription more than a connection or an API key may hold open; the message names the limit. */
export class SubscriptionLimitError extends AppError {
  constructor(message: string) {
    super(ErrorCode.SUBSCRIPTION_LIMIT, message);
  }
}
