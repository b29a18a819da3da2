// Tenant isolation of imports (see test/tenancy-kit.ts): foreign import jobs and collections
// answer like missing ones in node, the import mutation and importJobUpdated; an MSSP's import
// jobs are seen from its own community only.
import { describe, expect, it } from 'vitest';
import { ImportJobUpdated, ImportText, Node } from './documents.ts';
import { importText, startTestApp } from './kit.ts';
import {
  ask,
  bearer,
  expectNoTrace,
  type MutationCase,
  msspTree,
  NOT_FOUND,
  openWs,
  type PopulatedTenant,
  populatedNodes,
  randomId,
  sseAnswer,
  storedState,
  testForeignIdMutations,
  testForeignNodes,
  testViewerMutations,
  twoTenants,
  wsResults,
} from './tenancy-kit.ts';

const app = await startTestApp();

const MUTATIONS: MutationCase<PopulatedTenant>[] = [
  {
    name: 'importIndicatorsFromText(collectionId)',
    type: 'Collection',
    id: (t) => t.collectionId,
    run: (client, collectionId) =>
      ask(client, ImportText, { input: { collectionId, text: '192.0.2.250\nplanted.example' } }),
    outsider: NOT_FOUND('Collection'),
    owner: 'ImportSuccess',
  },
];

describe('imports', () => {
  testForeignNodes(() => twoTenants(app), populatedNodes('ImportJob'));
  testForeignIdMutations({ pair: () => twoTenants(app), stored: (t) => storedState(app, t) }, MUTATIONS);
  testViewerMutations(app, MUTATIONS);

  it("importJobUpdated with another tenant's job fails like a random id, over SSE and graphql-ws", async () => {
    const [a, b] = await twoTenants(app);
    const missingId = randomId('ImportJob');

    const foreignSse = await sseAnswer(a.client, ImportJobUpdated, { id: b.importJobId });
    const missingSse = await sseAnswer(a.client, ImportJobUpdated, { id: missingId });
    expect(foreignSse).toEqual(missingSse);
    const notFound = [
      { errors: [expect.objectContaining({ message: 'ImportJob not found', extensions: { code: 'NOT_FOUND' } })] },
    ];
    expect(foreignSse.events).toEqual(notFound);

    const ws = await openWs(app, bearer(a.client));
    const foreignWs = await wsResults(ws, ImportJobUpdated, { id: b.importJobId });
    expect(foreignWs).toEqual(await wsResults(ws, ImportJobUpdated, { id: missingId }));
    expect(foreignWs).toEqual(notFound);
    expectNoTrace(JSON.stringify([foreignSse, foreignWs]), b);

    // Its owner follows it: the ended job once, then the stream completes.
    const owner = await sseAnswer(b.client, ImportJobUpdated, { id: b.importJobId });
    expect(owner.events).toMatchObject([
      {
        data: {
          importJobUpdated: { id: b.importJobId, status: 'SUCCEEDED', invalid: 1, collection: { id: b.collectionId } },
        },
      },
    ]);
  });

  it("a sub-community does not see the import jobs of the MSSP's shared collection: like a missing job, on every path", async () => {
    const { mssp, collections, clientUser } = await msspTree(app);
    const job = await importText(mssp.client, collections.shared, '198.51.100.20\nshared.example');
    const missing = randomId('ImportJob');
    expect(await ask(clientUser, Node, { id: job.id })).toEqual(await ask(clientUser, Node, { id: missing }));
    expect(await sseAnswer(clientUser, ImportJobUpdated, { id: job.id })).toEqual(
      await sseAnswer(clientUser, ImportJobUpdated, { id: missing }),
    );
  });
});
