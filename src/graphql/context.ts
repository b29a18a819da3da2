// One context per request (HTTP, SSE or WebSocket): who is asking, what they may see,
// and request-scoped loaders. Resolvers read the viewer from here, never from headers.
import { decodeGlobalID } from '@pothos/plugin-relay';
import { createGraphQLError, type YogaInitialContext } from 'graphql-yoga';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { databaseUnavailableError, isDatabaseUnavailable } from '../db/unavailable.ts';
import type { RequestContext, Services } from '../services.ts';
import type { Access } from '../modules/communities/access.ts';
import {
  type Viewer,
  apiKeyFromAuthorization,
  authenticate,
  loadAccess,
  UnknownCommunitySelectionError,
} from '../modules/communities/service.ts';
import { noteViewer } from '../observability/request-log.ts';
import { createLoaders, type Loaders } from './loaders.ts';

export interface Context extends Services, RequestContext {
  loaders: Loaders;
  /** The communities named in X-Community-Ids (null: all the viewer's); open subscriptions reload access for them. */
  communitySelection: string[] | null;
}

/** Over graphql-ws the credentials travel in the connection parameters instead of headers. */
type InitialContext = YogaInitialContext & { connectionParams?: Record<string, unknown> };

export class AmbiguousConnectionParamError extends Error {
  constructor(readonly param: string) {
    super(`Connection parameter "${param}" is given under several casings with different values`);
  }
}

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
  if (values.size > 1) throw new AmbiguousConnectionParamError(name);
  const [value] = values;
  return typeof value === 'string' ? value : null;
}

function credentials(initial: InitialContext): { authorization: string | null; communities: string | null } {
  const params = initial.connectionParams;
  if (params) {
    try {
      return {
        authorization: connectionParam(params, 'authorization'),
        communities: connectionParam(params, 'x-community-ids'),
      };
    } catch (error) {
      if (!(error instanceof AmbiguousConnectionParamError)) throw error;
      throw createGraphQLError(error.message, { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
    }
  }
  return {
    authorization: initial.request.headers.get('authorization'),
    communities: initial.request.headers.get('x-community-ids'),
  };
}

export const unauthenticated = (message: string) =>
  createGraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });

function parseCommunitySelection(header: string | null): string[] | null {
  if (!header?.trim()) return null;
  return header.split(',').map((raw) => {
    const value = raw.trim();
    try {
      const { typename, id } = decodeGlobalID(value);
      if (typename === 'Community') return id;
    } catch {
      // reported below
    }
    throw createGraphQLError(`X-Community-Ids: "${value.slice(0, 100)}" is not a community id`, {
      extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
    });
  });
}

/** Counts the request against its key's allowance; past it, 429 with Retry-After. */
async function takeRequestAllowance(services: Services, apiKeyId: string): Promise<void> {
  if (!services.rateLimiter) return;
  try {
    await services.rateLimiter.consume(apiKeyId);
  } catch (rejection) {
    if (!(rejection instanceof RateLimiterRes)) throw rejection;
    const seconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
    throw createGraphQLError(
      `Rate limit: ${services.env.RATE_LIMIT_PER_MINUTE} requests a minute per API key; retry in ${seconds} s`,
      { extensions: { code: 'RATE_LIMITED', http: { status: 429, headers: { 'retry-after': String(seconds) } } } },
    );
  }
}

export async function createContext(services: Services, initial: InitialContext): Promise<Context> {
  try {
    return await contextOf(services, initial);
  } catch (error) {
    if (isDatabaseUnavailable(error)) throw databaseUnavailableError();
    throw error;
  }
}

async function viewerOf(services: Services, authorization: string | null): Promise<Viewer> {
  const key = apiKeyFromAuthorization(authorization);
  if (!key) throw unauthenticated('Missing API key: send "Authorization: Bearer <key>"');
  const viewer = await authenticate(services.prisma, key);
  if (!viewer) throw unauthenticated('Invalid or revoked API key');
  return viewer;
}

const viewersOfRequests = new WeakMap<Request, Viewer>();

/**
 * Checks an HTTP request's key before its body is read (src/graphql/request-guard.ts);
 * the request's context then reuses the answer instead of asking the database again.
 */
export async function authenticateRequest(services: Services, request: Request): Promise<Viewer> {
  const viewer = await viewerOf(services, request.headers.get('authorization'));
  viewersOfRequests.set(request, viewer);
  return viewer;
}

async function contextOf(services: Services, initial: InitialContext): Promise<Context> {
  const { authorization, communities } = credentials(initial);
  const viewer =
    (!initial.connectionParams && viewersOfRequests.get(initial.request)) || (await viewerOf(services, authorization));
  noteViewer(initial.request, viewer.userId);
  await takeRequestAllowance(services, viewer.apiKeyId);
  const communitySelection = parseCommunitySelection(communities);
  let access: Access;
  try {
    access = await loadAccess(services.prisma, viewer.userId, communitySelection);
  } catch (error) {
    if (error instanceof UnknownCommunitySelectionError) {
      throw createGraphQLError(error.message, { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
    }
    throw error;
  }
  return { ...services, viewer, access, communitySelection, loaders: createLoaders(services.prisma) };
}
