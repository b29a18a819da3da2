// Indicators of a collection, as a user sees them: listing, search and filters, edits,
// revocation, and the database rules that hold whatever client writes to the table.
import { randomUUID } from 'node:crypto';
import { parse } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { describe, expect, it } from 'vitest';
import { MAX_PAGE_SIZE } from '../src/graphql/limits.ts';
import type { IndicatorsQueryVariables, UpdateIndicatorInput } from './generated/graphql.ts';
import { Indicators, InputTypeFields, RevokeIndicator } from './documents.ts';
import {
  ABC,
  createTenant,
  createUser,
  expectMember,
  fromGlobalId,
  importText,
  indicatorByValue,
  indicatorPage,
  type IndicatorPage,
  newCollection,
  revokeIndicator,
  startTestApp,
  updateIndicator,
  threatIds,
  toGlobalId,
  type Client,
  type ImportProperties,
} from './kit.ts';

const app = await startTestApp();

/** Imports `lines` through the API and waits until the job has succeeded. */
async function importLines(client: Client, collectionId: string, lines: string[], properties?: ImportProperties) {
  const job = await importText(client, collectionId, lines.join('\n'), properties);
  expect(job).toMatchObject({ status: 'SUCCEEDED', invalid: 0 });
}

const values = (connection: IndicatorPage) => connection.indicators.edges.map((e) => e.node.value);

