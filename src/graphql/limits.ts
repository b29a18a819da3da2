// Limits on what one operation may ask for, checked before any resolver runs: the same over
// HTTP, SSE and WebSocket, since all three go through Yoga's envelop pipeline. graphql-armor
// bounds the document (tokens, depth, aliases, directives); the Pothos complexity plugin
// bounds its cost with the page sizes asked for (see builder.ts).
import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import type { FieldComplexityValue } from '@pothos/plugin-complexity';
import { GraphQLError, getNullableType, isListType, type GraphQLField } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Env } from '../config/env.ts';
import { ValidationError } from '../errors.ts';

/** The largest page a connection serves (`first` or `last`). */
export const MAX_PAGE_SIZE = 100;
/** The page size of a connection asked without `first` or `last`. */
export const DEFAULT_PAGE_SIZE = 20;
/** What a plain list (e.g. an indicator's threats) is assumed to hold, for its cost. */
const LIST_COST_MULTIPLIER = 10;

export function queryLimitPlugins(env: Env): Plugin[] {
  return [
    // Counted by the parser: a huge document is refused before it is even fully parsed.
    maxTokensPlugin({ n: env.QUERY_MAX_TOKENS }),
    maxDepthPlugin({ n: env.QUERY_MAX_DEPTH, ignoreIntrospection: true, flattenFragments: true }),
    maxAliasesPlugin({ n: env.QUERY_MAX_ALIASES }),
    maxDirectivesPlugin({ n: env.QUERY_MAX_DIRECTIVES }),
    // "Did you mean …?" tells a stranger the schema's field names when introspection is off.
    ...(env.INTROSPECTION ? [] : [blockFieldSuggestionsPlugin()]),
  ] as Plugin[];
}

/**
 * A field's cost: 1, and what it selects times the rows it can return. A connection returns
 * the page asked for, so a page larger than MAX_PAGE_SIZE is refused here, with the variables
 * applied and before anything runs, instead of being cut short unseen.
 */
export function fieldComplexity<Context>(
  args: Record<string, unknown>,
  _ctx: Context,
  field: GraphQLField<unknown, Context, Record<string, unknown>>,
): FieldComplexityValue {
  // nodes(ids:) returns one object per id: each id's selection counts.
  if (field.name === 'nodes' && Array.isArray(args.ids)) {
    if (args.ids.length > MAX_PAGE_SIZE)
      throw new ValidationError('ids', `nodes(ids:) takes at most ${MAX_PAGE_SIZE} ids, not ${args.ids.length}`);
    return { field: 1, multiplier: args.ids.length };
  }
  if (field.args.some((arg) => arg.name === 'first')) {
    for (const name of ['first', 'last'] as const) {
      const size = args[name];
      if (typeof size === 'number' && size > MAX_PAGE_SIZE)
        throw new ValidationError(name, `${field.name}(${name}:) may be at most ${MAX_PAGE_SIZE}, not ${size}`);
    }
    const size = (args.first ?? args.last ?? DEFAULT_PAGE_SIZE) as number;
    return { field: 1, multiplier: Math.max(size, 0) };
  }
  // A connection's edges are its page, already counted on the connection field.
  if (isListType(getNullableType(field.type)))
    return { field: 1, multiplier: field.name === 'edges' ? 1 : LIST_COST_MULTIPLIER };
  return 1;
}

/** The error of an operation past QUERY_MAX_COST; a GraphQLError, so it is not masked. */
export const complexityError = (_kind: unknown, result: { complexity: number; maxComplexity?: number }) =>
  new GraphQLError(
    `Operation cost ${result.complexity} is past the cost limit of ${result.maxComplexity} (page sizes count: ask for smaller pages or fewer fields)`,
    { extensions: { code: 'QUERY_TOO_COSTLY' } },
  );
