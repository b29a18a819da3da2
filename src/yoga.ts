// The GraphQL HTTP handler (queries, mutations, SSE subscriptions, GraphiQL). Tests
// call `yoga.fetch` in-process; src/server.ts adds the WebSocket transport.
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import { PothosValidationError } from '@pothos/core';
import { createFetch } from '@whatwg-node/fetch';
import { GraphQLError } from 'graphql';
import { createYoga, maskError, useReadinessCheck, type YogaServerInstance } from 'graphql-yoga';
import { databaseUnavailableError, isDatabaseUnavailable } from './db/unavailable.ts';
import { createContext, type Context } from './graphql/context.ts';
import { graphiqlTabs } from './graphql/graphiql-examples.ts';
import { shortenIdsIn } from './graphql/global-id.ts';
import { queryLimitPlugins } from './graphql/limits.ts';
import { schema } from './graphql/schema.ts';
import { useRejectedRowsCsv } from './modules/imports/rejected-rows-csv.ts';
import { useEventIngest } from './modules/telemetry/events-endpoint.ts';
import { useHeatmapSvg } from './modules/telemetry/heatmap-endpoint.ts';
import type { Services } from './services.ts';

export type Yoga = YogaServerInstance<Record<string, unknown>, Context>;

export function createYogaApp(services: Services): Yoga {
  const { env } = services;
  return createYoga<Record<string, unknown>, Context>({
    schema,
    context: (initial) => createContext(services, initial),
    // Uploads past the limit are refused with 413 while they stream in, before they fill memory.
    fetchAPI: createFetch({ formDataLimits: { fileSize: env.UPLOAD_MAX_BYTES, files: 1, fields: 20 } }),
    // The whole request, with room to spare so that the file limit above answers first
    // (413 naming the file) for any file a little over it.
    maxRequestBodySize: 2 * env.UPLOAD_MAX_BYTES + 1024 * 1024,
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/health',
    landingPage: false,
    batching: false,
    // Unexpected errors reach clients as "Unexpected error."; expected ones are data.
    maskedErrors: {
      isDev: env.NODE_ENV === 'development',
      // Pothos rejects arguments it cannot use (an id of another type than the argument
      // takes, a negative `first`) with a validation error: the caller's mistake, said so.
      maskError: (error, message, isDev) => {
        if (error instanceof GraphQLError && error.originalError instanceof PothosValidationError) {
          // The same error (so not logged as a fault of ours), with the code clients check,
          // and without echoing a hostile 10 kB id back in full.
          Object.assign(error, {
            message: shortenIdsIn(error.message),
            extensions: { ...error.extensions, code: 'BAD_USER_INPUT' },
          });
          return error;
        }
        // A database outage is the client's cue to retry, not a bug to report.
        if (isDatabaseUnavailable(error instanceof GraphQLError ? error.originalError : error)) {
          return databaseUnavailableError();
        }
        return maskError(error, message, isDev);
      },
    },
    graphiql: env.GRAPHIQL
      ? { title: 'IOC Collections', defaultTabs: graphiqlTabs, shouldPersistHeaders: true }
      : false,
    logging: {
      debug: (...args) => services.logger.debug(args.join(' ')),
      info: (...args) => services.logger.info(args.join(' ')),
      warn: (...args) => services.logger.warn(args.join(' ')),
      error: (...args) => services.logger.error(args.map(String).join(' ')),
    },
    plugins: [
      useRejectedRowsCsv(services),
      useEventIngest(services),
      useHeatmapSvg(services),
      useReadinessCheck({
        endpoint: '/ready',
        // Not ready is a plain 503: the driver's message would name the database's host and port.
        check: async () => {
          try {
            await services.pool.query('SELECT 1');
            return (await services.boss.isInstalled()) === true;
          } catch {
            return false;
          }
        },
      }),
      ...queryLimitPlugins(env),
      ...(env.INTROSPECTION ? [] : [useDisableIntrospection()]),
    ],
  });
}