describe('listing indicators', () => {
  it('lists newest first, with cursor pagination and a total count', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    await importLines(tenant.client, collectionId, ['a1.example', 'a2.example', 'a3.example']);
    await importLines(tenant.client, collectionId, ['b1.example', 'b2.example']);

    const page1 = await indicatorPage(tenant.client, collectionId, { first: 2 });
    expect(values(page1)).toEqual(['b2.example', 'b1.example']);
    expect(page1.indicators.totalCount).toBe(5);
    expect(page1.indicators.pageInfo.hasNextPage).toBe(true);

    const page2 = await indicatorPage(tenant.client, collectionId, {
      first: 2,
      after: page1.indicators.pageInfo.endCursor,
    });
    expect(values(page2)).toEqual(['a3.example', 'a2.example']);
    expect(page2.indicators.pageInfo.hasNextPage).toBe(true);

    const page3 = await indicatorPage(tenant.client, collectionId, {
      first: 2,
      after: page2.indicators.pageInfo.endCursor,
    });
    expect(values(page3)).toEqual(['a1.example']);
    expect(page3.indicators.pageInfo.hasNextPage).toBe(false);
    expect(page3.indicators.totalCount).toBe(5);
    expect(page3.indicatorCount).toBe(5);

    // Without `first`, a page has the default size; here everything.
    expect(values(await indicatorPage(tenant.client, collectionId))).toEqual([
      'b2.example',
      'b1.example',
      'a3.example',
      'a2.example',
      'a1.example',
    ]);
  });

  it(`serves pages of up to ${MAX_PAGE_SIZE}; a larger \`first\` (100000 too) or a negative one is refused, saying why`, async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    const lines = Array.from({ length: MAX_PAGE_SIZE + 5 }, (_, i) => `198.51.${Math.floor(i / 200)}.${i % 200}`);
    await importLines(tenant.client, collectionId, lines);

    const full = await indicatorPage(tenant.client, collectionId, { first: MAX_PAGE_SIZE });
    expect(full.indicators.edges).toHaveLength(MAX_PAGE_SIZE);
    expect(full.indicators.pageInfo.hasNextPage).toBe(true);
    expect(full.indicators.totalCount).toBe(lines.length);
    const rest = await indicatorPage(tenant.client, collectionId, {
      first: MAX_PAGE_SIZE,
      after: full.indicators.pageInfo.endCursor,
    });
    expect(rest.indicators.edges).toHaveLength(5);
    expect(rest.indicators.pageInfo.hasNextPage).toBe(false);
    expect(new Set([...values(full), ...values(rest)])).toEqual(new Set(lines));

    for (const first of [MAX_PAGE_SIZE + 1, 100_000]) {
      const refused = await tenant.client.execute(Indicators, { id: collectionId, first });
      expect(refused.data?.node ?? null).toBeNull();
      expect(refused.errors?.[0].message).toBe(`indicators(first:) may be at most ${MAX_PAGE_SIZE}, not ${first}`);
      expect(refused.errors?.[0].extensions?.code).toBe('VALIDATION');
    }
    const negative = await tenant.client.execute(Indicators, { id: collectionId, first: -1 });
    expect(negative.errors?.[0].message).toMatch(/first.*non-negative/);
  });

  it('searches part of the value case-insensitively, accepts a defanged term, and finds a file by any of its whole hashes', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    await importLines(tenant.client, collectionId, [
      'evil.com',
      'sub.EVIL.com',
      'hxxp://evil[.]com/Payload.exe',
      'user@evil.com',
      'good.org',
      '10.20.30.40',
      `${ABC.md5},${ABC.sha256}`,
      'a_b.example',
      'axb.example',
      'münchen.example',
      '2001:0DB8:0:0:0:0:0:7',
      'trailing.example.',
    ]);
    const search = async (term: string) => {
      const result = await indicatorPage(tenant.client, collectionId, { search: term, first: 100 });
      expect(result.indicators.totalCount, `totalCount for ${term}`).toBe(result.indicators.edges.length);
      return values(result).sort();
    };
    const evil = ['evil.com', 'http://evil.com/Payload.exe', 'sub.evil.com', 'user@evil.com'];
    expect(await search('EVIL')).toEqual(evil);
    expect(await search('evil[.]com')).toEqual(evil);
    expect(await search('  evil(.)com ')).toEqual(evil);
    expect(await search('hxxp://evil[.]com')).toEqual(['http://evil.com/Payload.exe']);
    expect(await search('payload.EXE')).toEqual(['http://evil.com/Payload.exe']);
    expect(await search('20.30')).toEqual(['10.20.30.40']);
    expect(await search('nothing-like-this')).toEqual([]);
    // `_` and `%` are characters to find, not wildcards.
    expect(await search('a_b')).toEqual(['a_b.example']);
    expect(await search('_')).toEqual(['a_b.example']);
    expect(await search('%')).toEqual([]);
    // A whole value pasted as it was imported finds the indicator by its canonical form.
    expect(await search('münchen.example')).toEqual(['xn--mnchen-3ya.example']);
    expect(await search('2001:0DB8:0:0:0:0:0:7')).toEqual(['2001:db8::7']);
    expect(await search('[2001:db8::7]')).toEqual(['2001:db8::7']);
    expect(await search('trailing.example.')).toEqual(['trailing.example']);
    expect(await search('HXXP://EVIL[.]COM:80/Payload.exe')).toEqual(['http://evil.com/Payload.exe']);

    // A whole md5 (any case) finds the FILE indicator, whose value is its sha256.
    for (const term of [ABC.md5, ABC.md5.toUpperCase(), ABC.sha256]) {
      const result = await indicatorPage(tenant.client, collectionId, { search: term });
      expect(
        result.indicators.edges.map((e) => e.node),
        term,
      ).toEqual([
        expect.objectContaining({
          type: 'FILE',
          value: ABC.sha256,
          hashes: [
            { algorithm: 'MD5', value: ABC.md5 },
            { algorithm: 'SHA256', value: ABC.sha256 },
          ],
        }),
      ]);
    }
  });

  it('filters by types, threats, kill-chain phases (named loosely) and revocation state', async () => {
    const tenant = await createTenant(app);
    const { client } = tenant;
    const collectionId = await newCollection(tenant);
    const [emotet, trickbot, apt28] = await threatIds(client, 'Emotet', 'TrickBot', 'APT28');
    await importLines(client, collectionId, ['emotet.example', '203.0.113.5'], {
      threatIds: [emotet],
      killChainPhases: [{ phaseName: 'c2' }],
    });
    await importLines(client, collectionId, ['trick.example', '2001:db8::5'], {
      threatIds: [trickbot],
      killChainPhases: [{ phaseName: 'delivery' }, { phaseName: 'Command and Control', killChainName: 'mitre' }],
    });
    await importLines(client, collectionId, ['plain.example', 'gone.example']);
    await revokeIndicator(client, (await indicatorByValue(client, collectionId, 'gone.example')).id);

    const sorted = async (args: Omit<IndicatorsQueryVariables, 'id'>) => {
      const result = await indicatorPage(client, collectionId, { first: 100, ...args });
      expect(result.indicators.totalCount).toBe(result.indicators.edges.length);
      return values(result).sort();
    };
    const active = ['2001:db8::5', '203.0.113.5', 'emotet.example', 'plain.example', 'trick.example'];
    expect(await sorted({})).toEqual(active);
    expect((await indicatorPage(client, collectionId)).indicatorCount).toBe(5);

    expect(await sorted({ types: ['IPV4', 'IPV6'] })).toEqual(['2001:db8::5', '203.0.113.5']);
    expect(await sorted({ types: ['DOMAIN'] })).toEqual(['emotet.example', 'plain.example', 'trick.example']);
    expect(await sorted({ types: ['URL', 'EMAIL', 'FILE'] })).toEqual([]);

    expect(await sorted({ threatIds: [emotet] })).toEqual(['203.0.113.5', 'emotet.example']);
    expect(await sorted({ threatIds: [emotet, trickbot] })).toEqual([
      '2001:db8::5',
      '203.0.113.5',
      'emotet.example',
      'trick.example',
    ]);
    expect(await sorted({ threatIds: [apt28] })).toEqual([]);

    // `Command and Control` without a chain is the Lockheed Martin phase; with `mitre`, the ATT&CK tactic.
    expect(await sorted({ killChainPhases: [{ phaseName: 'Command and Control' }] })).toEqual([
      '203.0.113.5',
      'emotet.example',
    ]);
    expect(await sorted({ killChainPhases: [{ phaseName: 'C2', killChainName: 'MITRE ATT&CK' }] })).toEqual([
      '2001:db8::5',
      'trick.example',
    ]);
    expect(await sorted({ killChainPhases: [{ phaseName: 'c2' }, { phaseName: 'Delivery' }] })).toEqual([
      '2001:db8::5',
      '203.0.113.5',
      'emotet.example',
      'trick.example',
    ]);

    expect(await sorted({ types: ['DOMAIN'], threatIds: [emotet, trickbot], search: 'TRICK' })).toEqual([
      'trick.example',
    ]);
    // An unknown phase is a clear error, not an empty list.
    const unknownPhase = await client.execute(Indicators, {
      id: collectionId,
      killChainPhases: [{ phaseName: 'lunch break' }],
    });
    expect(unknownPhase.errors?.[0]).toMatchObject({
      message: expect.stringContaining('lunch break'),
      extensions: { code: 'VALIDATION' },
    });

    expect(await sorted({ includeRevoked: true })).toEqual([...active, 'gone.example'].sort());
    expect(await sorted({ revoked: true })).toEqual(['gone.example']);
    expect(await sorted({ revoked: false, includeRevoked: true })).toEqual(active);
    expect(await sorted({ revoked: true, types: ['IPV4'] })).toEqual([]);
  });
});

