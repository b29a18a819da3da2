// Text import, as a user sees it: the mutation, the background job and its counts, the
// rejected lines, the notification, and the indicators it leaves in the collection.
import { existsSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import { BATCH_SIZE, runImportJob } from '../src/modules/imports/runner.ts';
import { CollectionImports, ImportText, Notifications } from './documents.ts';
import {
  ABC,
  allIndicators,
  createTenant,
  expectMember,
  fromGlobalId,
  importIntoNewCollection,
  importText,
  indicatorByValue,
  indicatorPage,
  jobState,
  newCollection,
  requestImport,
  revokeIndicator,
  startTestApp,
  threatId,
  threatIds,
  toGlobalId,
  waitFor,
  waitForImport,
  type Client,
  type ImportProperties,
  type JobState,
} from './kit.ts';

// The service as deployed: imports are queued and run by the pg-boss workers of this process.
const app = await startTestApp();

// A second service, without workers and with a small quota, whose queue hand-off is
// switched off: its import jobs are stored but never queued, so the test itself runs
// them with runImportJob (as a worker would), interrupts them, or runs them twice. No
// other worker of the shared queue can pick them up and race the test.
const QUOTA = 10;
const manual = await startTestApp({ INDICATOR_QUOTA: String(QUOTA) }, { workers: false });
manual.services.boss.send = (async () => null) as never;

const FIXTURES = new URL('../../shared/fixtures/real/', import.meta.url);

/** Imports with the `manual` service: the job is stored, then run here by `run`. */
async function importManually(
  client: Client,
  collectionId: string,
  text: string,
  run: (rawJobId: string) => Promise<void> = (id) => runImportJob(manual.services, id),
  properties?: ImportProperties,
) {
  const job = await requestImport(client, collectionId, text, properties);
  expect(job.status).toBe('QUEUED');
  await run(fromGlobalId(job.id).id);
  return jobState(client, job.id);
}

const counts = (job: JobState) => ({
  status: job.status,
  total: job.total,
  processed: job.processed,
  created: job.created,
  updated: job.updated,
  unchanged: job.unchanged,
  invalid: job.invalid,
});

function expectCountsAddUp(job: JobState) {
  expect(job.processed).toBe(job.total);
  expect(job.created + job.updated + job.unchanged + job.invalid).toBe(job.processed);
  expect(job.errors.totalCount).toBe(job.invalid);
}

async function collectionState(client: Client, collectionId: string) {
  const { node } = await client.gql(CollectionImports, { id: collectionId, first: 20 });
  if (!node || !('imports' in node)) return expect.fail(`collection ${collectionId} is not visible`);
  return node;
}

const errorsOf = (job: JobState) => job.errors.edges.map((e) => e.node);

describe('text import: the job', () => {
  it('answers at once with a queued job that ends SUCCEEDED with counts that add up, and notifies the requester', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    const text = ['evil.example', '1.2.3.4', 'not an indicator', '', '# a comment', 'evil.example'].join('\n');
    const job = await requestImport(tenant.client, collectionId, text);
    expect(job.kind).toBe('TEXT');
    expect(['QUEUED', 'RUNNING', 'SUCCEEDED']).toContain(job.status);
    expect((await collectionState(tenant.client, collectionId)).imports.edges.map((e) => e.node.id)).toEqual([job.id]);

    const done = await waitForImport(tenant.client, job.id);
    expect(counts(done)).toEqual({
      status: 'SUCCEEDED',
      total: 4, // the blank and the comment line are not rows
      processed: 4,
      created: 2,
      updated: 0,
      unchanged: 1,
      invalid: 1,
    });
    expectCountsAddUp(done);
    expect(done.finishedAt).not.toBeNull();
    expect(done.failureMessage).toBeNull();

    const notification = await waitFor(
      async () =>
        (await tenant.client.gql(Notifications, { first: 50 })).notifications.edges
          .map((e) => e.node)
          .find((n) => n.subject?.id === job.id),
      { what: 'the import notification' },
    );
    expect(notification).toMatchObject({
      kind: 'IMPORT_FINISHED',
      read: false,
      subject: { __typename: 'ImportJob', id: job.id },
    });
    expect(notification.title).toContain('2 created');
  });

  it('normalises and types every line by one path: defanged, IPv6, IDN, upper-case and combined hashes', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    const lines = [
      'hxxp://evil[.]com/x',
      '1.2.3[.]4',
      'user[@]evil[.]com',
      '2001:0DB8:0000:0000:0000:0000:0000:0001',
      '[2001:DB8:0:0:1:0:0:1]',
      '::ffff:10.0.0.1',
      'münchen.example',
      'Example-Upper.ORG.',
      'D41D8CD98F00B204E9800998ECF8427E',
      `${ABC.md5},${ABC.sha1},${ABC.sha256.toUpperCase()}`,
    ];
    const job = await importText(tenant.client, collectionId, lines.join('\n'));
    expect(counts(job)).toMatchObject({ status: 'SUCCEEDED', total: lines.length, created: lines.length, invalid: 0 });

    const stored = await allIndicators(tenant.client, collectionId);
    const byValue = Object.fromEntries(stored.map((i) => [i.value, { type: i.type, hashes: i.hashes }]));
    expect(byValue).toEqual({
      'http://evil.com/x': { type: 'URL', hashes: [] },
      '1.2.3.4': { type: 'IPV4', hashes: [] },
      'user@evil.com': { type: 'EMAIL', hashes: [] },
      '2001:db8::1': { type: 'IPV6', hashes: [] },
      '2001:db8::1:0:0:1': { type: 'IPV6', hashes: [] },
      '10.0.0.1': { type: 'IPV4', hashes: [] }, // an IPv4-mapped IPv6 address is the IPv4 address
      'xn--mnchen-3ya.example': { type: 'DOMAIN', hashes: [] },
      'example-upper.org': { type: 'DOMAIN', hashes: [] },
      d41d8cd98f00b204e9800998ecf8427e: {
        type: 'FILE',
        hashes: [{ algorithm: 'MD5', value: 'd41d8cd98f00b204e9800998ecf8427e' }],
      },
      // One file, three hashes: ONE indicator whose value is the strongest hash.
      [ABC.sha256]: {
        type: 'FILE',
        hashes: [
          { algorithm: 'MD5', value: ABC.md5 },
          { algorithm: 'SHA1', value: ABC.sha1 },
          { algorithm: 'SHA256', value: ABC.sha256 },
        ],
      },
    });
  });

  it('skips blank and comment lines, and lists each bad line with its 1-based line number, raw value, code and message', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    const lines = [
      'good-one.example', // 1
      '', // 2
      '# a comment', // 3
      'not an ioc at all', // 4
      '   ', // 5
      '// another comment', // 6
      '999[.]1[.]2[.]3', // 7
      '10.0.0.0/8', // 8
      '0123456789abcdef0123', // 9
      'gopher://evil.example', // 10
      '; and another', // 11
      'good-two.example', // 12
    ];
    const job = await importText(tenant.client, collectionId, lines.join('\r\n'));
    expect(counts(job)).toEqual({
      status: 'SUCCEEDED',
      total: 7,
      processed: 7,
      created: 2,
      updated: 0,
      unchanged: 0,
      invalid: 5,
    });
    expectCountsAddUp(job);
    const errors = errorsOf(job);
    expect(errors.map(({ line, value, code }) => ({ line, value, code }))).toEqual([
      { line: 4, value: 'not an ioc at all', code: 'UNRECOGNISED' },
      { line: 7, value: '999[.]1[.]2[.]3', code: 'INVALID_IP' }, // as given, not refanged
      { line: 8, value: '10.0.0.0/8', code: 'CIDR_NOT_SUPPORTED' },
      { line: 9, value: '0123456789abcdef0123', code: 'INVALID_HASH' },
      { line: 10, value: 'gopher://evil.example', code: 'UNSUPPORTED_URL_SCHEME' },
    ]);
    for (const error of errors) expect(error.message.length).toBeGreaterThan(10);
    expect(errors[1].message).toContain('999');
    expect((await allIndicators(tenant.client, collectionId)).map((i) => i.value).sort()).toEqual([
      'good-one.example',
      'good-two.example',
    ]);
  });
});

