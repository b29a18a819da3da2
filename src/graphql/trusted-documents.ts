// Trusted documents: the operations of the clients shipped with the service (the
// notification widget), by the sha256 of their text, from the manifest that GraphQL Code
// Generator writes (codegen.ts). A request names one by `documentId` or Apollo's
// `extensions.persistedQuery.sha256Hash` instead of sending its text. With
// TRUSTED_DOCUMENTS=only no other document runs, which keeps arbitrary (costly, probing)
// queries away from a production API; with `off`, any document runs and known hashes too,
// so clients can always send hashes.
import { readFileSync } from 'node:fs';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import type { Env } from '../config/env.ts';

const MANIFEST = new URL('../../examples/notification-widget/persisted-documents.json', import.meta.url);

/** sha256 hex → document. */
const trustedDocuments = new Map(Object.entries(JSON.parse(readFileSync(MANIFEST, 'utf8')) as Record<string, string>));

type Params = { query?: unknown; documentId?: unknown; extensions?: Record<string, unknown> | null };

/** The hash a request names, if any: `documentId` (with or without `sha256:`) or the Apollo extension. */
function documentIdOf(params: Params): string | null {
  if (typeof params.documentId === 'string') return params.documentId.replace(/^sha256:/, '');
  const persisted = params.extensions?.persistedQuery as { version?: unknown; sha256Hash?: unknown } | undefined;
  return persisted?.version === 1 && typeof persisted.sha256Hash === 'string' ? persisted.sha256Hash : null;
}

const HASH_FIELDS = '`documentId` or `extensions.persistedQuery.sha256Hash`';

/** The refusals, by kind; `http` adds the status for HTTP (over graphql-ws it would only be noise). */
function refusal(kind: 'textRefused' | 'unknownHash' | 'noDocument', env: Env, http = false) {
  const [message, code] = {
    textRefused: [
      `This service runs only trusted documents (TRUSTED_DOCUMENTS=only): send the sha256 of a trusted document as ${HASH_FIELDS}, not a query`,
      'TRUSTED_DOCUMENT_REQUIRED',
    ],
    unknownHash: [
      'Unknown document hash: no trusted document has this sha256 (was the client built for another version?)',
      'UNKNOWN_DOCUMENT_ID',
    ],
    noDocument: [
      env.TRUSTED_DOCUMENTS === 'off'
        ? `Must provide query string, or the sha256 of a trusted document as ${HASH_FIELDS}`
        : `Must provide the sha256 of a trusted document as ${HASH_FIELDS}`,
      'DOCUMENT_REQUIRED',
    ],
  }[kind];
  return createGraphQLError(message, { extensions: { code, ...(http && { http: { status: 400 } }) } });
}

/** HTTP (and SSE): resolves hashes to documents and, in `only` mode, refuses document text. */
export function useTrustedDocuments(env: Env): Plugin {
  return usePersistedOperations({
    allowArbitraryOperations: env.TRUSTED_DOCUMENTS === 'off',
    extractPersistedOperationId: documentIdOf,
    getPersistedOperation: (hash) => trustedDocuments.get(hash) ?? null,
    customErrors: {
      persistedQueryOnly: () => refusal('textRefused', env, true),
      notFound: () => refusal('unknownHash', env, true),
      keyNotFound: () => refusal('noDocument', env, true),
    },
  });
}

/**
 * The same rules for a graphql-ws subscribe message (whose `query` must be a string: empty
 * when it names a hash): the document to parse, or a refusal thrown.
 */
export function trustedQueryOf(env: Env, params: Params & { query: string }): string {
  if (params.query) {
    if (env.TRUSTED_DOCUMENTS === 'only') throw refusal('textRefused', env);
    return params.query;
  }
  const id = documentIdOf(params);
  if (id === null) throw refusal('noDocument', env);
  const document = trustedDocuments.get(id);
  if (document === undefined) throw refusal('unknownHash', env);
  return document;
}