describe('counts', () => {
  it('gives every listing the total of its rows: the unfiltered ones from the collection counters, through imports, merges and revocations', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    const other = await newCollection(tenant);
    const totals = async () => {
      const ask = async (args: Omit<IndicatorsQueryVariables, 'id'>) =>
        (await indicatorPage(tenant.client, collectionId, args)).indicators.totalCount;
      const { indicatorCount } = await indicatorPage(tenant.client, collectionId, { first: 1 });
      const rows = await app.services.prisma.indicator.groupBy({
        by: ['revokedAt'],
        where: { collectionId: fromGlobalId(collectionId).id },
        _count: true,
      });
      const revokedRows = rows.filter((r) => r.revokedAt).reduce((sum, r) => sum + r._count, 0);
      const activeRows = rows.filter((r) => !r.revokedAt).reduce((sum, r) => sum + r._count, 0);
      return {
        listed: [
          await ask({}),
          await ask({ includeRevoked: true }),
          await ask({ revoked: true }),
          await ask({ revoked: false }),
        ],
        counted: [activeRows, activeRows + revokedRows, revokedRows, activeRows],
        indicatorCount,
      };
    };
    const expectTotals = async (active: number, revoked: number) => {
      const { listed, counted, indicatorCount } = await totals();
      expect(listed).toEqual([active, active + revoked, revoked, active]);
      expect(counted).toEqual(listed);
      expect(indicatorCount).toBe(active);
    };

    await expectTotals(0, 0);
    await importLines(tenant.client, collectionId, ['198.51.100.1', '198.51.100.2', 'evil.example']);
    await importLines(tenant.client, other, ['198.51.100.1']);
    await expectTotals(3, 0);
    // The same values again (merged, not added) and one new one.
    await importLines(tenant.client, collectionId, ['198.51.100.1', 'evil.example', 'new.example']);
    await expectTotals(4, 0);
    const revokedIp = await indicatorByValue(tenant.client, collectionId, '198.51.100.2');
    await revokeIndicator(tenant.client, revokedIp.id);
    await revokeIndicator(tenant.client, (await indicatorByValue(tenant.client, collectionId, 'new.example')).id);
    await expectTotals(2, 2);
    // A revoked value imported again stays revoked (the row is refused) and is not counted twice.
    expect(await importText(tenant.client, collectionId, 'new.example')).toMatchObject({
      status: 'SUCCEEDED',
      invalid: 1,
    });
    await expectTotals(2, 2);
    // An operator deleting an active row in SQL (no API does) moves the counters too.
    const gone = await indicatorByValue(tenant.client, collectionId, 'evil.example');
    await app.services.pool.query('DELETE FROM indicators WHERE id = $1', [fromGlobalId(gone.id).id]);
    await expectTotals(1, 2);
    // A search or a filter counts its own rows.
    expect((await indicatorPage(tenant.client, collectionId, { search: '198.51.100' })).indicators.totalCount).toBe(1);
    expect(
      (await indicatorPage(tenant.client, collectionId, { search: '198.51.100', includeRevoked: true })).indicators
        .totalCount,
    ).toBe(2);
  });
});

