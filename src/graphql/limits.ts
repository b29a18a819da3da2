// Limits on what one operation may ask for, checked while it is parsed and validated (before
// any resolver runs), by graphql-armor's envelop plugins: the same over HTTP, SSE and
// WebSocket, since all three go through Yoga's envelop pipeline.
import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import type { Plugin } from 'graphql-yoga';
import type { Env } from '../config/env.ts';

export function queryLimitPlugins(env: Env): Plugin[] {
  return [
    // Counted by the parser: a huge document is refused before it is even fully parsed.
    maxTokensPlugin({ n: env.QUERY_MAX_TOKENS }),
    maxDepthPlugin({ n: env.QUERY_MAX_DEPTH, ignoreIntrospection: true, flattenFragments: true }),
    maxAliasesPlugin({ n: env.QUERY_MAX_ALIASES }),
    maxDirectivesPlugin({ n: env.QUERY_MAX_DIRECTIVES }),
    costLimitPlugin({ maxCost: env.QUERY_MAX_COST, ignoreIntrospection: true }),
    // "Did you mean …?" tells a stranger the schema's field names when introspection is off.
    ...(env.INTROSPECTION ? [] : [blockFieldSuggestionsPlugin()]),
  ] as Plugin[];
}
