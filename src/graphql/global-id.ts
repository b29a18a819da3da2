// Global ids are base64 of `Type:uuid`. A malformed one is the caller's mistake and gets a
// clear error instead of a masked one; a well-formed id of a foreign object is answered
// later exactly like a missing one.
import { isObjectType, type GraphQLSchema } from 'graphql';
import { createGraphQLError } from 'graphql-yoga';

const MAX_GLOBAL_ID_LENGTH = 200;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TYPENAME = /^[A-Z][A-Za-z]{0,63}$/;

/** An id as an error message may show it: a hostile 10 kB id is cut to its first 40 characters. */
export const shortenId = (globalID: string) => (globalID.length > 40 ? `${globalID.slice(0, 40)}…` : globalID);

/** Every id-like run of characters in a message, shortened (for messages written by libraries). */
export const shortenIdsIn = (message: string) => message.replace(/[\w+/=-]{41,}/g, shortenId);

export function decodeGlobalIdOrFail(globalID: string): { typename: string; id: string } {
  const invalid = () =>
    createGraphQLError(`Invalid ID "${shortenId(globalID)}"`, {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  if (globalID.length > MAX_GLOBAL_ID_LENGTH) throw invalid();
  const decoded = Buffer.from(globalID, 'base64').toString('utf8');
  const separator = decoded.indexOf(':');
  const typename = decoded.slice(0, separator);
  const id = decoded.slice(separator + 1);
  if (separator < 1 || !TYPENAME.test(typename) || !UUID.test(id)) throw invalid();
  return { typename, id: id.toLowerCase() };
}

/** node(id) and nodes(ids) take an id of any type, but only of a type of object that has ids. */
export function assertNodeTypename(typename: string, schema: GraphQLSchema): void {
  const type = schema.getType(typename);
  if (!isObjectType(type) || !type.getInterfaces().some((i) => i.name === 'Node')) {
    throw createGraphQLError(`Invalid ID: there are no objects of type "${typename.slice(0, 64)}"`, {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
}

/** The raw id of a global id of `typename` in a URL path; null (answered as missing) otherwise. */
export function rawIdFromPath(segment: string, typename: string): string | null {
  try {
    const decoded = decodeGlobalIdOrFail(decodeURIComponent(segment));
    return decoded.typename === typename ? decoded.id : null;
  } catch {
    return null;
  }
}