describe('text import: shared properties', () => {
  it('stores threats, validity, loosely named kill-chain phases and the description on every indicator', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    const [emotet, apt28] = await threatIds(tenant.client, 'Emotet', 'APT28');
    const properties: ImportProperties = {
      threatIds: [emotet, apt28],
      validFrom: '2024-01-01T00:00:00Z',
      validUntil: '2024-06-30T12:00:00+02:00',
      killChainPhases: [
        { phaseName: 'c2' },
        { phaseName: 'Command and Control' }, // the same phase, named differently
        { phaseName: 'initial access', killChainName: 'MITRE ATT&CK' },
      ],
      description: '  Seen in the March phishing wave  ',
    };
    const lines = ['phish.example', '198.51.100.7', `${ABC.md5}`, 'hxxps://phish[.]example/login'];
    const job = await importText(tenant.client, collectionId, lines.join('\n'), properties);
    expect(counts(job)).toMatchObject({ status: 'SUCCEEDED', created: 4, invalid: 0 });

    const stored = await allIndicators(tenant.client, collectionId);
    expect(stored).toHaveLength(4);
    for (const indicator of stored) {
      expect(indicator.threats.map((t) => t.name).sort()).toEqual(['APT28', 'Emotet']);
      expect(indicator.validFrom).toBe('2024-01-01T00:00:00.000Z');
      expect(indicator.validUntil).toBe('2024-06-30T10:00:00.000Z');
      expect(indicator.killChainPhases).toEqual([
        { killChainName: 'lockheed-martin-cyber-kill-chain', phaseName: 'command-and-control' },
        { killChainName: 'mitre-attack', phaseName: 'initial-access' },
      ]);
      expect(indicator.description).toBe('Seen in the March phishing wave');
      expect(indicator.revoked).toBe(false);
    }
  });

  it('defaults validFrom to the time of the import', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    const before = Date.now();
    await importText(tenant.client, collectionId, 'now.example');
    const [indicator] = await allIndicators(tenant.client, collectionId);
    expect(Date.parse(indicator.validFrom)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(indicator.validFrom)).toBeLessThanOrEqual(Date.now());
    expect(indicator.validUntil).toBeNull();
    expect(indicator).toMatchObject({ threats: [], killChainPhases: [], description: null });
  });

  it('rejects bad properties with the field at fault and imports nothing (no job is created)', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    const text = 'never.example\n203.0.113.9';
    const cases: [ImportProperties, string][] = [
      [{ validFrom: '2024-02-01T00:00:00Z', validUntil: '2024-01-31T23:59:59Z' }, 'input.properties.validUntil'],
      [{ validFrom: '2024-02-01T00:00:00Z', validUntil: '2024-02-01T00:00:00Z' }, 'input.properties.validUntil'],
      [{ description: 'd'.repeat(501) }, 'input.properties.description'],
      [
        { threatIds: [await threatId(tenant.client, 'Emotet'), toGlobalId('Threat', randomUUID())] },
        'input.properties.threatIds',
      ],
      [
        { killChainPhases: [{ phaseName: 'c2' }, { phaseName: 'teleportation' }] },
        'input.properties.killChainPhases.1',
      ],
      [
        { killChainPhases: [{ phaseName: 'c2', killChainName: 'no such chain' }] },
        'input.properties.killChainPhases.0',
      ],
    ];
    for (const [properties, field] of cases) {
      const result = await tenant.client.gql(ImportText, { input: { collectionId, text, properties } });
      const error = expectMember(result.importIndicatorsFromText, 'ValidationError');
      expect({ code: error.code, field: error.field }, JSON.stringify(properties).slice(0, 80)).toEqual({
        code: 'VALIDATION',
        field,
      });
      expect(error.message).not.toBe('');
    }
    // A description of exactly 500 characters is fine.
    expectMember(
      (
        await tenant.client.gql(ImportText, {
          input: { collectionId: await newCollection(tenant), text, properties: { description: 'd'.repeat(500) } },
        })
      ).importIndicatorsFromText,
      'ImportSuccess',
    );
    const state = await collectionState(tenant.client, collectionId);
    expect(state.imports.totalCount).toBe(0);
    expect(state.indicatorCount).toBe(0);
  });
});

