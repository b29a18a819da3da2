// POST /api/events: newline-delimited ECS events for one community, read as a stream.
// Answers { accepted, rejected, errors: [{ line, reason }] }; 413 (with the same counts)
// when the body passes EVENTS_MAX_BYTES (400 when it cannot be read on, e.g. broken gzip),
// after keeping what was read before.
import type { Plugin } from 'graphql-yoga';
import { endpoint, errorResponse, jsonResponse } from '../../http-endpoint.ts';
import type { Services } from '../../services.ts';
import type { EventPipeline } from './pipeline.ts';

export const useEventIngest = (services: Services, pipeline: EventPipeline): Plugin =>
  endpoint(services, 'POST', /^\/api\/events$/, async ({ request, caller, fetchAPI }) => {
    const communities = caller.access.communitiesWith('INGEST_EVENTS');
    if (communities.length === 0) {
      return errorResponse(fetchAPI, 403, 'This API key may not send events: that needs the INGEST_EVENTS permission.');
    }
    if (communities.length > 1) {
      return errorResponse(
        fetchAPI,
        400,
        'This API key may send events to several communities: choose one with the X-Community-Ids header.',
      );
    }
    const { EVENTS_MAX_BYTES } = services.env;
    if (Number(request.headers.get('content-length')) > EVENTS_MAX_BYTES) {
      return errorResponse(fetchAPI, 413, `The body is larger than ${EVENTS_MAX_BYTES} bytes.`);
    }
    const encoding = request.headers.get('content-encoding')?.trim().toLowerCase() || 'identity';
    if (encoding !== 'identity' && encoding !== 'gzip') {
      return errorResponse(fetchAPI, 415, `Content-Encoding "${encoding.slice(0, 40)}" is not supported; use gzip.`);
    }
    const raw = (request.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() })).getReader();
    // Ingest stopping early (size limit, broken gzip) cancels what it reads; that must not
    // cancel the request body, which destroyed the request and its socket before the answer
    // was written: a client on a real connection got "socket hang up", never the 413 or 400
    // with its counts. So ingest reads through a stream whose cancel leaves the body alone,
    // and the rest of the body is read and dropped after the answer (see discardRest).
    let body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { done, value } = await raw.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel() {},
    });
    // The size limit counts decompressed bytes, so a small compressed bomb stops at it too.
    if (encoding === 'gzip') body = body.pipeThrough(new DecompressionStream('gzip') as never);
    // Node's web streams are async iterable; the DOM typings used here do not say so.
    const chunks = body as unknown as AsyncIterable<Uint8Array>;
    const [communityId] = communities;
    const result = await pipeline.ingest(chunks, { communityId, ancestorIds: caller.access.ancestorsOf(communityId) });
    const status = !result.truncated ? 200 : result.truncated.cause === 'TOO_LARGE' ? 413 : 400;
    if (result.truncated) void discardRest(raw);
    return jsonResponse(fetchAPI, status, result);
  });

/**
 * Reads the rest of a body that was not read to its end and drops it, after the answer,
 * so that the client can finish sending and read the answer (closing a socket with unread
 * data resets it, and a cut-off connection breaks the client's next request on it). Node
 * does the same for any body a handler leaves unread (req._dump()), bounded in time by
 * the server's requestTimeout. Raw bytes: nothing is decompressed or parsed.
 */
async function discardRest(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  try {
    while (!(await reader.read()).done);
  } catch {
    // The client went away: nothing left to read.
  }
}
