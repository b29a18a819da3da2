// The plain HTTP endpoints beside GraphQL (/api/...): one way to route, authenticate and
// answer errors, so they behave like the GraphQL endpoint (same key, same community
// selection, same 401/400/429 answers, CORS from Yoga's plugin).
import type { Plugin } from 'graphql-yoga';
import { databaseUnavailableError, isDatabaseUnavailable } from './db/unavailable.ts';
import {
  authenticate,
  headerCredentials,
  RequestRefusedError,
  type Caller,
} from './modules/communities/authenticate.ts';
import { noteViewer } from './observability/request-log.ts';
import type { Services } from './services.ts';

type FetchAPI = { Response: typeof Response };

export function jsonResponse(fetchAPI: FetchAPI, status: number, body: unknown, headers: Record<string, string> = {}) {
  return new fetchAPI.Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

export const errorResponse = (fetchAPI: FetchAPI, status: number, message: string) =>
  jsonResponse(fetchAPI, status, { errors: [{ message }] });

export interface EndpointRequest {
  request: Request;
  url: URL;
  /** The path's captured groups. */
  params: string[];
  /** Who is asking and what they may see, as GraphQL would have it. */
  caller: Caller;
  fetchAPI: FetchAPI;
}

/** The answer to a thrown error: its own status (401, 400, 429, 503), else a masked 500. */
export function failureResponse(services: Services, fetchAPI: FetchAPI, url: URL, error: unknown): Response {
  // The same shape as GraphQL's own errors: the message and the stable code.
  if (error instanceof RequestRefusedError) {
    return jsonResponse(
      fetchAPI,
      error.status,
      { errors: [{ message: error.message, extensions: { code: error.code } }] },
      error.headers,
    );
  }
  const thrown = isDatabaseUnavailable(error) ? databaseUnavailableError() : error;
  const extensions = (
    thrown as { extensions?: { code?: string; http?: { status?: number; headers?: Record<string, string> } } }
  ).extensions;
  const http = extensions?.http;
  if (http?.status) {
    const error = {
      message: (thrown as Error).message,
      ...(extensions?.code && { extensions: { code: extensions.code } }),
    };
    return jsonResponse(fetchAPI, http.status, { errors: [error] }, http.headers);
  }
  services.logger.error({ err: error, path: url.pathname }, 'endpoint failed');
  return errorResponse(fetchAPI, 500, 'Unexpected error.');
}

/** An authenticated endpoint at `path` answering `method`; other methods get 405. */
export function endpoint(
  services: Services,
  method: 'GET' | 'POST',
  path: RegExp,
  handle: (request: EndpointRequest) => Promise<Response>,
): Plugin {
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      const match = path.exec(url.pathname);
      if (!match) return;
      if (request.method !== method) return endResponse(errorResponse(fetchAPI, 405, `Use ${method}`));
      try {
        const caller = await authenticate(services, headerCredentials(request.headers), {
          onIdentified: (viewer) => noteViewer(request, viewer.userId),
        });
        endResponse(await handle({ request, url, params: match.slice(1), caller, fetchAPI }));
      } catch (error) {
        endResponse(failureResponse(services, fetchAPI, url, error));
      }
    },
  };
}
