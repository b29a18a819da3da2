// The test kit: a real service (database, job queue, pub/sub, workers) per test file,
// fresh tenants per test, and typed GraphQL calls through yoga.fetch (no port needed).
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { afterAll, expect, inject, onTestFinished } from 'vitest';
import { randomUUID } from 'node:crypto';
import { closeServices, createServices } from '../src/app.ts';
import { readEnv, type Env } from '../src/config/env.ts';
import { createApiKey } from '../src/modules/communities/service.ts';
import { notify } from '../src/modules/notifications/service.ts';
import type { Services } from '../src/services.ts';
import { startHttpServer, type HttpService } from '../src/server.ts';
import { startWorkers } from '../src/worker.ts';
import { createYogaApp, type Yoga } from '../src/yoga.ts';
import type {
  AlertsQuery,
  AlertsQueryVariables,
  AlertStatus,
  CreateCollectionInput,
  ImportIndicatorsFromFileInput,
  ImportIndicatorsFromTextInput,
  IndicatorsQuery,
  IndicatorsQueryVariables,
  TelemetryReportNodeQuery,
  UpdateIndicatorInput,
} from './generated/graphql.ts';
import {
  Alerts,
  CreateCollection,
  CreateDetectionRule,
  DetectionRuleNode,
  GenerateTelemetryReport,
  ImportFile,
  ImportJobNode,
  ImportText,
  Indicators,
  PreviewFile,
  RevokeIndicator,
  TelemetryReportNode,
  Threats,
  UpdateAlertStatus,
  UpdateDetectionRule,
  UpdateIndicator,
} from './documents.ts';
import { splitCsvLine } from './csv-line.ts';

export type Role = 'admin' | 'analyst' | 'viewer' | 'sensor';

export interface TestApp {
  services: Services;
  yoga: Yoga;
  env: Env;
  /** A real HTTP + WebSocket server on a free port, started on first use. */
  http(): Promise<HttpService>;
}

export const toGlobalId = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString('base64');
export const fromGlobalId = (globalId: string) => {
  const [type, id] = Buffer.from(globalId, 'base64').toString().split(':');
  return { type, id };
};
export const unique = (prefix: string) => `${prefix} ${randomUUID().slice(0, 8)}`;

/** Starts the service for this test file and stops it when the file is done. */
export async function startTestApp(overrides: Record<string, string> = {}, { workers = true } = {}): Promise<TestApp> {
  const app = await createTestApp(overrides, { workers });
  afterAll(() => app.close());
  return app;
}

/** The service (database clients, job queue, pub/sub, workers unless told not), to be closed by the caller. */
export async function createTestApp(
  overrides: Record<string, string> = {},
  { workers = true } = {},
): Promise<TestApp & { close(): Promise<void> }> {
  const env = readEnv({ ...process.env, DATABASE_URL: inject('databaseUrl'), ...overrides });
  const services = await createServices(env, env.DATABASE_URL!);
  if (workers) await startWorkers(services);
  const yoga = createYogaApp(services);
  let http: Promise<HttpService> | undefined;
  return {
    services,
    yoga,
    env,
    http: () => (http ??= startHttpServer(services, { host: '127.0.0.1', port: 0 })),
    async close() {
      if (http) await (await http).close(1000);
      await closeServices(services, 5000);
    },
  };
}

export interface GraphQLResponse<T> {
  status: number;
  data?: T | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

export class Client {
  constructor(
    readonly app: TestApp,
    readonly key: string,
    readonly userId: string,
    private readonly headers: Record<string, string> = {},
  ) {}

  /** The same caller acting on the named communities only (X-Community-Ids). */
  withCommunities(...globalIds: string[]): Client {
    return new Client(this.app, this.key, this.userId, { ...this.headers, 'x-community-ids': globalIds.join(',') });
  }

