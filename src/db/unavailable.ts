// Whether an error means that PostgreSQL cannot be reached right now (down, restarting,
// connections cut), as opposed to a fault of the request or of our code. Such failures are
// answered 503 with Retry-After, so clients retry instead of reporting a bug.
import { createGraphQLError } from 'graphql-yoga';

/** Prisma: cannot reach, timed out, connection closed, no connection from the pool in time. */
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
/** Prisma's driver adapter (adapter-pg) kinds for the same. */
const DRIVER_ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout']);
/** Node's socket errors. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'EAI_AGAIN']);
/** SQLSTATE classes 08 (connection exception) and 57P0x (shutting down, starting up). */
const SQLSTATE = /^(08[0-9A-Z]{3}|57P0[1-3])$/;
/** node-postgres' own messages for a connection the server cut. */
const PG_MESSAGES = /^Connection terminated|^Client has encountered a connection error/;

export const RETRY_AFTER_SECONDS = 5;

export function isDatabaseUnavailable(error: unknown): boolean {
  // Library errors wrap the driver's: look down the chain of causes.
  for (let depth = 0, current = error; current && depth < 6; depth++) {
    if (typeof current !== 'object') return false;
    const { code, message, meta, cause } = current as {
      code?: unknown;
      message?: unknown;
      meta?: { driverAdapterError?: { cause?: { kind?: string; originalCode?: string } } };
      cause?: unknown;
    };
    if (typeof code === 'string' && (PRISMA_CODES.has(code) || SOCKET_CODES.has(code) || SQLSTATE.test(code)))
      return true;
    const adapterCause = meta?.driverAdapterError?.cause;
    if (adapterCause?.kind && DRIVER_ADAPTER_KINDS.has(adapterCause.kind)) return true;
    if (adapterCause?.originalCode && SQLSTATE.test(adapterCause.originalCode)) return true;
    if (typeof message === 'string' && PG_MESSAGES.test(message)) return true;
    current = cause;
  }
  return false;
}

/** The error a request gets while the database cannot be reached. */
export const databaseUnavailableError = () =>
  createGraphQLError(`The database is unavailable; retry in ${RETRY_AFTER_SECONDS} s.`, {
    extensions: {
      code: 'SERVICE_UNAVAILABLE',
      http: { status: 503, headers: { 'retry-after': String(RETRY_AFTER_SECONDS) } },
    },
  });
