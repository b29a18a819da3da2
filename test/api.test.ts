import { randomUUID } from 'node:crypto';
import { parse, validate } from 'graphql';
import { complexityFromQuery } from '@pothos/plugin-complexity';
import { describe, expect, it, vi } from 'vitest';
import { graphiqlTabs } from '../src/graphql/graphiql-examples.ts';
import { schema } from '../src/graphql/schema.ts';
import { CreateCollection, KillChainPhases, Threats, Viewer } from './documents.ts';
import { createTenant, expectMember, startTestApp, toGlobalId } from './kit.ts';

const app = await startTestApp({}, { workers: false });

describe('the HTTP surface', () => {
  it('serves GraphiQL with example operations and an Authorization header to fill in', async () => {
    const response = await app.yoga.fetch('http://yoga/graphql', { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('IOC Collections');
    for (const operation of ['WhoAmI', 'CreateCollection', 'ImportText', 'FollowImport', 'Indicators']) {
      expect(html).toContain(operation);
    }
    expect(html).toContain('Authorization');
  });

  it('opens GraphiQL with example operations that are valid against the schema and within the cost limit', () => {
    for (const { query } of graphiqlTabs) {
      expect(validate(schema, parse(query))).toEqual([]);
      // Every ID variable filled in (the cost does not depend on which object).
      const variables = Object.fromEntries(
        [...query.matchAll(/\$(\w+): ID!/g)].map(([, name]) => [name, toGlobalId('Collection', randomUUID())]),
      );
      const { complexity } = complexityFromQuery(query, { schema, ctx: app.services, variables });
      expect(complexity).toBeLessThanOrEqual(app.env.QUERY_MAX_COST);
    }
  });

  it('answers liveness and readiness', async () => {
    expect((await app.yoga.fetch('http://yoga/health')).status).toBe(200);
    expect((await app.yoga.fetch('http://yoga/ready')).status).toBe(200);
  });

  it('answers a request without a key with 401 and no data', async () => {
    const response = await app.yoga.fetch('http://yoga/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ communities { id } }' }),
    });
    expect(response.status).toBe(401);
    const body = await response.json();
    expect(body.data).toBeUndefined();
    expect(body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('masks unexpected failures and keeps expected ones as data', async () => {
    const { client, communityId } = await createTenant(app);
    const spy = vi
      .spyOn(app.services.prisma, '$transaction')
      .mockRejectedValueOnce(new Error('connection to 10.0.0.5 lost'));
    try {
      const result = await client.execute(CreateCollection, { input: { communityId, name: 'will fail' } });
      expect(result.errors?.[0].message).toBe('Unexpected error.');
      expect(JSON.stringify(result)).not.toContain('10.0.0.5');
    } finally {
      spy.mockRestore();
    }
    const nul = await client.gql(CreateCollection, { input: { communityId, name: 'bad\u0000name' } });
    expect(expectMember(nul.createCollection, 'ValidationError').field).toBe('input.name');
  });
});

describe('viewer, threats and kill-chain phases', () => {
  it('shows the viewer, memberships and permissions per community, sub-communities included', async () => {
    const { client, communityId, childIds } = await createTenant(app, { role: 'analyst', children: 2 });
    const { viewer, communities } = await client.gql(Viewer);
    expect(viewer.memberships).toMatchObject([
      {
        community: { id: communityId },
        role: { name: 'analyst', permissions: expect.arrayContaining(['MANAGE_IOC_COLLECTIONS']) },
      },
    ]);
    expect(communities.map((c) => c.id).sort()).toEqual([communityId, ...childIds].sort());
    const parent = communities.find((c) => c.id === communityId)!;
    expect(parent.children.map((c) => c.id).sort()).toEqual([...childIds].sort());
    expect(parent.permissions).not.toContain('INGEST_EVENTS');
    const narrowed = await client.withCommunities(childIds[0]).gql(Viewer);
    expect(narrowed.communities.map((c) => c.id)).toEqual([childIds[0]]);
    // The MSSP above stays visible by name; acting on it needs it in the selection.
    expect(narrowed.communities[0].parent).toEqual({ id: communityId });
  });

  it('searches the threat catalogue by name and alias, case-insensitively', async () => {
    const { client } = await createTenant(app, { role: 'viewer' });
    const byAlias = await client.gql(Threats, { search: 'fancy bear' });
    expect(byAlias.threats.edges.map((e) => e.node.name)).toEqual(['APT28']);
    const byName = await client.gql(Threats, { search: 'emot' });
    expect(byName.threats.edges[0].node).toMatchObject({ name: 'Emotet', kind: 'malware' });
    expect((await client.gql(Threats, { first: 5 })).threats.totalCount).toBeGreaterThanOrEqual(30);
  });

  it('lists the Lockheed Martin phases and the MITRE ATT&CK tactics', async () => {
    const { client } = await createTenant(app, { role: 'viewer' });
    const { killChainPhases } = await client.gql(KillChainPhases);
    const count = (chain: string) => killChainPhases.filter((p) => p.killChainName === chain).length;
    expect(count('lockheed-martin-cyber-kill-chain')).toBe(7);
    expect(count('mitre-attack')).toBe(14);
    expect(killChainPhases).toContainEqual({ killChainName: 'mitre-attack', phaseName: 'command-and-control' });
  });

  it('refuses catalogue reads to a key without collection permissions', async () => {
    const { client } = await createTenant(app, { role: 'sensor' });
    const result = await client.execute(Threats, {});
    expect(result.data).toBeNull();
    expect(result.errors?.[0].message).toMatch(/not authorized/i);
  });
});
