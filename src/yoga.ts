// The GraphQL HTTP handler (queries, mutations, SSE subscriptions, GraphiQL). Tests
// call `yoga.fetch` in-process; src/server.ts adds the WebSocket transport.
import { databaseAnswers } from './db/prisma.ts';
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import { createFetch } from '@whatwg-node/fetch';
import { createYoga, useReadinessCheck, type YogaServerInstance } from 'graphql-yoga';
import { createContext, type Context } from './graphql/context.ts';
import { corsPolicy } from './graphql/cors.ts';
import { graphiqlOptions } from './graphql/graphiql-examples.ts';
import { queryLimitPlugins } from './graphql/limits.ts';
import { loggedErrorOf, maskError } from './graphql/mask-error.ts';
import { useRequestGuard } from './graphql/request-guard.ts';
import { signCursorsOf, useSignedCursors } from './graphql/signed-cursors.ts';
import { schema } from './graphql/schema.ts';
import { useTrustedDocuments } from './graphql/trusted-documents.ts';
import { useMetrics } from './graphql/metrics-plugin.ts';
import { useRequestLog } from './observability/request-log.ts';
import { useRejectedRowsCsv } from './modules/imports/rejected-rows-endpoint.ts';
import { eventPipeline } from './event-pipeline.ts';
import { useEventIngest } from './modules/events/endpoint.ts';
import { useHeatmapSvg } from './modules/telemetry/heatmap-endpoint.ts';
import type { Services } from './services.ts';

export type Yoga = YogaServerInstance<Record<string, unknown>, Context>;

export function createYogaApp(services: Services): Yoga {
  const { env } = services;
  return createYoga<Record<string, unknown>, Context>({
    schema: signCursorsOf(schema),
    context: (initial) => createContext(services, initial),
    // Uploads past the limit are refused with 413 while they stream in, before they fill memory.
    fetchAPI: createFetch({ formDataLimits: { fileSize: env.UPLOAD_MAX_BYTES, files: 1, fields: 20 } }),
    // Bounded per kind of body by useRequestGuard, once the key has been checked.
    maxRequestBodySize: false,
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/health',
    landingPage: false,
    batching: false,
    // Unexpected errors reach clients as "Unexpected error." (with details only under
    // DEBUG_ERRORS, whatever NODE_ENV); expected ones are data.
    maskedErrors: { isDev: env.DEBUG_ERRORS, maskError },
    cors: corsPolicy(env),
    graphiql: env.GRAPHIQL ? () => graphiqlOptions(services) : false,
    // The page with GraphiQL's scripts and styles inlined: nothing loaded from a CDN. Imported
    // on the first view: its 9 MB of assets take about half a second to load.
    renderGraphiQL: async (options) => (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options),
    logging: {
      debug: (...args) => services.logger.debug(args.join(' ')),
      info: (...args) => services.logger.info(args.join(' ')),
      warn: (...args) => services.logger.warn(args.join(' ')),
      error: (...args) => services.logger.error(loggedErrorOf(args), args.map(String).join(' ')),
    },
    plugins: [
      useRequestLog(services),
      ...useMetrics(services.metrics),
      useRequestGuard(services),
      useSignedCursors(),
      useTrustedDocuments(env),
      useRejectedRowsCsv(services),
      useEventIngest(services, eventPipeline(services)),
      useHeatmapSvg(services),
      useReadinessCheck({
        endpoint: '/ready',
        // Not ready is a plain 503: the driver's message would name the database's host and port.
        check: async () =>
          (await databaseAnswers(services.pool)) && (await services.boss.isInstalled().catch(() => false)) === true,
      }),
      ...queryLimitPlugins(env),
      ...(env.INTROSPECTION ? [] : [useDisableIntrospection()]),
    ],
  });
}