describe('text import: importing again', () => {
  it('counts the same observable as unchanged, merges new threats and phases, replaces the description', async () => {
    const tenant = await createTenant(app);
    const { client } = tenant;
    const collectionId = await newCollection(tenant);
    const [emotet, trickbot] = await threatIds(client, 'Emotet', 'TrickBot');
    const text = 'again.example\n192.0.2.44';
    const first: ImportProperties = {
      threatIds: [emotet],
      killChainPhases: [{ phaseName: 'c2' }],
      description: 'first',
    };

    expect(counts(await importText(client, collectionId, text, first))).toMatchObject({
      created: 2,
      updated: 0,
      unchanged: 0,
    });
    const original = await indicatorByValue(client, collectionId, 'again.example');
    const originalIp = await indicatorByValue(client, collectionId, '192.0.2.44');

    // The same lines and properties (now defanged): unchanged, not duplicated.
    const same = await importText(client, collectionId, 'again[.]example\n192.0.2[.]44', first);
    expect(counts(same)).toMatchObject({
      status: 'SUCCEEDED',
      total: 2,
      created: 0,
      updated: 0,
      unchanged: 2,
      invalid: 0,
    });
    expect((await collectionState(client, collectionId)).indicatorCount).toBe(2);

    // New threats and phases: merged with what is stored, and counted updated.
    const merged = await importText(client, collectionId, text, {
      threatIds: [trickbot],
      killChainPhases: [{ phaseName: 'Exploitation' }],
    });
    expect(counts(merged)).toMatchObject({ created: 0, updated: 2, unchanged: 0 });
    for (const value of ['again.example', '192.0.2.44']) {
      const indicator = await indicatorByValue(client, collectionId, value);
      expect(indicator.id).toBe(value === 'again.example' ? original.id : originalIp.id);
      expect(indicator.threats.map((t) => t.name).sort()).toEqual(['Emotet', 'TrickBot']);
      expect(indicator.killChainPhases.map((p) => p.phaseName).sort()).toEqual(['command-and-control', 'exploitation']);
      expect(indicator.description).toBe('first'); // not given: kept
    }

    // A threat already there adds nothing: unchanged.
    expect(counts(await importText(client, collectionId, text, { threatIds: [emotet] }))).toMatchObject({
      updated: 0,
      unchanged: 2,
    });

    // A new description replaces the stored one; validity given again replaces it too.
    const replaced = await importText(client, collectionId, 'again.example', {
      description: 'second',
      validFrom: '2030-01-01T00:00:00Z',
      validUntil: '2031-01-01T00:00:00Z',
    });
    expect(counts(replaced)).toMatchObject({ updated: 1, unchanged: 0 });
    expect(await indicatorByValue(client, collectionId, 'again.example')).toMatchObject({
      id: original.id,
      description: 'second',
      validFrom: '2030-01-01T00:00:00.000Z',
      validUntil: '2031-01-01T00:00:00.000Z',
    });
    expect((await indicatorByValue(client, collectionId, '192.0.2.44')).description).toBe('first');
    expect((await collectionState(client, collectionId)).indicatorCount).toBe(2);
  });

  it('adds a new hash to the file it already knows: md5 first, then md5,sha256', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    await importText(tenant.client, collectionId, ABC.md5);
    const [before] = await allIndicators(tenant.client, collectionId);
    expect(before).toMatchObject({ type: 'FILE', value: ABC.md5 });

    const job = await importText(tenant.client, collectionId, `${ABC.md5},${ABC.sha256}`);
    expect(counts(job)).toMatchObject({ created: 0, updated: 1, unchanged: 0, invalid: 0 });
    const after = await allIndicators(tenant.client, collectionId);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({
      id: before.id,
      value: ABC.sha256,
      hashes: [
        { algorithm: 'MD5', value: ABC.md5 },
        { algorithm: 'SHA256', value: ABC.sha256 },
      ],
    });
    // Any one of its hashes alone is now that same file.
    expect(
      counts(await importText(tenant.client, collectionId, `${ABC.sha256}\n${ABC.md5.toUpperCase()}`)),
    ).toMatchObject({
      created: 0,
      unchanged: 2,
    });
  });

  it('counts duplicates inside one text once as created, then as unchanged', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    const job = await importText(
      tenant.client,
      collectionId,
      ['dup.example', 'DUP.example', 'dup[.]example', 'dup.example.', 'other.example'].join('\n'),
    );
    expect(counts(job)).toMatchObject({ total: 5, created: 2, updated: 0, unchanged: 3, invalid: 0 });
    expect((await allIndicators(tenant.client, collectionId)).map((i) => i.value).sort()).toEqual([
      'dup.example',
      'other.example',
    ]);
  });

  it('keeps a revoked indicator revoked: re-importing it is a row error INDICATOR_REVOKED', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    await importText(tenant.client, collectionId, 'revoked.example');
    const indicator = await indicatorByValue(tenant.client, collectionId, 'revoked.example');
    const revoked = await revokeIndicator(tenant.client, indicator.id);

    const job = await importText(tenant.client, collectionId, 'fresh.example\nrevoked[.]example', {
      threatIds: [await threatId(tenant.client, 'Emotet')],
      description: 'try to bring it back',
    });
    expect(counts(job)).toMatchObject({
      status: 'SUCCEEDED',
      total: 2,
      created: 1,
      updated: 0,
      unchanged: 0,
      invalid: 1,
    });
    expect(errorsOf(job)).toEqual([
      { line: 2, value: 'revoked[.]example', code: 'INDICATOR_REVOKED', message: expect.stringContaining('revoked') },
    ]);
    const after = await indicatorByValue(tenant.client, collectionId, 'revoked.example');
    expect(after).toMatchObject({
      revoked: true,
      revokedAt: revoked.revokedAt,
      threats: [],
      description: null,
    });
    expect((await collectionState(tenant.client, collectionId)).indicatorCount).toBe(1);
  });
});

