// One log line per HTTP request, and its request id: taken from X-Request-Id when it is a
// plausible id, else made here, and sent back in `x-request-id` on every answer. The line
// names the operation and the viewer, never the key, headers, query string or variables.
import { randomUUID } from 'node:crypto';
import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import { operationNameLabel } from './metrics.ts';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** The caller's request id if it is safe to log and echo, else a new one. */
export const requestIdOf = (header: string | null) => (header && REQUEST_ID.test(header) ? header : randomUUID());

/** Scrapes and probes are logged at debug level: they come every few seconds. */
const QUIET_PATHS = new Set(['/metrics', '/health', '/ready']);

interface RequestRecord {
  id: string;
  startedAt: number;
  operationName?: string;
  operationType?: string;
}

const records = new WeakMap<Request, RequestRecord>();
const viewers = new WeakMap<Request, string>();

/** Remembers who made the request, for its log line (called where the API key is checked). */
export function noteViewer(request: Request | undefined, userId: string): void {
  if (request) viewers.set(request, userId);
}

export function useRequestLog({ logger }: { logger: Logger }): Plugin {
  return {
    onRequest({ request }) {
      records.set(request, { id: requestIdOf(request.headers.get('x-request-id')), startedAt: performance.now() });
    },
    onParse({ context }) {
      const { request, params } = context as { request?: Request; params?: { operationName?: string } };
      return ({ result }) => {
        const record = request && records.get(request);
        if (!record || result instanceof Error || !result) return;
        const operation = getOperationAST(result, params?.operationName);
        record.operationName = operationNameLabel(operation?.name?.value);
        record.operationType = operation?.operation;
      };
    },
    onResponse({ request, response }) {
      // Answers of Yoga's own handlers that come before this plugin (CORS preflight, /health)
      // were never seen by onRequest: they get an id, but no duration.
      const record = records.get(request) ?? { id: requestIdOf(request.headers.get('x-request-id')), startedAt: NaN };
      response.headers.set('x-request-id', record.id);
      const path = new URL(request.url).pathname.slice(0, 200);
      const durationMs = performance.now() - record.startedAt;
      const line = {
        requestId: record.id,
        method: request.method,
        path,
        operationName: record.operationName,
        operationType: record.operationType,
        status: response.status,
        durationMs: Number.isNaN(durationMs) ? undefined : Math.round(durationMs * 10) / 10,
        viewerId: viewers.get(request),
      };
      if (QUIET_PATHS.has(path)) logger.debug(line, 'request');
      else logger.info(line, 'request');
    },
  };
}
