// An uploaded file leaves PostgreSQL once per import: the preview parses the upload itself and
// keeps what the import request checks, GraphQL never loads the content, and the job reads it.
import pg from 'pg';
import { expect, it } from 'vitest';
import { createTenant, importCsvFile, newCollection, startTestApp } from './kit.ts';

/** Statements of this process that read the content of import sources. */
const contentReads: string[] = [];
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const first = args[0] as string | { text?: string } | undefined;
  const text = typeof first === 'string' ? first : (first?.text ?? '');
  if (/^\s*SELECT/i.test(text) && text.includes('import_sources') && text.includes('content')) contentReads.push(text);
  return (query as (...a: unknown[]) => unknown).apply(this, args);
} as typeof query;

const app = await startTestApp();

it('reads an uploaded file from the database once: upload, preview, import, job', async () => {
  const tenant = await createTenant(app);
  const collectionId = await newCollection(tenant);
  const content = Buffer.from('ioc,comment\nevil.example,first\n198.51.100.7,second\n');
  const job = await importCsvFile(tenant.client, collectionId, 'feed.csv', content, ['OBSERVABLE', 'DESCRIPTION']);
  expect(job).toMatchObject({ status: 'SUCCEEDED', created: 2 });
  expect(contentReads).toHaveLength(1);
});