  async execute<TData, TVars>(
    document: TypedDocumentNode<TData, TVars>,
    variables?: TVars,
    headers: Record<string, string> = {},
  ): Promise<GraphQLResponse<TData>> {
    const response = await this.app.yoga.fetch('http://yoga/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.key}`, ...this.headers, ...headers },
      body: JSON.stringify({ query: print(document), variables }),
    });
    return { status: response.status, ...(await response.json()) };
  }

  /** A GraphQL multipart request (the upload spec) with one file at `variables.input.file`. */
  async upload<TData, TVars>(
    document: TypedDocumentNode<TData, TVars>,
    variables: TVars,
    file: { name: string; content: Buffer },
  ): Promise<GraphQLResponse<TData>> {
    const form = new FormData();
    form.set('operations', JSON.stringify({ query: print(document), variables }));
    form.set('map', JSON.stringify({ 0: ['variables.input.file'] }));
    form.set('0', new File([new Uint8Array(file.content)], file.name));
    const response = await this.app.yoga.fetch('http://yoga/graphql', {
      method: 'POST',
      headers: { authorization: `Bearer ${this.key}`, ...this.headers },
      body: form,
    });
    return { status: response.status, ...(await response.json()) };
  }

  /** A plain HTTP request to the service (the /api endpoints), with this caller's key and headers. */
  request(path: string, init: RequestInit = {}): Promise<Response> {
    return Promise.resolve(
      this.app.yoga.fetch(`http://yoga${path}`, {
        ...init,
        headers: { authorization: `Bearer ${this.key}`, ...this.headers, ...(init.headers as Record<string, string>) },
      }),
    );
  }

  /** Runs an operation that must succeed; on failure the test shows the query and answer. */
  async gql<TData, TVars>(document: TypedDocumentNode<TData, TVars>, variables?: TVars): Promise<TData> {
    const result = await this.execute(document, variables);
    if (result.errors?.length || !result.data) {
      expect.fail(
        `GraphQL errors\n${print(document)}\nvariables: ${JSON.stringify(variables)}\n=> ${JSON.stringify(result, null, 2)}`,
      );
    }
    return result.data;
  }
}

/** Result union member expected to be `typename`; fails with the actual member otherwise. */
export function expectMember<T extends { __typename?: string }, N extends NonNullable<T['__typename']>>(
  value: T,
  typename: N,
): Extract<T, { __typename?: N }> {
  if (value.__typename !== typename) expect.fail(`expected ${typename}, got ${JSON.stringify(value)}`);
  return value as Extract<T, { __typename?: N }>;
}

export interface Tenant {
  /** Global ids of the community and its sub-communities. */
  communityId: string;
  childIds: string[];
  /** Raw ids, for direct database checks. */
  communityRawId: string;
  childRawIds: string[];
  client: Client;
}

/** A fresh community (with `children` sub-communities) and a user holding `role` in it. */
export async function createTenant(app: TestApp, { role = 'admin' as Role, children = 0 } = {}): Promise<Tenant> {
  const { prisma } = app.services;
  const community = await prisma.community.create({ data: { name: unique('community') } });
  const childRows = await Promise.all(
    Array.from({ length: children }, (_, i) =>
      prisma.community.create({ data: { name: unique(`sub ${i + 1}`), parentId: community.id } }),
    ),
  );
  const client = await createUser(app, [{ communityId: community.id, role }]);
  return {
    communityId: toGlobalId('Community', community.id),
    childIds: childRows.map((c) => toGlobalId('Community', c.id)),
    communityRawId: community.id,
    childRawIds: childRows.map((c) => c.id),
    client,
  };
}