describe('text import: community quota', () => {
  it(`imports up to the quota (${QUOTA}) and reports the rest as QUOTA_EXCEEDED, across all collections of the community`, async () => {
    const tenant = await createTenant(manual);
    const [first, second] = [await newCollection(tenant), await newCollection(tenant)];
    const ips = (from: number, n: number) => Array.from({ length: n }, (_, i) => `198.18.0.${from + i}`);

    const a = await importManually(tenant.client, first, ips(1, 6).join('\n'));
    expect(counts(a)).toMatchObject({ status: 'SUCCEEDED', created: 6, invalid: 0 });

    // Only 4 of the 7 fit next to the 6 of the other collection.
    const b = await importManually(tenant.client, second, ['# header', ...ips(101, 7)].join('\n'));
    expect(counts(b)).toMatchObject({ status: 'SUCCEEDED', total: 7, processed: 7, created: 4, invalid: 3 });
    expectCountsAddUp(b);
    expect(errorsOf(b).map(({ line, value, code }) => ({ line, value, code }))).toEqual([
      { line: 6, value: '198.18.0.105', code: 'QUOTA_EXCEEDED' },
      { line: 7, value: '198.18.0.106', code: 'QUOTA_EXCEEDED' },
      { line: 8, value: '198.18.0.107', code: 'QUOTA_EXCEEDED' },
    ]);
    expect(errorsOf(b)[0].message).toContain(String(QUOTA));
    expect((await collectionState(tenant.client, first)).indicatorCount).toBe(6);
    expect((await collectionState(tenant.client, second)).indicatorCount).toBe(4);

    // At the quota, known indicators can still be updated; new ones are refused.
    const c = await importManually(tenant.client, first, [...ips(1, 2), '198.18.0.200'].join('\n'), undefined, {
      description: 'updated at quota',
    });
    expect(counts(c)).toMatchObject({ created: 0, updated: 2, invalid: 1 });
    expect(errorsOf(c).map((e) => e.code)).toEqual(['QUOTA_EXCEEDED']);

    // The quota is per community: another community still has all of its own.
    const other = await createTenant(manual);
    const d = await importManually(other.client, await newCollection(other), ips(1, QUOTA).join('\n'));
    expect(counts(d)).toMatchObject({ created: QUOTA, invalid: 0 });
  });
});

