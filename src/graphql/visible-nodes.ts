// One access rule per node type, used by node(id), nodes(ids) and every field that leads
// to such an object. A relation never shows what node(id) would hide: an alert's
// collection to a viewer who may not read collections, a shared collection to a
// sub-community after its MSSP stopped sharing it.
import DataLoader from 'dataloader';
import type { Prisma } from '../generated/prisma/client.ts';
import type { RequestContext } from '../services.ts';

type NodeFilter = (ctx: RequestContext) => object;
type ModelName = Uncapitalize<Prisma.ModelName>;
interface NodeAccess {
  model: ModelName;
  filter: NodeFilter;
}
type Delegate = { findMany(args: object): Promise<{ id: string }[]> };

const accessByTypename = new Map<string, NodeAccess>();

/**
 * Registers the access rule of a node type and returns the `findUnique` of its prismaNode.
 * `filter` is the Prisma where-clause of the rows the request may see.
 */
export function nodeAccess<Where extends object>(
  typename: string,
  model: ModelName,
  filter: (ctx: RequestContext) => Where,
) {
  accessByTypename.set(typename, { model, filter });
  return (id: string, ctx: RequestContext) => ({ id, ...filter(ctx) });
}

// Per request (or per subscription), batched within a tick, never cached: a subscription's
// context lives for hours, and each event must see the rows and the access of its moment.
const loadersByContext = new WeakMap<RequestContext, Map<string, DataLoader<string, unknown>>>();

function loaderFor(ctx: RequestContext, typename: string): DataLoader<string, unknown> {
  let loaders = loadersByContext.get(ctx);
  if (!loaders) loadersByContext.set(ctx, (loaders = new Map()));
  let loader = loaders.get(typename);
  if (!loader) {
    const rule = accessByTypename.get(typename);
    if (!rule) throw new Error(`no access rule for node type ${typename}`);
    loader = new DataLoader(
      async (ids) => {
        const delegate = ctx.prisma[rule.model] as unknown as Delegate;
        // The filter is read when the batch runs, so a subscription sees the access it has now.
        const rows = await delegate.findMany({ where: { AND: [{ id: { in: [...ids] } }, rule.filter(ctx)] } });
        const byId = new Map(rows.map((row) => [row.id, row]));
        return ids.map((id) => byId.get(id) ?? null);
      },
      { cache: false },
    );
    loaders.set(typename, loader);
  }
  return loader;
}

/** The row of node type `typename` if the viewer may see it as node(id) would, else null. */
export const readVisibleNode = <Row>(ctx: RequestContext, typename: string, id: string) =>
  loaderFor(ctx, typename).load(id) as Promise<Row | null>;

/**
 * A resolver for a field that leads to a node: the object if the viewer may see it as
 * node(id) would, null otherwise (a non-null field is one whose parent's own access rule
 * already implies the child's). `idOf` reads the foreign key from the parent row.
 */
export function visibleNode<Parent>(typename: string, idOf: (parent: Parent) => string) {
  // `never`: the row of the node's model, whose type the field's `type` already states.
  return (parent: Parent, _args: unknown, ctx: RequestContext) =>
    loaderFor(ctx, typename).load(idOf(parent)) as Promise<never>;
}
