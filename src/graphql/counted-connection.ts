// A root connection with `totalCount` whose page and count are filtered alike: both come
// from one where-clause, built once per field from the arguments and the caller's access.
import type { Listing } from '../db/listing.ts';
import type { Context } from './context.ts';

/** `resolve` and `totalCount` for a `t.prismaConnection` over a store's listing. */
export function countedConnection<Where, Args, Parent = unknown>(
  listing: Listing<Where, never>,
  whereOf: (ctx: Context, args: Args, parent: Parent) => Where,
) {
  return {
    // `never`: the page's row type is the connection's, which Pothos infers from its `type`.
    resolve: (query: object, parent: Parent, args: Args, ctx: Context) =>
      listing.page(ctx.prisma, whereOf(ctx, args, parent), query as never) as Promise<never>,
    totalCount: (parent: Parent, args: Args, ctx: Context) => listing.count(ctx.prisma, whereOf(ctx, args, parent)),
  };
}
