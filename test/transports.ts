// Subscriptions as their clients see them over real transports (graphql-ws and GraphQL over
// SSE against a real HTTP server), whatever the transport: a Feed of results and its end.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type FormattedExecutionResult } from 'graphql';
import { createClient } from 'graphql-ws';
import { afterEach, expect } from 'vitest';
import WebSocket from 'ws';
import type { Client } from './kit.ts';

export type Result<T = Record<string, unknown>> = FormattedExecutionResult<T, unknown>;
/** The subscription has ended: completed, or cut (`error`: the close event or the errors). */
export type Ended = { ended: true; error?: unknown };

/** Clients and streams opened by this module, closed after each test. */
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

/** A subscription's results, read one at a time with a bound on each wait. */
export class Feed<T = Record<string, unknown>> {
  private pending?: Promise<Result<T> | Ended>;

  /** `cancel` ends the subscription from the client's side (by default the iterator's return). */
  constructor(
    private readonly results: AsyncIterator<Result<T>>,
    private readonly cancel: () => unknown = () => results.return?.(),
  ) {}

  /** The next result, its end, or 'timeout' if neither came within `ms` (the next call goes on waiting). */
  async next(ms = 5_000): Promise<Result<T> | Ended | 'timeout'> {
    this.pending ??= this.results.next().then(
      (step): Result<T> | Ended => (step.done ? { ended: true } : step.value),
      (error: unknown): Ended => ({ ended: true, error }),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, Math.max(ms, 0), 'timeout')));
    try {
      const step = await Promise.race([this.pending, timeout]);
      if (step !== 'timeout') this.pending = undefined;
      return step;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends the subscription from the client's side. */
  async close(): Promise<void> {
    await this.cancel();
  }

  /**
   * Results until one satisfies `until` (then no `end`) or the subscription ends; fails if
   * neither happens within `timeoutMs`.
   */
  async collect(
    until: (result: Result<T>) => boolean = () => false,
    timeoutMs = 20_000,
  ): Promise<{ results: Result<T>[]; end?: Ended }> {
    const results: Result<T>[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const step = await this.next(deadline - Date.now());
      if (step === 'timeout')
        throw new Error(`no end within ${timeoutMs} ms; results so far: ${JSON.stringify(results)}`);
      if ('ended' in step) return { results, end: step };
      results.push(step);
      if (until(step)) return { results };
    }
  }

  /** Results until one satisfies `until`; fails if the subscription ends or stalls first. */
  async until(until: (result: Result<T>) => boolean): Promise<Result<T>[]> {
    const { results, end } = await this.collect(until);
    if (end) throw new Error(`ended (${String(end.error)}); got ${JSON.stringify(results)}`);
    return results;
  }

  /**
   * The first result, calling `poke` (which must cause an event) until one arrives. For
   * subscriptions that send nothing at first: neither transport says when the server listens.
   */
  async primed(poke: () => Promise<unknown>, timeoutMs = 10_000): Promise<Result<T>> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      await poke();
      const step = await this.next(300);
      if (step === 'timeout') continue;
      if ('ended' in step) throw new Error(`ended before any result: ${JSON.stringify(step.error)}`);
      return step;
    }
    throw new Error(`no result within ${timeoutMs} ms`);
  }
}

/** A graphql-ws client on its own socket, connected at once, never retrying. */
export function connectWs(httpUrl: string, connectionParams: Record<string, unknown>) {
  const sockets: WebSocket[] = [];
  let onClosed!: (event: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => (onClosed = resolve));
  const client = createClient({
    url: `${httpUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams,
    lazy: false,
    retryAttempts: 0,
    onNonLazyError: () => {}, // seen through `closed`
    on: {
      opened: (socket) => void sockets.push(socket as WebSocket),
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string };
        onClosed({ code, reason });
      },
    },
  });
  cleanups.push(() => client.dispose());
  return {
    /** Every socket this client opened (one, unless it reconnected). */
    sockets,
    closed,
    subscribe<D, V>(document: TypedDocumentNode<D, V>, variables?: V): Feed<D> {
      return this.subscribePayload<D>({ query: print(document), variables: variables as Record<string, unknown> });
    },
    /** A subscription sent as the raw payload of a Subscribe message (a trusted document's hash, say). */
    subscribePayload<D = Record<string, unknown>>(payload: {
      query: string;
      variables?: Record<string, unknown>;
      extensions?: Record<string, unknown>;
    }): Feed<D> {
      return new Feed(client.iterate<D>(payload));
    },
  };
}

/** A graphql-ws client authenticated with the client's API key. */
export const connectWsAs = (httpUrl: string, client: Client) =>
  connectWs(httpUrl, { authorization: `Bearer ${client.key}` });

/** A subscription over HTTP: one POST answered with a text/event-stream; `close()` aborts it. */
export async function subscribeSse<D, V>(
  httpUrl: string,
  client: Client,
  document: TypedDocumentNode<D, V>,
  variables?: V,
): Promise<Feed<D>> {
  const abort = new AbortController();
  cleanups.push(() => abort.abort());
  const response = await fetch(`${httpUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${client.key}` },
    body: JSON.stringify({ query: print(document), variables }),
    signal: abort.signal,
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  return new Feed<D>(sseResults<D>(response.body!), () => abort.abort());
}

/** The `next` events of an event stream as results, ending at its `complete` event. */
async function* sseResults<D>(body: ReadableStream<Uint8Array>): AsyncGenerator<Result<D>> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error('the event stream ended without a complete event');
    buffer += decoder.decode(value, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const lines = buffer.slice(0, end).split('\n');
      buffer = buffer.slice(end + 2);
      // Lines are "field: value"; ":" alone is a keep-alive comment.
      const field = (name: string) =>
        lines.filter((line) => line.startsWith(`${name}:`)).map((line) => line.slice(name.length + 1).trimStart());
      const [event] = field('event');
      if (event === 'complete') return;
      if (event === 'next') yield JSON.parse(field('data').join('\n'));
    }
  }
}