describe('editing indicators', () => {
  it('changes threats, validity, phases and description; lists replace, fields left out stay, null clears', async () => {
    const tenant = await createTenant(app);
    const { client } = tenant;
    const collectionId = await newCollection(tenant);
    const [emotet, trickbot, apt28] = await threatIds(client, 'Emotet', 'TrickBot', 'APT28');
    await importLines(client, collectionId, ['edit.example'], {
      threatIds: [emotet, trickbot],
      killChainPhases: [{ phaseName: 'c2' }, { phaseName: 'delivery' }],
      validFrom: '2024-01-01T00:00:00Z',
      description: 'original',
    });
    const before = await indicatorByValue(client, collectionId, 'edit.example');

    const edited = await updateIndicator(client, before.id, {
      threatIds: [apt28],
      killChainPhases: [{ phaseName: 'exfil', killChainName: 'mitre' }],
      validFrom: '2024-02-01T00:00:00Z',
      validUntil: '2024-12-31T00:00:00+01:00',
      description: '  edited by hand ',
    });
    expect(expectMember(edited, 'UpdateIndicatorSuccess').indicator).toMatchObject({
      id: before.id,
      type: 'DOMAIN',
      value: 'edit.example',
      threats: [{ id: apt28, name: 'APT28' }],
      killChainPhases: [{ killChainName: 'mitre-attack', phaseName: 'exfiltration' }],
      validFrom: '2024-02-01T00:00:00.000Z',
      validUntil: '2024-12-30T23:00:00.000Z',
      description: 'edited by hand',
      revoked: false,
    });
    // What a listing shows afterwards is the same.
    expect(await indicatorByValue(client, collectionId, 'edit.example')).toMatchObject({
      threats: [{ name: 'APT28' }],
      description: 'edited by hand',
      validUntil: '2024-12-30T23:00:00.000Z',
    });

    // Only the description: the rest is kept.
    const onlyDescription = expectMember(
      await updateIndicator(client, before.id, { description: 'second edit' }),
      'UpdateIndicatorSuccess',
    ).indicator;
    expect(onlyDescription).toMatchObject({
      description: 'second edit',
      threats: [{ name: 'APT28' }],
      killChainPhases: [{ killChainName: 'mitre-attack', phaseName: 'exfiltration' }],
      validFrom: '2024-02-01T00:00:00.000Z',
      validUntil: '2024-12-30T23:00:00.000Z',
    });

    // Empty lists clear; null removes the end of validity and the description.
    const cleared = expectMember(
      await updateIndicator(client, before.id, {
        threatIds: [],
        killChainPhases: [],
        validUntil: null,
        description: null,
      }),
      'UpdateIndicatorSuccess',
    ).indicator;
    expect(cleared).toMatchObject({
      threats: [],
      killChainPhases: [],
      validUntil: null,
      description: null,
      value: 'edit.example',
    });
    expect(Date.parse(cleared.updatedAt)).toBeGreaterThanOrEqual(Date.parse(onlyDescription.updatedAt));
  });

  it('has no way to change the observable: the input has no such field, and sending one is refused', async () => {
    const tenant = await createTenant(app);
    const { __type } = await tenant.client.gql(InputTypeFields, { name: 'UpdateIndicatorInput' });
    expect(__type?.inputFields?.map((f) => f.name).sort()).toEqual([
      'description',
      'id',
      'killChainPhases',
      'threatIds',
      'validFrom',
      'validUntil',
    ]);

    const collectionId = await newCollection(tenant);
    await importLines(tenant.client, collectionId, ['203.0.113.99']);
    const { id } = await indicatorByValue(tenant.client, collectionId, '203.0.113.99');
    // An untyped document: the typed one would not even compile with these fields.
    const WithValue = parse(
      `mutation($input: UpdateIndicatorInput!) { updateIndicator(input: $input) { __typename } }`,
    ) as TypedDocumentNode<unknown, { input: Record<string, unknown> }>;
    for (const field of ['value', 'type', 'hashes']) {
      const result = await tenant.client.execute(WithValue, { input: { id, [field]: 'evil.example' } });
      expect(result.data ?? null).toBeNull();
      expect(result.errors?.[0].message).toContain(`"${field}" is not defined by type "UpdateIndicatorInput"`);
    }
    expect(await indicatorByValue(tenant.client, collectionId, '203.0.113.99')).toMatchObject({ id, type: 'IPV4' });
  });

  it('rejects validUntil not after validFrom (given together, or against the stored one) and other bad properties, with the field', async () => {
    const tenant = await createTenant(app);
    const { client } = tenant;
    const collectionId = await newCollection(tenant);
    await importLines(client, collectionId, ['dates.example'], {
      validFrom: '2024-06-01T00:00:00Z',
      description: 'kept',
    });
    const { id } = await indicatorByValue(client, collectionId, 'dates.example');

    const update = (input: Omit<UpdateIndicatorInput, 'id'>) => updateIndicator(client, id, input);
    const expectInvalid = async (input: Omit<UpdateIndicatorInput, 'id'>, field: string) => {
      const error = expectMember(await update(input), 'ValidationError');
      expect({ code: error.code, field: error.field }, JSON.stringify(input)).toEqual({ code: 'VALIDATION', field });
    };

    await expectInvalid({ validFrom: '2024-03-01T00:00:00Z', validUntil: '2024-02-01T00:00:00Z' }, 'input.validUntil');
    await expectInvalid({ validUntil: '2024-05-31T23:59:59Z' }, 'input.validUntil'); // before the stored validFrom
    await expectInvalid({ validUntil: '2024-06-01T00:00:00Z' }, 'input.validUntil'); // equal is not after
    expectMember(await update({ validUntil: '2024-12-31T00:00:00Z' }), 'UpdateIndicatorSuccess');
    await expectInvalid({ validFrom: '2025-01-01T00:00:00Z' }, 'input.validFrom'); // after the stored validUntil
    await expectInvalid({ description: 'x'.repeat(501) }, 'input.description');
    await expectInvalid({ threatIds: [toGlobalId('Threat', randomUUID())] }, 'input.threatIds');
    await expectInvalid(
      { killChainPhases: [{ phaseName: 'c2' }, { phaseName: 'lunch break' }] },
      'input.killChainPhases.1',
    );

    // None of the refused edits changed anything.
    expect(await indicatorByValue(client, collectionId, 'dates.example')).toMatchObject({
      validFrom: '2024-06-01T00:00:00.000Z',
      validUntil: '2024-12-31T00:00:00.000Z',
      description: 'kept',
      threats: [],
      killChainPhases: [],
    });
  });

  it('refuses to edit a revoked indicator (IndicatorRevokedError)', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    await importLines(tenant.client, collectionId, ['old.example']);
    const { id } = await indicatorByValue(tenant.client, collectionId, 'old.example');
    await revokeIndicator(tenant.client, id);
    const result = await updateIndicator(tenant.client, id, { description: 'revive' });
    expect(expectMember(result, 'IndicatorRevokedError').code).toBe('INDICATOR_REVOKED');
    expect(await indicatorByValue(tenant.client, collectionId, 'old.example')).toMatchObject({
      revoked: true,
      description: null,
    });
  });

  it('lets only a manager of the owning community edit or revoke; others get ForbiddenError or NotFoundError', async () => {
    const owner = await createTenant(app);
    const collectionId = await newCollection(owner);
    await importLines(owner.client, collectionId, ['guarded.example']);
    const { id } = await indicatorByValue(owner.client, collectionId, 'guarded.example');

    const viewer = await createUser(app, [{ communityId: owner.communityRawId, role: 'viewer' }]);
    expect(expectMember(await updateIndicator(viewer, id, { description: 'x' }), 'ForbiddenError')).toMatchObject({
      code: 'FORBIDDEN',
      missingPermission: 'MANAGE_IOC_COLLECTIONS',
    });
    expect((await viewer.gql(RevokeIndicator, { input: { id } })).revokeIndicator.__typename).toBe('ForbiddenError');

    const stranger = await createTenant(app);
    expect(expectMember(await updateIndicator(stranger.client, id, { description: 'x' }), 'NotFoundError').code).toBe(
      'NOT_FOUND',
    );
    expect((await stranger.client.gql(RevokeIndicator, { input: { id } })).revokeIndicator.__typename).toBe(
      'NotFoundError',
    );
    expect(await indicatorByValue(owner.client, collectionId, 'guarded.example')).toMatchObject({
      revoked: false,
      description: null,
    });
  });
});

