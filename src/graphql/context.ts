// One context per request (HTTP, SSE or WebSocket): who is asking, what they may see,
// and request-scoped loaders. Resolvers read the viewer from here, never from headers.
import { createGraphQLError, type YogaInitialContext } from 'graphql-yoga';
import { databaseUnavailableError, isDatabaseUnavailable } from '../db/unavailable.ts';
import type { RequestContext, Services } from '../services.ts';
import {
  authenticate,
  connectionCredentials,
  headerCredentials,
  identify,
  RequestRefusedError,
  type Caller,
  type Credentials,
} from '../modules/communities/authenticate.ts';
import type { Viewer } from '../modules/communities/store.ts';
import { noteViewer } from '../observability/request-log.ts';
import { createLoaders, type Loaders } from './loaders.ts';

export interface Context extends Services, RequestContext, Caller {
  loaders: Loaders;
}

/** Over graphql-ws the credentials travel in the connection parameters instead of headers. */
type InitialContext = YogaInitialContext & { connectionParams?: Record<string, unknown> };

/** A refused request as GraphQL answers it: its code, its HTTP status and headers. */
const graphQLErrorOfRefusal = (error: RequestRefusedError) =>
  createGraphQLError(error.message, {
    extensions: {
      code: error.code,
      http: { status: error.status, ...(Object.keys(error.headers).length && { headers: error.headers }) },
    },
  });

export async function createContext(services: Services, initial: InitialContext): Promise<Context> {
  try {
    return await contextOf(services, initial);
  } catch (error) {
    if (isDatabaseUnavailable(error)) throw databaseUnavailableError();
    if (error instanceof RequestRefusedError) throw graphQLErrorOfRefusal(error);
    throw error;
  }
}

const viewersOfRequests = new WeakMap<Request, Viewer>();

/**
 * Checks an HTTP request's key before its body is read (src/graphql/request-guard.ts);
 * the request's context then reuses the answer instead of asking the database again.
 */
export async function identifyRequest(services: Services, request: Request): Promise<Viewer> {
  const viewer = await identify(services, request.headers.get('authorization'));
  viewersOfRequests.set(request, viewer);
  return viewer;
}

async function contextOf(services: Services, initial: InitialContext): Promise<Context> {
  const { connectionParams, request } = initial;
  const credentials: Credentials = connectionParams
    ? connectionCredentials(connectionParams)
    : headerCredentials(request.headers);
  const caller = await authenticate(services, credentials, {
    identified: connectionParams ? undefined : viewersOfRequests.get(request),
    onIdentified: (viewer) => noteViewer(request, viewer.userId),
  });
  return { ...services, ...caller, loaders: createLoaders(services.prisma) };
}
