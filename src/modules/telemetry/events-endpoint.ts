// POST /api/events: newline-delimited ECS events for one community, read as a stream.
// Answers { accepted, rejected, errors: [{ line, reason }] }; 413 (with the same counts)
// when the body passes EVENTS_MAX_BYTES (400 when it cannot be read on, e.g. broken gzip),
// after keeping what was read before.
import type { Plugin } from 'graphql-yoga';
import { endpoint, errorResponse, jsonResponse } from '../../http-endpoint.ts';
import type { Services } from '../../services.ts';
import { ingestEvents } from './ingest.ts';

export const useEventIngest = (services: Services): Plugin =>
  endpoint(services, 'POST', /^\/api\/events$/, async ({ request, ctx, fetchAPI }) => {
    const communities = ctx.access.communitiesWith('INGEST_EVENTS');
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
    let body = request.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() });
    // The size limit counts decompressed bytes, so a small compressed bomb stops at it too.
    if (encoding === 'gzip') body = body.pipeThrough(new DecompressionStream('gzip') as never);
    // Node's web streams are async iterable; the DOM typings used here do not say so.
    const chunks = body as unknown as AsyncIterable<Uint8Array>;
    const [communityId] = communities;
    const result = await ingestEvents(services, chunks, {
      communityId,
      ancestorIds: ctx.access.ancestorsOf(communityId),
    });
    const status = !result.truncated ? 200 : result.truncated.cause === 'TOO_LARGE' ? 413 : 400;
    return jsonResponse(fetchAPI, status, result);
  });