describe('revoking indicators', () => {
  it('sets revoked and revokedAt once, and hides the indicator from the default listing and from indicatorCount', async () => {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    await importLines(tenant.client, collectionId, ['keep.example', 'drop.example']);
    const { id } = await indicatorByValue(tenant.client, collectionId, 'drop.example');
    const before = Date.now();

    const first = await revokeIndicator(tenant.client, id);
    expect(first).toMatchObject({ id, value: 'drop.example', revoked: true });
    expect(Date.parse(first.revokedAt!)).toBeGreaterThanOrEqual(before - 1000);
    const revokedBy = (
      await tenant.client.app.services.prisma.user.findUniqueOrThrow({ where: { id: tenant.client.userId } })
    ).email;
    expect(first.revokedBy?.email).toBe(revokedBy);

    await new Promise((r) => setTimeout(r, 20));
    const second = await revokeIndicator(tenant.client, id);
    expect(second).toMatchObject({ id, revoked: true, revokedAt: first.revokedAt });

    const listing = await indicatorPage(tenant.client, collectionId);
    expect(values(listing)).toEqual(['keep.example']);
    expect(listing.indicators.totalCount).toBe(1);
    expect(listing.indicatorCount).toBe(1);
    expect(await indicatorByValue(tenant.client, collectionId, 'drop.example')).toMatchObject({
      revoked: true,
      revokedAt: first.revokedAt,
    });
  });
});

