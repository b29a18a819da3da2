// What a GraphQL request must pass before its body is read: a valid API key (no body of
// an unknown caller is buffered or parsed), then a size bound on the body, enforced as it
// streams in. Plain JSON is small (GRAPHQL_MAX_BODY_BYTES); only a multipart upload may be
// large, and its file part is bounded on its own (UPLOAD_MAX_BYTES) as it streams.
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import type { Env } from '../config/env.ts';
import { failureResponse } from '../http-endpoint.ts';
import type { Services } from '../services.ts';
import { identifyRequest } from './context.ts';

const CONTENT_LENGTH = /^\d+$/;

/** The largest body a request of this content type may send. */
function bodyLimit(env: Env, contentType: string | null): number {
  // The whole multipart request, with room to spare so that the file limit answers first
  // (413 naming the file) for any file a little over it.
  return contentType?.toLowerCase().startsWith('multipart/form-data')
    ? 2 * env.UPLOAD_MAX_BYTES + 1024 * 1024
    : env.GRAPHQL_MAX_BODY_BYTES;
}

const tooLarge = (limit: number) =>
  createGraphQLError(`Request body too large: at most ${limit} bytes (import long lists of indicators as a file)`, {
    extensions: { code: 'REQUEST_ENTITY_TOO_LARGE', http: { status: 413 } },
  });

type FetchAPI = { Request: typeof Request; TransformStream: typeof TransformStream };

/** A body that fails with 413 as soon as more than `limit` bytes have come in. */
function limitedBody(request: Request, limit: number, fetchAPI: FetchAPI): Request {
  // The server adapter's streams and Node's own do not mix: transform with the body's kind.
  const Transform = request.body instanceof ReadableStream ? TransformStream : fetchAPI.TransformStream;
  let received = 0;
  const body = request.body!.pipeThrough(
    new Transform<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        received += chunk.byteLength;
        if (received > limit) controller.error(tooLarge(limit));
        else controller.enqueue(chunk);
      },
    }),
  );
  return new fetchAPI.Request(request.url, {
    method: request.method,
    headers: request.headers,
    signal: request.signal,
    body,
    duplex: 'half',
  } as RequestInit);
}

export function useRequestGuard(services: Services): Plugin {
  const { env } = services;
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (request.method !== 'POST' || url.pathname !== '/graphql') return;
      try {
        await identifyRequest(services, request);
      } catch (error) {
        endResponse(failureResponse(services, fetchAPI, url, error));
      }
    },
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const limit = bodyLimit(env, request.headers.get('content-type'));
      const length = request.headers.get('content-length');
      if (length !== null && (!CONTENT_LENGTH.test(length) || Number(length) > limit)) throw tooLarge(limit);
      if (!requestParser || !request.body) return;
      setRequestParser((req) => requestParser(limitedBody(req, limit, fetchAPI)));
    },
  };
}