describe('text import: idempotency', () => {
  it('running a finished job again changes nothing', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    const job = await importText(tenant.client, collectionId, 'once.example\n203.0.113.50\nnot valid\nonce.example', {
      killChainPhases: [{ phaseName: 'delivery' }],
    });
    expect(counts(job)).toMatchObject({ status: 'SUCCEEDED', created: 2, unchanged: 1, invalid: 1 });
    const indicatorsBefore = await allIndicators(tenant.client, collectionId);
    const rowsBefore = await app.services.prisma.indicator.findMany({
      where: { collectionId: fromGlobalId(collectionId).id },
    });

    await runImportJob(app.services, fromGlobalId(job.id).id);

    const again = await jobState(tenant.client, job.id);
    expect(again).toEqual(job);
    expect(await allIndicators(tenant.client, collectionId)).toEqual(indicatorsBefore);
    expect(
      await app.services.prisma.indicator.findMany({ where: { collectionId: fromGlobalId(collectionId).id } }),
    ).toEqual(rowsBefore);
  });

  // 6,200 lines: a first batch of BATCH_SIZE rows and a second one; bad lines in both,
  // and repeats in the second batch of indicators the first one created.
  const LINES = 6200;
  function bigText(): string {
    const lines: string[] = [];
    for (let i = 0; i < LINES - 100; i += 1) {
      lines.push(i % 1000 === 999 ? `not an ioc ${i}` : `10.${Math.floor(i / 250)}.${i % 250}.1`);
    }
    for (let i = 0; i < 100; i += 1) lines.push(lines[i]);
    return lines.join('\n');
  }
  const CLEAN = {
    status: 'SUCCEEDED',
    total: LINES,
    processed: LINES,
    created: 6094,
    updated: 0,
    unchanged: 100,
    invalid: 6,
  };

  async function storedRows(collectionId: string) {
    const rows = await app.services.prisma.indicator.findMany({
      where: { collectionId: fromGlobalId(collectionId).id },
      select: {
        type: true,
        value: true,
        threatIds: true,
        killChainPhases: true,
        validFrom: true,
        validUntil: true,
        description: true,
        revokedAt: true,
      },
      orderBy: { value: 'asc' },
    });
    return rows;
  }

  async function rowErrors(jobId: string) {
    return app.services.prisma.importRowError.findMany({
      where: { jobId: fromGlobalId(jobId).id },
      select: { line: true, value: true, code: true },
      orderBy: { line: 'asc' },
    });
  }

  it(`resumes a job interrupted after its first batch (${BATCH_SIZE} rows) from its checkpoint, ending as a clean run`, async () => {
    expect(LINES).toBeGreaterThan(BATCH_SIZE);
    const tenant = await createTenant(manual);
    const text = bigText();
    const properties: ImportProperties = {
      description: 'bulk',
      killChainPhases: [{ phaseName: 'c2' }],
      validFrom: '2024-03-01T00:00:00Z',
    };
    // Run with the default quota (the manual service has a tiny one).
    const run = (id: string) => runImportJob(app.services, id);

    const cleanCollection = await newCollection(tenant);
    const clean = await importManually(tenant.client, cleanCollection, text, run, properties);
    expect(counts(clean)).toEqual(CLEAN);

    // The worker "dies" when it asks for a connection for the second batch.
    const interruptedCollection = await newCollection(tenant);
    let connections = 0;
    const dying = {
      ...app.services,
      pool: {
        query: app.services.pool.query.bind(app.services.pool),
        connect: () => {
          connections += 1;
          return connections === 2 ? Promise.reject(new Error('worker killed')) : app.services.pool.connect();
        },
      } as unknown as pg.Pool,
    };
    const job = await requestImport(tenant.client, interruptedCollection, text, properties);
    await expect(runImportJob(dying, fromGlobalId(job.id).id)).rejects.toThrow('worker killed');

    const halfway = await jobState(tenant.client, job.id);
    expect(counts(halfway)).toEqual({
      status: 'RUNNING',
      total: LINES,
      processed: BATCH_SIZE,
      created: 4995,
      updated: 0,
      unchanged: 0,
      invalid: 5,
    });
    expect((await collectionState(tenant.client, interruptedCollection)).indicatorCount).toBe(4995);

    // The retry resumes after the committed batch.
    await runImportJob(app.services, fromGlobalId(job.id).id);
    const resumed = await jobState(tenant.client, job.id);
    expect(counts(resumed)).toEqual(CLEAN);
    expect(resumed.errors.totalCount).toBe(clean.errors.totalCount);
    expect(await rowErrors(job.id)).toEqual(await rowErrors(clean.id));
    expect(await storedRows(interruptedCollection)).toEqual(await storedRows(cleanCollection));
    expect((await collectionState(tenant.client, interruptedCollection)).indicatorCount).toBe(CLEAN.created);

    // One notification for the job, when it finally ended.
    const notifications = (await tenant.client.gql(Notifications, { first: 50 })).notifications.edges.filter(
      (e) => e.node.subject?.id === job.id,
    );
    expect(notifications.map((e) => e.node.kind)).toEqual(['IMPORT_FINISHED']);
  }, 60_000);

  it('two workers running the same job at once leave the collection as one clean run', async () => {
    const tenant = await createTenant(manual);
    const collectionId = await newCollection(tenant);
    const text = ['twice.example', '203.0.113.77', 'bad line', 'twice.example', ABC.md5].join('\n');
    const job = await requestImport(tenant.client, collectionId, text);
    const id = fromGlobalId(job.id).id;
    const attempts = await Promise.allSettled([runImportJob(app.services, id), runImportJob(app.services, id)]);
    expect(attempts.some((a) => a.status === 'fulfilled')).toBe(true);
    for (const attempt of attempts) {
      if (attempt.status === 'rejected') expect(String(attempt.reason)).toMatch(/checkpoint/);
    }
    const state = await jobState(tenant.client, job.id);
    expect(counts(state)).toEqual({
      status: 'SUCCEEDED',
      total: 5,
      processed: 5,
      created: 3,
      updated: 0,
      unchanged: 1,
      invalid: 1,
    });
    expect(state.errors.totalCount).toBe(1);
    expect((await allIndicators(tenant.client, collectionId)).map((i) => i.value).sort()).toEqual(
      ['203.0.113.77', ABC.md5, 'twice.example'].sort(),
    );
  });
  it('an attempt that read the job before another attempt finished it leaves the job finished, notified once', async () => {
    const tenant = await createTenant(manual);
    const collectionId = await newCollection(tenant);
    const job = await requestImport(tenant.client, collectionId, 'late.example\n203.0.113.88\nnot valid');
    const id = fromGlobalId(job.id).id;
    // What a second attempt (a retry after a missed heartbeat) read while the first was still running.
    const stale = await manual.services.prisma.importJob.findUnique({
      where: { id },
      include: { collection: { select: { communityId: true, name: true } }, source: true },
    });
    await runImportJob(manual.services, id);
    const finishedJob = await jobState(tenant.client, job.id);
    expect(counts(finishedJob)).toEqual({
      status: 'SUCCEEDED',
      total: 3,
      processed: 3,
      created: 2,
      updated: 0,
      unchanged: 0,
      invalid: 1,
    });

    const spy = vi.spyOn(manual.services.prisma.importJob, 'findUnique').mockResolvedValueOnce(stale as never);
    try {
      await runImportJob(manual.services, id).catch((error: unknown) => expect(String(error)).toMatch(/checkpoint/));
    } finally {
      spy.mockRestore();
    }
    expect(await jobState(tenant.client, job.id)).toEqual(finishedJob);
    const notifications = (await tenant.client.gql(Notifications, { first: 50 })).notifications.edges.filter(
      (e) => e.node.subject?.id === job.id,
    );
    expect(notifications).toHaveLength(1);
  });
});

