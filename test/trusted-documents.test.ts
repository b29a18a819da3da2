// Trusted documents: the notification widget's operations, persisted by GraphQL Code
// Generator (sha256 → document), run by hash over HTTP and graphql-ws; with
// TRUSTED_DOCUMENTS=only nothing else runs, with `off` (the default) both do.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { getOperationAST, Kind, parse, print, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { NotificationAdded, Notifications } from './documents.ts';
import { createTenant, notifyUser, startTestApp, type TestApp, type Tenant } from './kit.ts';
import { connectWsAs, type Ended, type Feed, type Result } from './transports.ts';

const onlyApp = await startTestApp({ TRUSTED_DOCUMENTS: 'only' }, { workers: false });
const offApp = await startTestApp({ TRUSTED_DOCUMENTS: 'off' }, { workers: false });

const widgetFile = (name: string) =>
  readFileSync(new URL(`../examples/notification-widget/${name}`, import.meta.url), 'utf8');
const manifest = JSON.parse(widgetFile('persisted-documents.json')) as Record<string, string>;

/** The manifest's hash of the widget's operation `name`. */
function hashOf(name: string): string {
  const found = Object.entries(manifest).filter(
    ([, document]) => getOperationAST(parse(document))?.name?.value === name,
  );
  expect(found, name).toHaveLength(1);
  return found[0][0];
}

const UNKNOWN_HASH = createHash('sha256').update('query Unknown { unreadNotificationCount }').digest('hex');
const persistedQuery = (sha256Hash: string) => ({ persistedQuery: { version: 1, sha256Hash } });

type Answer = { status: number; data?: Record<string, unknown> | null; errors?: Result['errors'] };

async function post(app: TestApp, tenant: Tenant, body: object): Promise<Answer> {
  const response = await app.yoga.fetch('http://yoga/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      authorization: `Bearer ${tenant.client.key}`,
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, ...(await response.json()) };
}

/** A subscription over graphql-ws against the app's real server, with a raw subscribe payload. */
async function subscribeWs(
  app: TestApp,
  tenant: Tenant,
  payload: { query: string; extensions?: Record<string, unknown> },
) {
  const { url } = await app.http();
  return connectWsAs(url, tenant.client).subscribePayload(payload);
}

const notifyTenant = (app: TestApp, tenant: Tenant) => () =>
  notifyUser(app, tenant.client, tenant.communityRawId, 'trusted probe');

/** The errors a refused graphql-ws subscription ended with. */
async function refusedOverWs(feed: Feed<unknown>) {
  const step = await feed.next(20_000);
  expect(step).toMatchObject({ ended: true });
  return (step as Ended).error as { message: string; extensions?: { code?: string } }[];
}

