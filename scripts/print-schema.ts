// Prints the schema to schema/schema.graphql; with --check, fails when the file is stale, or
// when the notification widget's persisted documents (written by `npm run codegen`) are.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generate } from '@graphql-codegen/cli';
import { lexicographicSortSchema, printSchema } from 'graphql';
import codegenConfig, { PERSISTED_DOCUMENTS } from '../codegen.ts';
import { schema } from '../src/graphql/schema.ts';

const root = new URL('../', import.meta.url);
const file = new URL('schema/schema.graphql', root);
const printed = `${printSchema(lexicographicSortSchema(schema))}\n`;

/** The file's committed text; missing counts as stale. */
function committed(url: URL): string {
  try {
    return readFileSync(url, 'utf8');
  } catch {
    return '';
  }
}

if (process.argv.includes('--check')) {
  if (committed(file) !== printed) {
    console.error('schema/schema.graphql does not match the code: run `npm run schema:print` and commit it.');
    process.exit(1);
  }
  console.log('schema/schema.graphql is up to date');
  const [manifest] = await generate(
    {
      ...codegenConfig,
      cwd: fileURLToPath(root),
      silent: true,
      generates: { [PERSISTED_DOCUMENTS]: codegenConfig.generates[PERSISTED_DOCUMENTS] },
    },
    false,
  );
  if (committed(new URL(PERSISTED_DOCUMENTS, root)) !== manifest.content) {
    console.error(
      `${PERSISTED_DOCUMENTS} does not match the widget's operations: run \`npm run codegen\` and commit it.`,
    );
    process.exit(1);
  }
  console.log(`${PERSISTED_DOCUMENTS} is up to date`);
} else {
  writeFileSync(file, printed);
  console.log('wrote schema/schema.graphql');
}
