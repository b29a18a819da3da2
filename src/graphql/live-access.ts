// Subscriptions keep checking access while they are open, whatever the transport. Every
// root subscription field is wrapped once here (a Pothos plugin), not field by field:
// - it starts only if the viewer holds the field's permission (its `authScopes`) and the
//   API key one more of its SUBSCRIPTIONS_MAX_PER_KEY leases;
// - before each event, and as soon as any access change is announced, the viewer's access
//   is read again from the process's cache: a revoked key ends the subscription with
//   UNAUTHENTICATED, a missing permission with FORBIDDEN; otherwise the context takes the
//   new access, so filters and resolvers of later events apply it.
import SchemaBuilder, {
  BasePlugin,
  PothosSchemaError,
  type PothosOutputFieldConfig,
  type SchemaTypes,
} from '@pothos/core';
import { RequestCache } from '@pothos/plugin-scope-auth';
import type { GraphQLFieldResolver } from 'graphql';
import { createGraphQLError, Repeater } from 'graphql-yoga';
import type { Permission } from '../generated/prisma/enums.ts';
import type { Access } from '../modules/communities/access.ts';
import { UnknownCommunitySelectionError } from '../modules/communities/service.ts';
import type { SubscriptionLease } from '../modules/subscriptions/service.ts';
import type { Context } from './context.ts';
import { ForbiddenError } from '../errors.ts';

declare global {
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      liveAccess: LiveAccessPlugin<Types>;
    }
  }
}

/** What a subscription field needs for as long as it is open. */
interface AccessRule {
  field: string;
  permission: Permission | null;
}

/** Delivered instead of an event to end the subscription: the field's resolver throws `error`. */
class AccessEnded {
  constructor(readonly error: Error) {}
}

function accessRule<Types extends SchemaTypes>(fieldConfig: PothosOutputFieldConfig<Types>): AccessRule {
  const field = `${fieldConfig.parentType}.${fieldConfig.name}`;
  const scopes = (fieldConfig.pothosOptions as { authScopes?: unknown }).authScopes;
  if (scopes === undefined) return { field: fieldConfig.name, permission: null };
  const keys = typeof scopes === 'object' && scopes ? Object.keys(scopes) : [];
  if (keys.length !== 1 || keys[0] !== 'permission') {
    throw new PothosSchemaError(`${field}: subscriptions re-check authScopes of the form { permission } only`);
  }
  return { field: fieldConfig.name, permission: (scopes as { permission: Permission }).permission };
}

function forbidden(access: Access, { field, permission }: AccessRule): ForbiddenError | null {
  if (permission && !access.hasAnywhere(permission)) {
    return new ForbiddenError(
      `${field} needs the ${permission} permission in one of the communities this subscription acts on`,
      permission,
    );
  }
  if (!access.communityIds.length) {
    return new ForbiddenError(`${field} needs a membership of the communities this subscription acts on`, 'membership');
  }
  return null;
}

/**
 * Reads the viewer's access again (from the cache); the end of the subscription if it may
 * no longer go on, or if access cannot be read (the database away): it fails closed, and
 * the error goes through the resolver so that it is masked like any other.
 */
async function recheck(ctx: Context, rule: AccessRule): Promise<AccessEnded | null> {
  let current;
  try {
    current = await ctx.accessCache.current(ctx.viewer.apiKeyId, ctx.communitySelection);
  } catch (error) {
    if (!(error instanceof UnknownCommunitySelectionError)) return new AccessEnded(error as Error);
    return new AccessEnded(new ForbiddenError(`${rule.field}: ${error.message}`, 'membership'));
  }
  if (!current) {
    return new AccessEnded(createGraphQLError('The API key was revoked', { extensions: { code: 'UNAUTHENTICATED' } }));
  }
  if (current.access !== ctx.access) {
    const changed = current.access.fingerprint !== ctx.access.fingerprint;
    ctx.access = current.access;
    // Scope checks of later events must ask the new access, not reuse earlier answers.
    if (changed) RequestCache.clearForContext(ctx);
  }
  const denied = forbidden(current.access, rule);
  return denied && new AccessEnded(denied);
}

/** The field's events, each delivered only after a re-check; ended at once when a change forbids more. */
function keepChecking(
  source: AsyncIterable<unknown>,
  ctx: Context,
  rule: AccessRule,
  lease: SubscriptionLease,
): AsyncIterableIterator<unknown> {
  const events = source[Symbol.asyncIterator]();
  const cleanUp = () => Promise.all([events.return?.(), lease.release()]);
  const checked = new Repeater(async (push, stop) => {
    const end = (ended: AccessEnded) => {
      // Values pushed before stop are still delivered: the error reaches the client, then the end.
      void push(ended);
      stop();
    };
    const stopListening = ctx.accessCache.onInvalidate(() => {
      void recheck(ctx, rule).then((ended) => ended && end(ended));
    });
    try {
      for (;;) {
        const step = await Promise.race([events.next(), stop]);
        if (!step || step.done) break;
        const ended = await recheck(ctx, rule);
        if (ended) return end(ended);
        await push(step.value);
      }
      stop();
    } catch (error) {
      stop(error);
    } finally {
      stopListening();
      await cleanUp();
    }
  });
  // A Repeater runs its executor on the first `next()` only: a subscription ended before
  // that (a client gone at once) must still give its lease back and stop its source.
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next: () => checked.next(),
    return: async (value?: unknown) => {
      const result = await checked.return(value as undefined);
      await cleanUp();
      return result;
    },
    throw: async (error?: unknown) => {
      try {
        return await checked.throw(error);
      } finally {
        await cleanUp();
      }
    },
  };
}

export class LiveAccessPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  private isRootSubscriptionField(fieldConfig: PothosOutputFieldConfig<Types>): boolean {
    return this.buildCache.getTypeConfig(fieldConfig.parentType).kind === 'Subscription';
  }

  override wrapSubscribe(
    subscribe: GraphQLFieldResolver<unknown, Types['Context'], object> | undefined,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types['Context'], object> | undefined {
    if (!subscribe || !this.isRootSubscriptionField(fieldConfig)) return subscribe;
    const rule = accessRule(fieldConfig);
    return async (parent, args, context, info) => {
      const ctx = context as unknown as Context;
      const denied = forbidden(ctx.access, rule);
      if (denied) throw denied;
      const lease = await ctx.subscriptionLeases.acquire(ctx.viewer.apiKeyId);
      try {
        const source = (await subscribe(parent, args, context, info)) as AsyncIterable<unknown>;
        return keepChecking(source, ctx, rule, lease);
      } catch (error) {
        await lease.release();
        throw error;
      }
    };
  }

  override wrapResolve(
    resolve: GraphQLFieldResolver<unknown, Types['Context'], object>,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types['Context'], object> {
    if (!this.isRootSubscriptionField(fieldConfig)) return resolve;
    return (event, args, context, info) => {
      if (event instanceof AccessEnded) throw event.error;
      return resolve(event, args, context, info);
    };
  }
}

SchemaBuilder.registerPlugin('liveAccess', LiveAccessPlugin);

export default 'liveAccess' as const;
