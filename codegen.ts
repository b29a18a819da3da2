// GraphQL Code Generator: typed documents for the operations the tests (and benches)
// write with `graphql(...)`, and the notification widget's persisted documents, all checked
// against the committed schema.
import { createHash } from 'node:crypto';
import type { CodegenConfig } from '@graphql-codegen/cli';
import { Kind, print, visit, type DefinitionNode, type FragmentDefinitionNode } from 'graphql';

/** The widget's trusted documents: committed, served beside the widget, read by the service. */
export const PERSISTED_DOCUMENTS = 'examples/notification-widget/persisted-documents.json';

/**
 * `{ sha256 hex of the document: document }`, one document per operation: the operation
 * then the fragments it spreads (by name), so a client can send the hash in its place.
 */
function persistedDocuments(definitions: readonly DefinitionNode[]): string {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const manifest: Record<string, string> = {};
  for (const operation of definitions) {
    if (operation.kind !== Kind.OPERATION_DEFINITION) continue;
    const used = new Set<string>();
    const collect = (node: DefinitionNode) =>
      visit(node, {
        FragmentSpread({ name }) {
          if (used.has(name.value)) return;
          used.add(name.value);
          collect(fragments.get(name.value)!);
        },
      });
    collect(operation);
    const document = [operation, ...[...used].sort().map((name) => fragments.get(name)!)].map(print).join('\n\n');
    manifest[createHash('sha256').update(document).digest('hex')] = document;
  }
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  ignoreNoDocuments: true,
  emitLegacyCommonJSImports: false,
  generates: {
    'test/generated/': {
      documents: ['test/**/*.ts', 'bench/**/*.ts', '!test/generated/**'],
      preset: 'client',
      config: {
        scalars: { DateTime: 'string', File: 'File' },
        enumsAsTypes: true,
        useTypeImports: true,
      },
      presetConfig: { fragmentMasking: false },
    },
    [PERSISTED_DOCUMENTS]: {
      documents: ['examples/notification-widget/operations.graphql'],
      preset: {
        buildGeneratesSection: ({ baseOutputDir, schema, documents }) => [
          {
            filename: baseOutputDir,
            schema,
            documents,
            config: {},
            plugins: [{ 'persisted-documents': {} }],
            pluginMap: {
              'persisted-documents': {
                plugin: (_schema, files) => persistedDocuments(files.flatMap((file) => file.document!.definitions)),
              },
            },
          },
        ],
      },
    },
  },
};

export default config;
