// The GraphQL HTTP handler (queries, mutations, SSE subscriptions, GraphiQL). Tests
// call `yoga.fetch` in-process; src/server.ts adds the WebSocket transport.
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import { createYoga, useReadinessCheck, type YogaServerInstance } from 'graphql-yoga';
import { createContext, type Context } from './graphql/context.ts';
import { graphiqlTabs } from './graphql/graphiql-examples.ts';
import { schema } from './graphql/schema.ts';
import type { Services } from './services.ts';

export type Yoga = YogaServerInstance<Record<string, unknown>, Context>;

export function createYogaApp(services: Services): Yoga {
  const { env } = services;
  return createYoga<Record<string, unknown>, Context>({
    schema,
    context: (initial) => createContext(services, initial),
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/health',
    landingPage: false,
    batching: false,
    // Unexpected errors reach clients as "Unexpected error."; expected ones are data.
    maskedErrors: { isDev: env.NODE_ENV === 'development' },
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
      useReadinessCheck({
        endpoint: '/ready',
        check: async () => {
          await services.pool.query('SELECT 1');
          return (await services.boss.isInstalled()) === true;
        },
      }),
      ...(env.INTROSPECTION ? [] : [useDisableIntrospection()]),
    ],
  });
}