describe('the database guards indicators', () => {
  async function setup() {
    const tenant = await createTenant(app);
    const collectionId = await newCollection(tenant);
    await importLines(tenant.client, collectionId, ['192.0.2.10', 'revoked.example', `${ABC.md5}`]);
    const ip = await indicatorByValue(tenant.client, collectionId, '192.0.2.10');
    const revoked = await indicatorByValue(tenant.client, collectionId, 'revoked.example');
    const file = await indicatorByValue(tenant.client, collectionId, ABC.md5);
    await revokeIndicator(tenant.client, revoked.id);
    return {
      tenant,
      collectionId,
      ip,
      revoked: await indicatorByValue(tenant.client, collectionId, 'revoked.example'),
      file,
    };
  }
  const sql = (text: string, id: string) => app.services.pool.query(text, [fromGlobalId(id).id]);

  it('refuses to un-revoke, edit or delete a revoked row', async () => {
    const { tenant, collectionId, revoked } = await setup();
    await expect(
      sql('UPDATE indicators SET revoked_at = NULL, revoked_by_id = NULL WHERE id = $1', revoked.id),
    ).rejects.toThrow(/is revoked and cannot be changed/);
    await expect(sql(`UPDATE indicators SET description = 'sneaky' WHERE id = $1`, revoked.id)).rejects.toThrow(
      /is revoked and cannot be changed/,
    );
    await expect(
      sql(`UPDATE indicators SET valid_until = now() + interval '1 day' WHERE id = $1`, revoked.id),
    ).rejects.toThrow(/is revoked and cannot be changed/);
    await expect(sql('DELETE FROM indicators WHERE id = $1', revoked.id)).rejects.toThrow(
      /is revoked and kept for audit/,
    );
    expect(await indicatorByValue(tenant.client, collectionId, 'revoked.example')).toEqual(revoked);
  });

  it("refuses to change an active indicator's observable, but allows its properties", async () => {
    const { tenant, collectionId, ip, file } = await setup();
    await expect(sql(`UPDATE indicators SET value = '192.0.2.11' WHERE id = $1`, ip.id)).rejects.toThrow(
      /observable .* cannot be changed/,
    );
    await expect(sql(`UPDATE indicators SET type = 'DOMAIN' WHERE id = $1`, ip.id)).rejects.toThrow(
      /observable .* cannot be changed/,
    );
    const other = await newCollection(tenant);
    await expect(
      app.services.pool.query('UPDATE indicators SET collection_id = $2 WHERE id = $1', [
        fromGlobalId(ip.id).id,
        fromGlobalId(other).id,
      ]),
    ).rejects.toThrow(/observable .* cannot be changed/);
    await expect(sql(`UPDATE indicators SET type = 'IPV4' WHERE id = $1`, file.id)).rejects.toThrow(
      /observable .* cannot be changed/,
    );
    expect(await indicatorByValue(tenant.client, collectionId, '192.0.2.10')).toEqual(ip);

    // Properties are not the observable: the trigger lets these through.
    await sql(`UPDATE indicators SET description = 'by hand' WHERE id = $1`, ip.id);
    expect((await indicatorByValue(tenant.client, collectionId, '192.0.2.10')).description).toBe('by hand');
  });
});
