// Who is calling and what they may see, from the credentials of an HTTP request (headers)
// or of a graphql-ws connection (its parameters): one answer for /graphql over HTTP, SSE
// and WebSocket and for the /api endpoints. A refusal is a RequestRefusedError whose code
// and HTTP status every edge answers as it is.
import { decodeGlobalID } from '@pothos/plugin-relay';
import { RateLimiterRes, type RateLimiterPostgres } from 'rate-limiter-flexible';
import type { Env } from '../../config/env.ts';
import type { Db } from '../../db/prisma.ts';
import type { Access } from './access.ts';
import { loadAccess, UnknownCommunitySelectionError, viewerOfApiKey } from './service.ts';
import type { Viewer } from './store.ts';

/** A request refused before any of its work: the edges answer `status` with `code` and `headers`. */
export class RequestRefusedError extends Error {
  constructor(
    readonly code: 'UNAUTHENTICATED' | 'BAD_REQUEST' | 'RATE_LIMITED',
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class UnauthenticatedError extends RequestRefusedError {
  constructor(message: string) {
    super('UNAUTHENTICATED', 401, message);
  }
}

/** Credentials that cannot be read: a malformed X-Community-Ids, a parameter given twice. */
export class BadCredentialsError extends RequestRefusedError {
  constructor(message: string) {
    super('BAD_REQUEST', 400, message);
  }
}

export class RateLimitedError extends RequestRefusedError {
  constructor(message: string, retryAfterSeconds: number) {
    super('RATE_LIMITED', 429, message, { 'retry-after': String(retryAfterSeconds) });
  }
}

/** The caller of a request: the key's holder, what they may see, and the communities they chose. */
export interface Caller {
  viewer: Viewer;
  access: Access;
  /** The communities named in X-Community-Ids (null: all the viewer's); open subscriptions reload access for them. */
  communitySelection: string[] | null;
}

/** The raw credentials, as the client sent them. */
export interface Credentials {
  /** The Authorization header or connection parameter. */
  authorization: string | null;
  /** The X-Community-Ids header or connection parameter. */
  communityIds: string | null;
}

/** What authentication needs of the process's services. */
interface AuthenticationServices {
  prisma: Db;
  /** Requests per API key; null when off. */
  rateLimiter: RateLimiterPostgres | null;
  env: Pick<Env, 'RATE_LIMIT_PER_MINUTE'>;
}

export const headerCredentials = (headers: Headers): Credentials => ({
  authorization: headers.get('authorization'),
  communityIds: headers.get('x-community-ids'),
});

/**
 * A graphql-ws connection parameter by name in any casing, as an HTTP header would be read.
 * Several casings with different values are refused: which one counts would be a guess.
 */
export function connectionParam(params: Record<string, unknown>, name: string): string | null {
  const values = new Set(
    Object.keys(params)
      .filter((key) => key.toLowerCase() === name)
      .map((key) => params[key]),
  );
  if (values.size > 1) {
    throw new BadCredentialsError(
      `Connection parameter "${name}" is given under several casings with different values`,
    );
  }
  const [value] = values;
  return typeof value === 'string' ? value : null;
}

export const connectionCredentials = (params: Record<string, unknown>): Credentials => ({
  authorization: connectionParam(params, 'authorization'),
  communityIds: connectionParam(params, 'x-community-ids'),
});

/** Bearer token from an `Authorization` value; tolerant of a missing scheme for widgets. */
function apiKeyFromAuthorization(value: string | null | undefined): string | null {
  if (!value) return null;
  const match = /^\s*(?:Bearer\s+)?(\S+)\s*$/i.exec(value);
  return match ? match[1] : null;
}

/** The holder of the key in an `Authorization` value; UnauthenticatedError without a valid key. */
export async function identify(services: { prisma: Db }, authorization: string | null): Promise<Viewer> {
  const key = apiKeyFromAuthorization(authorization);
  if (!key) throw new UnauthenticatedError('Missing API key: send "Authorization: Bearer <key>"');
  const viewer = await viewerOfApiKey(services.prisma, key);
  if (!viewer) throw new UnauthenticatedError('Invalid or revoked API key');
  return viewer;
}

function parseCommunitySelection(value: string | null): string[] | null {
  if (!value?.trim()) return null;
  return value.split(',').map((raw) => {
    const id = raw.trim();
    try {
      const decoded = decodeGlobalID(id);
      if (decoded.typename === 'Community') return decoded.id;
    } catch {
      // reported below
    }
    throw new BadCredentialsError(`X-Community-Ids: "${id.slice(0, 100)}" is not a community id`);
  });
}

/** Counts the request against its key's allowance; past it, RateLimitedError. */
async function takeRequestAllowance(services: AuthenticationServices, apiKeyId: string): Promise<void> {
  if (!services.rateLimiter) return;
  try {
    await services.rateLimiter.consume(apiKeyId);
  } catch (rejection) {
    if (!(rejection instanceof RateLimiterRes)) throw rejection;
    const seconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
    throw new RateLimitedError(
      `Rate limit: ${services.env.RATE_LIMIT_PER_MINUTE} requests a minute per API key; retry in ${seconds} s`,
      seconds,
    );
  }
}

export interface AuthenticateOptions {
  /** The holder of the key, when the request's key was already checked (src/graphql/request-guard.ts). */
  identified?: Viewer;
  /** Told who the caller is as soon as the key is known, before the other checks (for the request log). */
  onIdentified?: (viewer: Viewer) => void;
}

/**
 * The caller behind the credentials: the key's holder (UnauthenticatedError), counted against
 * the key's rate limit (RateLimitedError), with their access narrowed to the communities of
 * X-Community-Ids (BadCredentialsError for one that is malformed or not the viewer's).
 */
export async function authenticate(
  services: AuthenticationServices,
  credentials: Credentials,
  { identified, onIdentified }: AuthenticateOptions = {},
): Promise<Caller> {
  const viewer = identified ?? (await identify(services, credentials.authorization));
  onIdentified?.(viewer);
  await takeRequestAllowance(services, viewer.apiKeyId);
  const communitySelection = parseCommunitySelection(credentials.communityIds);
  let access: Access;
  try {
    access = await loadAccess(services.prisma, viewer.userId, communitySelection);
  } catch (error) {
    if (error instanceof UnknownCommunitySelectionError) throw new BadCredentialsError(error.message);
    throw error;
  }
  return { viewer, access, communitySelection };
}
