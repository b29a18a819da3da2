// HTTP and WebSocket on one port and path. WebSocket subscriptions are built through
// yoga.getEnveloped, so authentication, limits and error masking are the same as over HTTP.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { getOperationAST, GraphQLError, type ExecutionArgs } from 'graphql';
import { CloseCode, type Context as WsContext } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { AppError, SubscriptionLimitError } from './errors.ts';
import { graphQLErrorOf } from './graphql/mask-error.ts';
import { trustedQueryOf } from './graphql/trusted-documents.ts';
import {
  BadCredentialsError,
  connectionParam,
  identify,
  UnauthenticatedError,
} from './modules/communities/authenticate.ts';
import type { Services } from './services.ts';
import { createYogaApp, type Yoga } from './yoga.ts';

export interface HttpService {
  server: Server;
  yoga: Yoga;
  url: string;
  close(graceMs: number): Promise<void>;
}

type EnvelopedRoot = { execute: (args: ExecutionArgs) => unknown; subscribe: (args: ExecutionArgs) => unknown };
type SocketContext = WsContext<Record<string, unknown>, { request: IncomingMessage; socket: WebSocket }>;

function asGraphQLErrors(error: unknown): GraphQLError[] {
  if (error instanceof AppError) return [graphQLErrorOf(error)];
  if (error instanceof GraphQLError) return [error];
  return [new GraphQLError('Unexpected error.')];
}

export async function startHttpServer(
  services: Services,
  { host, port }: { host: string; port: number },
): Promise<HttpService> {
  const yoga = createYogaApp(services);
  const server = createServer(yoga);
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // A frame past WS_MAX_PAYLOAD_BYTES closes its socket with 1009 (message too big).
  const wsServer = new WebSocketServer({
    server,
    path: yoga.graphqlEndpoint,
    maxPayload: services.env.WS_MAX_PAYLOAD_BYTES,
  });
  // The API key of every acknowledged socket: a revoked key's sockets are closed with 4403
  // as soon as the change is announced, whether or not an event comes.
  const keyOfSocket = new Map<WebSocket, string>();
  const stopWatchingKeys = services.accessCache.onInvalidate(() => {
    for (const [socket, apiKeyId] of keyOfSocket) {
      services.accessCache.viewer(apiKeyId).then(
        (viewer) => viewer || socket.close(CloseCode.Forbidden, 'Forbidden'),
        (error: unknown) => services.logger.warn({ err: error }, 'API key of a WebSocket not re-checked'),
      );
    }
  });
  /** Ids of each socket's subscriptions (pruned of those that have ended), for WS_MAX_SUBSCRIPTIONS_PER_SOCKET. */
  const subscriptionsOfSocket = new WeakMap<SocketContext, Set<string>>();
  const maxPerSocket = services.env.WS_MAX_SUBSCRIPTIONS_PER_SOCKET;

  const ws = useServer(
    {
      execute: (args) => (args.rootValue as EnvelopedRoot).execute(args) as never,
      subscribe: (args) => (args.rootValue as EnvelopedRoot).subscribe(args) as never,
      // A missing or wrong key closes the socket with 4403 before any operation; a key given
      // under two casings with different values with 4400.
      onConnect: async (ctx: SocketContext) => {
        try {
          const viewer = await identify(services, connectionParam(ctx.connectionParams ?? {}, 'authorization'));
          keyOfSocket.set(ctx.extra.socket, viewer.apiKeyId);
          return true;
        } catch (error) {
          if (error instanceof UnauthenticatedError) return false;
          if (!(error instanceof BadCredentialsError)) throw error;
          ctx.extra.socket.close(CloseCode.BadRequest, 'authorization given twice with different values');
          return false;
        }
      },
      onClose: (ctx: SocketContext) => {
        keyOfSocket.delete(ctx.extra.socket);
      },
      onSubscribe: async (ctx: SocketContext, id, params) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
          connectionParams: ctx.connectionParams ?? {},
        });
        try {
          const document = parse(trustedQueryOf(services.env, params));
          const errors = validate(schema, document);
          if (errors.length) return errors;
          if (getOperationAST(document, params.operationName)?.operation === 'subscription') {
            const open = [...(subscriptionsOfSocket.get(ctx) ?? [])].filter(
              (other) => other !== id && other in ctx.subscriptions,
            );
            if (open.length >= maxPerSocket) {
              return [
                graphQLErrorOf(
                  new SubscriptionLimitError(
                    `Subscription limit reached: a connection may hold at most ${maxPerSocket} open subscriptions ` +
                      '(WS_MAX_SUBSCRIPTIONS_PER_SOCKET); end one, or open another connection',
                  ),
                ),
              ];
            }
            subscriptionsOfSocket.set(ctx, new Set([...open, id]));
          }
          return {
            schema,
            document,
            operationName: params.operationName,
            variableValues: params.variables,
            contextValue: await contextFactory(),
            rootValue: { execute, subscribe },
          };
        } catch (error) {
          // Returned, not thrown: a throw would close the whole socket.
          return asGraphQLErrors(error);
        }
      },
    },
    wsServer,
  );

  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    server,
    yoga,
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${actualPort}`,
    async close(graceMs) {
      // Stop accepting, tell WebSocket clients to reconnect elsewhere, let requests finish.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      stopWatchingKeys();
      await ws.dispose();
      server.closeIdleConnections();
      const timer = setTimeout(() => sockets.forEach((s) => s.destroy()), graceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}