describe.skipIf(!existsSync(FIXTURES))('text import: real feeds', () => {
  const fixture = (path: string) => readFileSync(new URL(path, FIXTURES), 'utf8');
  /** A test of one fixture file, skipped when that file is not there. */
  const withFixture = (path: string) => it.skipIf(!existsSync(new URL(path, FIXTURES)));
  /** Lines a person would count as entries: not blank, not a `#` comment. */
  const entries = (text: string) =>
    text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));

  async function importFixture(path: string) {
    const tenant = await createTenant(app);
    const text = fixture(path);
    const { collection, job } = await importIntoNewCollection(tenant, text);
    expectCountsAddUp(job);
    return { tenant, collectionId: collection.id, text, job };
  }

  withFixture('text/iocfanger_sample_text_defanged.txt')(
    'imports the ioc-fanger defanged sample: every line refanged, duplicates counted once',
    async () => {
      const { tenant, collectionId, text, job } = await importFixture('text/iocfanger_sample_text_defanged.txt');
      // Simple refanging of the forms this file uses: `[.]` and `hXXp`. Hosts and hashes are
      // case-insensitive; a URL's path is not.
      const canonical = (line: string) => {
        const fanged = line.replace(/\[\.\]/g, '.').replace(/^hxxp/i, 'http');
        return /^https?:\/\//.test(fanged) ? fanged : fanged.toLowerCase();
      };
      const lines = entries(text);
      const distinct = new Set(lines.map(canonical));
      expect(lines).toHaveLength(1017);
      expect(distinct.size).toBe(1017 - 490);
      expect(counts(job)).toEqual({
        status: 'SUCCEEDED',
        total: lines.length,
        processed: lines.length,
        created: distinct.size,
        updated: 0,
        unchanged: lines.length - distinct.size,
        invalid: 0,
      });
      const stored = await allIndicators(tenant.client, collectionId);
      expect(new Set(stored.map((i) => i.value))).toEqual(distinct);
      const typeOf = (value: string) =>
        /^https?:\/\//.test(value)
          ? 'URL'
          : /^[0-9a-f]{32}$/.test(value)
            ? 'FILE'
            : /^[\d.]+$/.test(value)
              ? 'IPV4'
              : 'DOMAIN';
      for (const indicator of stored) expect(indicator.type, indicator.value).toBe(typeOf(indicator.value));
    },
  );

  withFixture('feeds/emergingthreats_compromised-ips.txt')(
    'imports the Emerging Threats compromised IPs: one IPv4 per line',
    async () => {
      const { job, text, tenant, collectionId } = await importFixture('feeds/emergingthreats_compromised-ips.txt');
      const lines = entries(text);
      expect(lines).toHaveLength(539);
      expect(counts(job)).toEqual({
        status: 'SUCCEEDED',
        total: 539,
        processed: 539,
        created: 539,
        updated: 0,
        unchanged: 0,
        invalid: 0,
      });
      const { indicators } = await indicatorPage(tenant.client, collectionId, { types: ['IPV4'], first: 1 });
      expect(indicators.totalCount).toBe(539);
    },
  );

  withFixture('feeds/malwarebazaar_recent_md5.txt')(
    'imports the MalwareBazaar MD5 list: banner and trailer comments skipped, one FILE per hash',
    async () => {
      const { job, text, tenant, collectionId } = await importFixture('feeds/malwarebazaar_recent_md5.txt');
      const comments = text.split('\n').filter((l) => l.startsWith('#'));
      expect(comments).toHaveLength(10); // 9 banner lines and the trailer
      const hashes = entries(text);
      expect(counts(job)).toEqual({
        status: 'SUCCEEDED',
        total: hashes.length,
        processed: hashes.length,
        created: new Set(hashes).size,
        updated: 0,
        unchanged: hashes.length - new Set(hashes).size,
        invalid: 0,
      });
      const stored = await allIndicators(tenant.client, collectionId);
      expect(stored.every((i) => i.type === 'FILE' && i.hashes.length === 1 && i.hashes[0].algorithm === 'MD5')).toBe(
        true,
      );
      expect(new Set(stored.map((i) => i.value))).toEqual(new Set(hashes));
    },
  );

  withFixture('feeds/threatview_cobaltstrike_ips_with_dupes.txt')(
    'imports the threatview Cobalt Strike IPs: heavy duplication counted as unchanged',
    async () => {
      const { job, text } = await importFixture('feeds/threatview_cobaltstrike_ips_with_dupes.txt');
      const lines = entries(text);
      const distinct = new Set(lines).size;
      expect([lines.length, distinct]).toEqual([2087, 2087 - 1283]);
      expect(counts(job)).toEqual({
        status: 'SUCCEEDED',
        total: 2087,
        processed: 2087,
        created: distinct,
        updated: 0,
        unchanged: 1283,
        invalid: 0,
      });
    },
  );
});

