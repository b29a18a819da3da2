// HTTP and WebSocket on one port and path. WebSocket subscriptions are built through
// yoga.getEnveloped, so authentication, limits and error masking are the same as over HTTP.
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import { type Context as WsContext } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { apiKeyFromAuthorization, authenticate } from './modules/communities/service.ts';
import type { Services } from './services.ts';
import { createYogaApp, type Yoga } from './yoga.ts';

export interface HttpService {
  server: Server;
  yoga: Yoga;
  url: string;
  close(graceMs: number): Promise<void>;
}

type EnvelopedRoot = { execute: (args: ExecutionArgs) => unknown; subscribe: (args: ExecutionArgs) => unknown };

function asGraphQLErrors(error: unknown): GraphQLError[] {
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
  const ws = useServer(
    {
      execute: (args) => (args.rootValue as EnvelopedRoot).execute(args) as never,
      subscribe: (args) => (args.rootValue as EnvelopedRoot).subscribe(args) as never,
      // A missing or wrong key closes the socket with 4403 before any operation.
      onConnect: async (ctx) => {
        const key = apiKeyFromAuthorization(String(ctx.connectionParams?.authorization ?? ''));
        return key ? (await authenticate(services.prisma, key)) !== null : false;
      },
      onSubscribe: async (
        ctx: WsContext<Record<string, unknown>, { request: import('node:http').IncomingMessage; socket: unknown }>,
        _id,
        params,
      ) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
          connectionParams: ctx.connectionParams ?? {},
        });
        try {
          const document = parse(params.query);
          const errors = validate(schema, document);
          if (errors.length) return errors;
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
      await ws.dispose();
      server.closeIdleConnections();
      const timer = setTimeout(() => sockets.forEach((s) => s.destroy()), graceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}