describe('the manifest', () => {
  it("holds the widget's operations, each under the sha256 of its document", () => {
    const operations = parse(widgetFile('operations.graphql')).definitions.filter(
      (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
    );
    const widget = widgetFile('widget.js');
    expect(Object.keys(manifest)).toHaveLength(operations.length);
    for (const operation of operations) {
      const name = operation.name!.value;
      const hash = hashOf(name);
      expect(createHash('sha256').update(manifest[hash]).digest('hex')).toBe(hash);
      expect(print(getOperationAST(parse(manifest[hash]))!)).toBe(print(operation));
      // The widget asks for each one by name.
      expect(widget).toContain(`'${name}'`);
    }
  });
});

describe('TRUSTED_DOCUMENTS=only', () => {
  const app = onlyApp;

  it('runs a known hash over HTTP, sent the Apollo way or as documentId', async () => {
    const tenant = await createTenant(app);
    const hash = hashOf('WidgetNotifications');
    const apollo = await post(app, tenant, { variables: { first: 5 }, extensions: persistedQuery(hash) });
    expect(apollo).toMatchObject({
      status: 200,
      data: { unreadNotificationCount: 0, notifications: { totalCount: 0 } },
    });
    expect(apollo.errors).toBeUndefined();
    const documentId = await post(app, tenant, { documentId: `sha256:${hash}`, variables: { first: 5 } });
    expect(documentId).toMatchObject({ status: 200, data: { unreadNotificationCount: 0 } });
  });

  it('refuses a document sent as text, and an unknown hash, saying why', async () => {
    const tenant = await createTenant(app);
    const text = await post(app, tenant, { query: print(Notifications) });
    expect(text.status).toBe(400);
    expect(text.data).toBeUndefined();
    expect(text.errors).toEqual([
      {
        message:
          'This service runs only trusted documents (TRUSTED_DOCUMENTS=only): send the sha256 of a trusted document as `documentId` or `extensions.persistedQuery.sha256Hash`, not a query',
        extensions: { code: 'TRUSTED_DOCUMENT_REQUIRED' },
      },
    ]);
    const unknown = await post(app, tenant, { extensions: persistedQuery(UNKNOWN_HASH) });
    expect(unknown.status).toBe(400);
    expect(unknown.errors).toEqual([
      {
        message:
          'Unknown document hash: no trusted document has this sha256 (was the client built for another version?)',
        extensions: { code: 'UNKNOWN_DOCUMENT_ID' },
      },
    ]);
  });

  it('runs a known hash over graphql-ws and refuses a subscription sent as text', async () => {
    const tenant = await createTenant(app);
    const trusted = await subscribeWs(app, tenant, {
      query: '',
      extensions: persistedQuery(hashOf('WidgetNotificationAdded')),
    });
    const first = await trusted.primed(notifyTenant(app, tenant));
    expect(first).toMatchObject({ data: { notificationAdded: { title: 'trusted probe', kind: 'IMPORT_FINISHED' } } });

    const text = await subscribeWs(app, tenant, { query: print(NotificationAdded) });
    const [refused] = await refusedOverWs(text);
    expect(refused.message).toMatch(/^This service runs only trusted documents \(TRUSTED_DOCUMENTS=only\)/);
    expect(refused.extensions).toEqual({ code: 'TRUSTED_DOCUMENT_REQUIRED' });
    const unknown = await subscribeWs(app, tenant, { query: '', extensions: persistedQuery(UNKNOWN_HASH) });
    expect((await refusedOverWs(unknown))[0]).toMatchObject({ extensions: { code: 'UNKNOWN_DOCUMENT_ID' } });
  });
});

describe('TRUSTED_DOCUMENTS=off', () => {
  const app = offApp;

  it('runs documents sent as text and known hashes, over HTTP and graphql-ws', async () => {
    const tenant = await createTenant(app);
    const text = await post(app, tenant, { query: print(Notifications) });
    expect(text).toMatchObject({ status: 200, data: { unreadNotificationCount: 0 } });
    const hashed = await post(app, tenant, {
      variables: { first: 5 },
      extensions: persistedQuery(hashOf('WidgetNotifications')),
    });
    expect(hashed).toMatchObject({ status: 200, data: { unreadNotificationCount: 0 } });
    const unknown = await post(app, tenant, { extensions: persistedQuery(UNKNOWN_HASH) });
    expect(unknown.errors?.[0].extensions).toEqual({ code: 'UNKNOWN_DOCUMENT_ID' });

    const byText = await subscribeWs(app, tenant, { query: print(NotificationAdded) });
    const byHash = await subscribeWs(app, tenant, {
      query: '',
      extensions: persistedQuery(hashOf('WidgetNotificationAdded')),
    });
    const poke = notifyTenant(app, tenant);
    expect(await byText.primed(poke)).toMatchObject({
      data: { notificationAdded: { title: 'trusted probe' } },
    });
    expect(await byHash.primed(poke)).toMatchObject({
      data: { notificationAdded: { title: 'trusted probe' } },
    });
  });
});