describe('text import: bad input never crashes', () => {
  it('answers an empty text with a ValidationError on input.text', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    for (const text of ['', '  \n\r\n\t ']) {
      const result = await tenant.client.gql(ImportText, { input: { collectionId, text } });
      expect(expectMember(result.importIndicatorsFromText, 'ValidationError')).toMatchObject({
        code: 'VALIDATION',
        field: 'input.text',
      });
    }
    expect((await collectionState(tenant.client, collectionId)).imports.totalCount).toBe(0);
  });

  it('runs a text of comments only as an empty job', async () => {
    const tenant = await createTenant(app);
    const { job } = await importIntoNewCollection(tenant, '# nothing\n# to see\n');
    expect(counts(job)).toEqual({
      status: 'SUCCEEDED',
      total: 0,
      processed: 0,
      created: 0,
      updated: 0,
      unchanged: 0,
      invalid: 0,
    });
  });

  it('reports binary junk lines as row errors and imports the good lines around them', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    const junk = [
      '\u0000\u0001\u0002junk',
      'ÿØÿà\u0000\u0010JFIF\u0000\u0001',
      'PK\u0003\u0004\u0014\u0000',
      '\uFFFD\uFFFD\uFFFD',
      '💥💥💥',
      'a'.repeat(5000),
      '\u0007\u0008',
    ];
    const lines = ['before.example', ...junk, 'after.example'];
    const job = await importText(tenant.client, collectionId, lines.join('\n'));
    expect(counts(job)).toMatchObject({ status: 'SUCCEEDED', total: lines.length, created: 2, invalid: junk.length });
    expectCountsAddUp(job);
    const errors = errorsOf(job);
    expect(errors.map((e) => e.line)).toEqual(junk.map((_, i) => i + 2));
    for (const error of errors) {
      expect(error.code).toMatch(/^[A-Z_]+$/);
      expect(error.message).not.toBe('');
    }
    expect(errors.find((e) => e.line === 7)?.code).toBe('TOO_LONG');
    expect((await allIndicators(tenant.client, collectionId)).map((i) => i.value).sort()).toEqual([
      'after.example',
      'before.example',
    ]);
  });

  it('answers a collection of another community with NotFoundError, and queues nothing there', async () => {
    const owner = await createTenant(app);
    const collectionId = await newCollection(owner);
    const stranger = await createTenant(app);
    const result = await stranger.client.gql(ImportText, { input: { collectionId, text: 'evil.example' } });
    expect(expectMember(result.importIndicatorsFromText, 'NotFoundError').code).toBe('NOT_FOUND');
    expect((await collectionState(owner.client, collectionId)).imports.totalCount).toBe(0);
  });
});
