// What clients see of errors. Expected failures (our AppErrors, the caller's mistakes) are
// shown as they are; anything else becomes "Unexpected error." in every NODE_ENV: stack
// traces, driver messages, source paths and ids are for the server's log, which Yoga
// writes for every error masked here. Only `debug` (DEBUG_ERRORS=1) shows them.
import { PothosValidationError } from '@pothos/core';
import { GraphQLError } from 'graphql';
import { maskError as yogaMaskError } from 'graphql-yoga';
import { databaseUnavailableError, isDatabaseUnavailable } from '../db/unavailable.ts';
import { AppError } from '../errors.ts';
import { shortenIdsIn } from './global-id.ts';

/** Yoga's `maskedErrors.maskError`; `debug` is passed as Yoga's `isDev`. */
export function maskError(error: unknown, message: string, debug = false): Error {
  // Pothos rejects arguments it cannot use (an id of another type than the argument
  // takes, a negative `first`) with a validation error: the caller's mistake, said so.
  if (error instanceof GraphQLError && error.originalError instanceof PothosValidationError) {
    // The same error (so not logged as a fault of ours), with the code clients check,
    // and without echoing a hostile 10 kB id back in full.
    Object.assign(error, {
      message: shortenIdsIn(error.message),
      extensions: { ...error.extensions, code: 'BAD_USER_INPUT' },
    });
    return error;
  }
  // Our expected failures outside result unions: shown with their stable code.
  const appError = error instanceof GraphQLError ? error.originalError : error;
  if (appError instanceof AppError) return graphQLErrorOf(appError, error instanceof GraphQLError ? error : undefined);
  // A database outage is the client's cue to retry, not a bug to report.
  if (isDatabaseUnavailable(error instanceof GraphQLError ? error.originalError : error)) {
    return databaseUnavailableError();
  }
  // Yoga's own request errors pass its mask as they are, but some carry the parser's
  // message, which quotes the body ("POST body sent invalid JSON."): kept for the log.
  if (!debug && error instanceof GraphQLError && !error.originalError && error.extensions.originalError) {
    // Yoga picks the HTTP status by the presence of `originalError`: it stays, without the quote.
    const cause = error.extensions.originalError as { name?: string };
    return Object.assign(error, {
      extensions: { ...error.extensions, originalError: { name: cause.name, message: error.message } },
    });
  }
  return yogaMaskError(error, message, debug);
}

/** An expected failure as a GraphQL error, at the place (path, locations) where it was thrown. */
export function graphQLErrorOf(error: AppError, located?: GraphQLError): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: located?.nodes,
    source: located?.source,
    positions: located?.positions,
    path: located?.path,
    extensions: { code: error.code },
  });
}

/** What the server's log records of errors Yoga reports: the thrown error, stack included. */
export function loggedErrorOf(args: unknown[]): { err?: unknown } {
  const error = args.find((arg) => arg instanceof Error);
  if (!error) return {};
  return { err: error instanceof GraphQLError ? (error.originalError ?? error) : error };
}
