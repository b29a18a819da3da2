// GraphQL's share of GET /metrics (src/observability/metrics.ts holds the registry):
// @graphql-yoga/plugin-prometheus counters, HTTP answers and open subscriptions.
import {
  usePrometheus,
  createCounter,
  createHistogram,
  type FillLabelsFnParams,
} from '@graphql-yoga/plugin-prometheus';
import { GraphQLError } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { GRAPHQL_NAME, operationNameLabel, type Metrics } from '../observability/metrics.ts';
import { maskError } from './mask-error.ts';

const operationLabels = (params: FillLabelsFnParams) => ({
  operationName: operationNameLabel(params.operationName),
  operationType: params.operationType ?? 'unknown',
});

/** The code clients see for the error: errors are counted before Yoga masks them, so mask it the same way. */
function errorCode(params: FillLabelsFnParams): string {
  if (params.errorPhase === 'parse') return 'GRAPHQL_PARSE_FAILED';
  if (params.errorPhase === 'validate') return 'GRAPHQL_VALIDATION_FAILED';
  const shown = maskError(params.error, 'Unexpected error.');
  const code = shown instanceof GraphQLError ? shown.extensions.code : undefined;
  return typeof code === 'string' && GRAPHQL_NAME.test(code) ? code : 'INTERNAL_SERVER_ERROR';
}

/**
 * GraphQL metrics (@graphql-yoga/plugin-prometheus) into the instance's registry, and
 * GET /metrics. The request URL is left out of every label (a GET query carries variables).
 */
export function useMetrics(metrics: Metrics): Plugin[] {
  const { registry } = metrics;
  return [
    usePrometheus({
      registry,
      endpoint: '/metrics',
      metrics: {
        graphql_envelop_request: createCounter({
          registry,
          counter: {
            name: 'graphql_envelop_request',
            help: 'GraphQL operations executed, by operation name and type',
            labelNames: ['operationName', 'operationType'],
          },
          fillLabelsFn: operationLabels,
        }),
        graphql_envelop_request_duration: createHistogram({
          registry,
          histogram: {
            name: 'graphql_envelop_request_duration',
            help: 'Time to execute GraphQL operations (a subscription: while it was open), by name and type',
            labelNames: ['operationName', 'operationType'],
          },
          fillLabelsFn: operationLabels,
        }),
        graphql_envelop_error_result: createCounter({
          registry,
          counter: {
            name: 'graphql_envelop_error_result',
            help: 'GraphQL errors by code, phase, operation name and type',
            labelNames: ['operationName', 'operationType', 'phase', 'code'],
          },
          fillLabelsFn: (params) => ({
            ...operationLabels(params),
            phase: params.errorPhase ?? 'execute',
            code: errorCode(params),
          }),
        }),
        graphql_yoga_http_duration: createHistogram({
          registry,
          histogram: {
            name: 'graphql_yoga_http_duration',
            help: 'Time to answer GraphQL HTTP requests, by operation, method and status',
            labelNames: ['operationName', 'operationType', 'method', 'statusCode'],
          },
          fillLabelsFn: (params, { request, response }) => ({
            ...operationLabels(params),
            method: request.method,
            statusCode: response.status,
          }),
        }),
        graphql_envelop_request_time_summary: false,
        graphql_envelop_phase_parse: false,
        graphql_envelop_phase_validate: false,
        graphql_envelop_phase_context: false,
        graphql_envelop_phase_execute: false,
        graphql_envelop_phase_subscribe: false,
        graphql_envelop_deprecated_field: false,
        graphql_envelop_schema_change: false,
      },
    }),
    {
      onResponse({ response }) {
        metrics.httpResponses.inc({ status: String(response.status) });
      },
      onSubscribe() {
        return {
          onSubscribeResult({ result }) {
            if (!isAsyncIterable(result)) return;
            metrics.openSubscriptions.inc();
            return { onEnd: () => metrics.openSubscriptions.dec() };
          },
        };
      },
    },
  ];
}
