// The schema builder and its plugins; types live in src/modules/*/schema.ts.
import SchemaBuilder from '@pothos/core';
import ComplexityPlugin from '@pothos/plugin-complexity';
import ErrorsPlugin from '@pothos/plugin-errors';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin, { AuthScopeFailureType, type AuthFailure } from '@pothos/plugin-scope-auth';
import type { Permission } from '../generated/prisma/enums.ts';
import type PrismaTypes from '../generated/pothos-prisma-types.ts';
import { getDatamodel } from '../generated/pothos-prisma-types.ts';
import type { Context } from './context.ts';
import { AppError, ForbiddenError } from '../errors.ts';
import { assertNodeTypename, decodeGlobalIdOrFail } from './global-id.ts';
import LiveAccessPlugin from './live-access.ts';
import { complexityError, DEFAULT_PAGE_SIZE, fieldComplexity, MAX_PAGE_SIZE } from './limits.ts';

/** The permission a failed scope check asked for, for ForbiddenError.missingPermission. */
function firstMissingPermission(failure: AuthFailure): string | undefined {
  if (failure.kind === AuthScopeFailureType.AuthScope && failure.scope === 'permission')
    return String(failure.parameter);
  if ('failures' in failure) for (const f of failure.failures) return firstMissingPermission(f);
  return undefined;
}

const capitalise = (s: string) => s[0].toUpperCase() + s.slice(1);

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  AuthScopes: {
    /** The viewer holds this permission in at least one of the request's communities. */
    permission: Permission;
  };
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    Date: { Input: string; Output: Date };
    JSON: { Input: unknown; Output: unknown };
    File: { Input: File; Output: never };
    ID: { Input: string; Output: string };
  };
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
  Connection: { totalCount?: number | (() => Promise<number>) };
}>({
  // Order matters. Relay first so that authScopes see decoded global ids; errors around
  // scope-auth so that a permission failure of a mutation is a ForbiddenError member of
  // its result union; scope-auth before the plugin that loads data (prisma);
  // complexity last (innermost): a root field checks the operation's cost once authorised,
  // before resolving; a page-size error of a mutation becomes a member of its result union.
  // Live access (src/graphql/live-access.ts) sits outside scope-auth so that its end-of-access
  // error, not a scope failure, reaches the client.
  plugins: [RelayPlugin, ErrorsPlugin, LiveAccessPlugin, ScopeAuthPlugin, PrismaPlugin, ComplexityPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    // Every request is authenticated by createContext; scopes only check permissions.
    authScopes: (ctx) => ({
      permission: (permission) => ctx.access.hasAnywhere(permission),
    }),
    treatErrorsAsUnauthorized: true,
    unauthorizedError: (_parent, _ctx, _info, result) =>
      new ForbiddenError(result.message, firstMissingPermission(result.failure) ?? 'unknown'),
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    edgesFieldOptions: { nullable: false },
    nodeFieldOptions: { nullable: false },
    decodeGlobalID: decodeGlobalIdOrFail,
    // An id of a type that has no ids (or of no type at all) is malformed, not a missing object.
    nodeQueryOptions: {
      resolve: (_root, { id }, _ctx, info, resolveNode) => {
        assertNodeTypename(id.typename, info.schema);
        return resolveNode(id);
      },
    },
    nodesQueryOptions: {
      resolve: (_root, { ids }, _ctx, info, resolveNodes) => {
        for (const id of ids) assertNodeTypename(id.typename, info.schema);
        return resolveNodes(ids);
      },
    },
  },
  errors: {
    // Only our own error classes become data; a Prisma or internal error stays masked.
    defaultTypes: [AppError],
    defaultUnionOptions: { name: ({ fieldName }) => `${capitalise(fieldName)}Result` },
    defaultResultOptions: { name: ({ fieldName }) => `${capitalise(fieldName)}Success` },
  },
  complexity: {
    fieldComplexity,
    complexityError,
    limit: (ctx) => ({ complexity: ctx.env.QUERY_MAX_COST }),
  },
  prisma: {
    client: (ctx) => ctx.prisma,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    filterConnectionTotalCount: true,
    maxConnectionSize: MAX_PAGE_SIZE,
    defaultConnectionSize: DEFAULT_PAGE_SIZE,
    onUnusedQuery: process.env.NODE_ENV === 'production' ? null : 'warn',
  },
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