/** A user with the given memberships (raw community ids) and an API key. */
export async function createUser(app: TestApp, memberships: { communityId: string; role: Role }[]): Promise<Client> {
  const { prisma } = app.services;
  const user = await prisma.user.create({ data: { name: unique('user'), email: `${randomUUID()}@test.invalid` } });
  for (const m of memberships) {
    const role = await prisma.role.findUniqueOrThrow({ where: { name: m.role } });
    await prisma.membership.create({ data: { userId: user.id, communityId: m.communityId, roleId: role.id } });
  }
  const { key } = await createApiKey(prisma, user.id, 'test');
  return new Client(app, key, user.id);
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined | null | false>,
  { timeoutMs = 20_000, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---------------------------------------------------------------------------------------
// Collections, threats, imports and indicators through the API, as a user works with them.

/** Hashes of the text "abc", well known. */
export const ABC = {
  md5: '900150983cd24fb0d6963f7d28e17f72',
  sha1: 'a9993e364706816aba3e25717850c26c9cd0d89d',
  sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
};

export type ImportProperties = NonNullable<ImportIndicatorsFromTextInput['properties']>;
export type JobState = Awaited<ReturnType<typeof jobState>>;
export type IndicatorNode = IndicatorPage['indicators']['edges'][number]['node'];

/** Creates a collection, which must succeed; answers it as the mutation does. */
export async function createCollection(client: Client, input: CreateCollectionInput) {
  const result = await client.gql(CreateCollection, { input });
  return expectMember(result.createCollection, 'CreateCollectionSuccess').collection;
}

/** A new collection in the tenant's community; answers its id. */
export async function newCollection(
  { client, communityId }: Pick<Tenant, 'client' | 'communityId'>,
  name = unique('iocs'),
): Promise<string> {
  return (await createCollection(client, { communityId, name })).id;
}

/**
 * A new collection of the tenant's holding `lines` (one indicator each), imported through the
 * queue with every line accepted; answers its id.
 */
export async function collectionWith(
  { client, communityId }: Pick<Tenant, 'client' | 'communityId'>,
  lines: string[],
  {
    shared = false,
    createDetectionRule = false,
    properties,
  }: { shared?: boolean; createDetectionRule?: boolean; properties?: ImportProperties } = {},
): Promise<string> {
  const { id } = await createCollection(client, {
    communityId,
    name: unique('iocs'),
    availableForSubCommunities: shared,
    createDetectionRule,
  });
  expect(await importText(client, id, lines.join('\n'), properties)).toMatchObject({ status: 'SUCCEEDED', invalid: 0 });
  return id;
}

/** The id of the catalogue threat with this exact name. */
export async function threatId(client: Client, name: string): Promise<string> {
  const { threats } = await client.gql(Threats, { search: name, first: 20 });
  const threat = threats.edges.find((e) => e.node.name === name);
  if (!threat) expect.fail(`threat ${name} is not in the catalogue`);
  return threat.node.id;
}

/** The ids of several catalogue threats, in the order of their names. */
export async function threatIds(client: Client, ...names: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const name of names) ids.push(await threatId(client, name));
  return ids;
}

/** Asks for a text import and returns the job the mutation answers with. */
export async function requestImport(client: Client, collectionId: string, text: string, properties?: ImportProperties) {
  const result = await client.gql(ImportText, { input: { collectionId, text, properties } });
  return expectMember(result.importIndicatorsFromText, 'ImportSuccess').importJob;
}

/** An import job as the client sees it (it must see it). */
export async function jobState(client: Client, jobId: string) {
  const { node } = await client.gql(ImportJobNode, { id: jobId });
  if (!node || !('status' in node)) return expect.fail(`import job ${jobId} is not visible`);
  return node;
}

/** Polls the import job as a user would until it has ended (SUCCEEDED or FAILED). */
export async function waitForImport(client: Client, jobId: string): Promise<JobState> {
  return waitFor(
    async () => {
      const job = await jobState(client, jobId);
      return job.status === 'SUCCEEDED' || job.status === 'FAILED' ? job : null;
    },
    { what: `import job ${jobId} to end` },
  );
}

/** Step 1 of a file import: uploads `content` as `name` and answers the preview result. */
export async function previewFile(client: Client, collectionId: string, name: string, content: Buffer, sheet?: string) {
  const answer = await client.upload(PreviewFile, { input: { collectionId, file: null, sheet } }, { name, content });
  if (answer.status !== 200 || !answer.data) expect.fail(JSON.stringify(answer));
  return answer.data.previewIndicatorFile;
}

/** Step 2: starts the import of a previewed file (it must be accepted) and waits for the job to end. */
export async function importFileAndWait(client: Client, input: ImportIndicatorsFromFileInput): Promise<JobState> {
  const started = await client.gql(ImportFile, { input });
  return waitForImport(client, expectMember(started.importIndicatorsFromFile, 'ImportSuccess').importJob.id);
}

/** Both steps for a CSV with a header line: previews `content` as `name`, imports its columns as `mapping`, waits. */
export async function importCsvFile(
  client: Client,
  collectionId: string,
  name: string,
  content: Buffer,
  mapping: ImportIndicatorsFromFileInput['mapping'],
): Promise<JobState> {
  const { preview } = expectMember(
    await previewFile(client, collectionId, name, content),
    'PreviewIndicatorFileSuccess',
  );
  return importFileAndWait(client, { collectionId, fileHandle: preview.fileHandle, mapping, ignoreFirstLine: true });
}

/** Imports through the queue and the workers, and waits for the job to end. */
export async function importText(client: Client, collectionId: string, text: string, properties?: ImportProperties) {
  const job = await requestImport(client, collectionId, text, properties);
  return waitForImport(client, job.id);
}

/** Imports `text` into a new collection of the tenant's and waits for the job to end. */
export async function importIntoNewCollection(
  tenant: Pick<Tenant, 'client' | 'communityId'>,
  text: string,
  properties?: ImportProperties,
) {
  const collection = await createCollection(tenant.client, { communityId: tenant.communityId, name: unique('iocs') });
  return { collection, job: await importText(tenant.client, collection.id, text, properties) };
}

export type IndicatorPage = Extract<NonNullable<IndicatorsQuery['node']>, { indicators: unknown }>;

/** One page of the collection's indicators with its count, as the collection page shows it (it must see it). */
export async function indicatorPage(
  client: Client,
  collectionId: string,
  args: Omit<IndicatorsQueryVariables, 'id'> = {},
): Promise<IndicatorPage> {
  const { node } = await client.gql(Indicators, { id: collectionId, ...args });
  if (!node || !('indicators' in node)) return expect.fail(`collection ${collectionId} is not visible`);
  return node as IndicatorPage;
}

/** Every indicator of the collection (newest first), page by page. */
export async function allIndicators(
  client: Client,
  collectionId: string,
  filter: Omit<IndicatorsQueryVariables, 'id' | 'first' | 'after'> = {},
) {
  const nodes: IndicatorNode[] = [];
  let after: string | null = null;
  for (;;) {
    const { indicators }: IndicatorPage = await indicatorPage(client, collectionId, { first: 100, after, ...filter });
    nodes.push(...indicators.edges.map((e) => e.node));
    if (!indicators.pageInfo.hasNextPage) return nodes;
    after = indicators.pageInfo.endCursor;
  }
}

/** The one indicator of the collection with this value, revoked or not. */
export async function indicatorByValue(client: Client, collectionId: string, value: string): Promise<IndicatorNode> {
  const found = (await allIndicators(client, collectionId, { includeRevoked: true })).filter((i) => i.value === value);
  expect(found, `indicators with value ${value}`).toHaveLength(1);
  return found[0];
}

/** An indicator change that must be accepted or refused as data; answers the result union. */
export async function updateIndicator(client: Client, id: string, input: Omit<UpdateIndicatorInput, 'id'>) {
  return (await client.gql(UpdateIndicator, { input: { id, ...input } })).updateIndicator;
}

/** Revokes an indicator, which must succeed; answers it as the mutation does. */
export async function revokeIndicator(client: Client, id: string) {
  const result = await client.gql(RevokeIndicator, { input: { id } });
  return expectMember(result.revokeIndicator, 'RevokeIndicatorSuccess').indicator;
}

/** The rejected rows CSV of an import job (GET /api/imports/:id/errors.csv), split into cells, its BOM left out. */
export async function rejectedRowsCsv(client: Client, jobId: string): Promise<string[][]> {
  const response = await client.request(`/api/imports/${encodeURIComponent(jobId)}/errors.csv`);
  expect(response.status).toBe(200);
  return (await response.text())
    .replace(/^\uFEFF/, '')
    .split('\r\n')
    .filter((line) => line !== '')
    .map(splitCsvLine);
}

// ---------------------------------------------------------------------------------------
// Telemetry: events as a sensor sends them, reports as a user asks for them.

export interface IngestAnswer {
  status: number;
  accepted: number;
  rejected: number;
  errors: { line: number; reason: string }[];
  truncated?: { lastLine: number; reason: string; cause: string };
}

/** POSTs events (objects become JSON lines; strings are sent as they are) to /api/events. */
export async function sendEvents(client: Client, events: Array<object | string>, headers: Record<string, string> = {}) {
  const body = events.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join('\n');
  const response = await client.request('/api/events', {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson', ...headers },
    body,
  });
  return { status: response.status, ...(await response.json()) } as IngestAnswer;
}

/** POSTs events that must all be accepted. */
export async function sendAccepted(client: Client, events: Array<object | string>) {
  const answer = await sendEvents(client, events);
  expect(answer, JSON.stringify(answer.errors)).toEqual({
    status: 200,
    accepted: events.length,
    rejected: 0,
    errors: [],
  });
}

/** An ISO time `days` days before now (UTC), at the given hour. */
export const daysAgo = (days: number, hour = 12) => {
  const at = new Date();
  at.setUTCDate(at.getUTCDate() - days);
  at.setUTCHours(hour, 0, 0, 0);
  return at.toISOString();
};

/** Asks for a report, which must be accepted; answers it as the mutation does. */
export async function generateReport(client: Client, collectionId: string) {
  const result = await client.gql(GenerateTelemetryReport, { input: { collectionId } });
  return expectMember(result.generateTelemetryReport, 'GenerateTelemetryReportSuccess').telemetryReport;
}

export type ReportDetails = Extract<NonNullable<TelemetryReportNodeQuery['node']>, { entries: unknown }>;

/** The report with its first 100 entries as the client sees it; null when it may not. */
export async function reportDetails(client: Client, reportId: string): Promise<ReportDetails | null> {
  const { node } = await client.gql(TelemetryReportNode, { id: reportId, first: 100 });
  return node && 'entries' in node ? (node as ReportDetails) : null;
}

/** Polls the report until it is ready or failed. */
export async function waitForReport(client: Client, reportId: string): Promise<ReportDetails> {
  return waitFor(
    async () => {
      const report = await reportDetails(client, reportId);
      if (!report) return expect.fail(`report ${reportId} is not visible`);
      return report.status === 'SUCCEEDED' || report.status === 'FAILED' ? report : null;
    },
    { what: `report ${reportId}` },
  );
}

/** Generates a report and waits for it; it must succeed. */
export async function readyReport(client: Client, collectionId: string): Promise<ReportDetails> {
  const report = await waitForReport(client, (await generateReport(client, collectionId)).id);
  expect(report.status).toBe('SUCCEEDED');
  return report;
}

/**
 * Holds row locks on a collection's indicators (or on one of them) until the answered function,
 * or the end of the test, releases them: a report over the collection then waits, RUNNING, where
 * it writes a held indicator's entry. How a test sees a report before it ends without timing.
 */
export async function holdIndicatorRows(app: TestApp, collectionId: string, indicatorId?: string) {
  const connection = await app.services.pool.connect();
  let held = true;
  const release = async () => {
    if (!held) return;
    held = false;
    await connection.query('COMMIT');
    connection.release();
  };
  onTestFinished(release);
  await connection.query('BEGIN');
  await connection.query(
    'SELECT 1 FROM indicators WHERE collection_id = $1 AND ($2::uuid IS NULL OR id = $2::uuid) FOR UPDATE',
    [fromGlobalId(collectionId).id, indicatorId ? fromGlobalId(indicatorId).id : null],
  );
  return release;
}

// ---------------------------------------------------------------------------------------
// Detection rules, as a user manages them.

/** A rule that must be created; answers it as the mutation does (with its newest retrohunt). */
export async function createRule(
  client: Client,
  collectionId: string,
  input: { name?: string; enabled?: boolean } = {},
) {
  const result = await client.gql(CreateDetectionRule, { input: { collectionId, ...input } });
  return expectMember(result.createDetectionRule, 'CreateDetectionRuleSuccess').detectionRule;
}

/** A rule change that must succeed; answers the rule as the mutation does. */
export async function updateRule(client: Client, id: string, input: { name?: string; enabled?: boolean }) {
  const result = await client.gql(UpdateDetectionRule, { input: { id, ...input } });
  return expectMember(result.updateDetectionRule, 'UpdateDetectionRuleSuccess').detectionRule;
}

/** The rule with its retrohunts (newest first) as the client sees it (it must see it). */
export async function ruleState(client: Client, id: string) {
  const { node } = await client.gql(DetectionRuleNode, { id });
  if (!node || !('retrohunts' in node)) return expect.fail(`rule ${id} is not visible`);
  return node;
}

/**
 * Waits until the rule has at least `hunts` retrohunts and all of them have ended; answers
 * the newest. (An import queues its retrohunt just after it reads SUCCEEDED.)
 */
export async function waitForRetrohunts(client: Client, ruleId: string, { hunts = 1, timeoutMs = 20_000 } = {}) {
  const rule = await waitFor(
    async () => {
      const state = await ruleState(client, ruleId);
      const all = state.retrohunts.edges.map((e) => e.node);
      return all.length >= hunts && all.every((h) => h.status === 'SUCCEEDED' || h.status === 'FAILED') ? state : null;
    },
    { what: `${hunts} retrohunt(s) of rule ${ruleId} to end`, timeoutMs },
  );
  return rule.latestRetrohunt!;
}

/**
 * A collection of the tenant's holding `lines` (valid from 10 days ago unless told) and an
 * enabled rule whose retrohunt is over, so that alerts from now on come from ingest.
 */
export async function watchedCollection(
  tenant: Pick<Tenant, 'client' | 'communityId'>,
  lines: string[],
  { properties = { validFrom: daysAgo(10) }, shared = false }: { properties?: ImportProperties; shared?: boolean } = {},
) {
  const collectionId = await collectionWith(tenant, lines, { properties, shared });
  const rule = await createRule(tenant.client, collectionId);
  await waitForRetrohunts(tenant.client, rule.id);
  return { collectionId, ruleId: rule.id };
}

export type AlertFilter = Omit<AlertsQueryVariables, 'first' | 'after'>;
export type AlertNode = AlertsQuery['alerts']['edges'][number]['node'];

/** Every alert the client sees with this filter, newest first, page by page. */
export async function allAlerts(client: Client, filter: AlertFilter = {}): Promise<AlertNode[]> {
  const nodes: AlertNode[] = [];
  let after: string | null = null;
  for (;;) {
    const { alerts }: AlertsQuery = await client.gql(Alerts, { first: 100, after, ...filter });
    nodes.push(...alerts.edges.map((e) => e.node));
    if (!alerts.pageInfo.hasNextPage) return nodes;
    after = alerts.pageInfo.endCursor ?? null;
  }
}

/** An alert status change, accepted or refused as data; answers the result union. */
export async function updateAlertStatus(client: Client, id: string, status: AlertStatus) {
  return (await client.gql(UpdateAlertStatus, { input: { id, status } })).updateAlertStatus;
}

// ---------------------------------------------------------------------------------------
// Notifications, made as a job makes them.

/** A notification (kind IMPORT_FINISHED) for `user` in the community, stored and published. */
export function notifyUser(app: TestApp, user: Client, communityRawId: string, title = unique('notice')) {
  return notify(app.services, { userId: user.userId, communityId: communityRawId, kind: 'IMPORT_FINISHED', title });
}
