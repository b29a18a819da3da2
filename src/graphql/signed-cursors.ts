// Connection cursors are signed for the viewer (HMAC with a server key): a cursor is only
// ever one the server handed to this user. A forged cursor, or one naming another tenant's
// row, would otherwise be a position in someone else's data: it told a foreign id from a
// missing one, and skipped one of the caller's own rows. Any cursor that fails the check
// is answered exactly like a malformed one.
//
// Pothos issues and reads the plain cursors; this wraps them at the edge: the edges'
// `cursor` and PageInfo's start/end cursors are signed as they are resolved, and every
// `after`/`before` of a connection is checked and unwrapped before the operation runs
// (Pothos reads nested connection arguments while loading their parent).
import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  defaultFieldResolver,
  getNamedType,
  isObjectType,
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type GraphQLField,
  type GraphQLSchema,
} from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import type { Context } from './context.ts';

const SEPARATOR = '.';
const CURSOR_ARGUMENTS = new Set(['after', 'before']);

const mac = (key: Buffer, userId: string, cursor: string) =>
  createHmac('sha256', key).update(`${userId}\0${cursor}`).digest('base64url').slice(0, 32);

export const signCursor = (key: Buffer, userId: string, cursor: string) =>
  `${cursor}${SEPARATOR}${mac(key, userId, cursor)}`;

const invalidCursor = () =>
  createGraphQLError('Invalid cursor: pass a cursor from a page of the same list', {
    extensions: { code: 'BAD_USER_INPUT' },
  });

/** The plain cursor inside a signed one; a cursor that is not one of ours fails as malformed. */
export function openCursor(key: Buffer, userId: string, signed: string): string {
  const at = signed.lastIndexOf(SEPARATOR);
  if (at < 1) throw invalidCursor();
  const cursor = signed.slice(0, at);
  const expected = Buffer.from(mac(key, userId, cursor));
  const given = Buffer.from(signed.slice(at + 1));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalidCursor();
  return cursor;
}

const isCursorArgument = (field: GraphQLField<unknown, unknown> | null | undefined, argument: string) =>
  field != null && CURSOR_ARGUMENTS.has(argument) && getNamedType(field.type).name.endsWith('Connection');

/** The operation with every connection's after/before opened (literals and variables). */
function openCursorArguments(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | null | undefined,
  open: (signed: string) => string,
): { document: DocumentNode; variables: Record<string, unknown> | undefined } {
  const typeInfo = new TypeInfo(schema);
  const opened = { ...variables };
  const openedVariables = new Set<string>();
  const result = visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Argument(node) {
        if (!isCursorArgument(typeInfo.getFieldDef(), node.name.value)) return undefined;
        if (node.value.kind === Kind.STRING)
          return { ...node, value: { ...node.value, value: open(node.value.value) } };
        if (node.value.kind === Kind.VARIABLE) {
          const name = node.value.name.value;
          if (typeof opened[name] === 'string' && !openedVariables.has(name)) {
            opened[name] = open(opened[name] as string);
            openedVariables.add(name);
          }
        }
        return undefined;
      },
    }),
  );
  return { document: result, variables: variables ? opened : undefined };
}

// Whether a document names `after` or `before` at all, once per parsed document (Yoga
// caches those): most operations have no cursor and skip the walk with the schema.
const namesCursors = new WeakMap<DocumentNode, boolean>();
function mayHaveCursors(document: DocumentNode): boolean {
  let known = namesCursors.get(document);
  if (known === undefined) {
    known = false;
    visit(document, {
      Argument(node) {
        if (CURSOR_ARGUMENTS.has(node.name.value)) known = true;
      },
    });
    namesCursors.set(document, known);
  }
  return known;
}

/** Checks and opens incoming cursors for queries, mutations and subscriptions alike. */
export function useSignedCursors(): Plugin<Context> {
  const openArgs = (args: {
    schema: GraphQLSchema;
    document: DocumentNode;
    variableValues?: Record<string, unknown> | null;
    contextValue: Context;
  }) => {
    if (!mayHaveCursors(args.document)) return;
    const { cursorKey, viewer } = args.contextValue;
    const { document, variables } = openCursorArguments(args.schema, args.document, args.variableValues, (signed) =>
      openCursor(cursorKey, viewer.userId, signed),
    );
    args.document = document;
    args.variableValues = variables;
  };
  return {
    onExecute: ({ args }) => openArgs(args as never),
    onSubscribe: ({ args }) => openArgs(args as never),
  };
}

const signedSchemas = new WeakSet<GraphQLSchema>();

/** Makes the schema's edge and page-info cursors come out signed for the viewer. */
export function signCursorsOf(schema: GraphQLSchema): GraphQLSchema {
  if (signedSchemas.has(schema)) return schema;
  signedSchemas.add(schema);
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type)) continue;
    const fields = type.getFields();
    const names =
      type.name === 'PageInfo' ? ['startCursor', 'endCursor'] : type.name.endsWith('Edge') ? ['cursor'] : [];
    for (const name of names) {
      const field = fields[name];
      if (!field) continue;
      const resolve = field.resolve ?? defaultFieldResolver;
      field.resolve = async (parent, args, ctx: Context, info) => {
        const cursor: unknown = await resolve(parent, args, ctx, info);
        return typeof cursor === 'string' ? signCursor(ctx.cursorKey, ctx.viewer.userId, cursor) : cursor;
      };
    }
  }
  return schema;
}
