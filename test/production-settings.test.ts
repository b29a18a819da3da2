// The service with the settings it is deployed with: NODE_ENV=production and nothing else
// about the schema set. A stranger (or a leaked key) must not be able to read the schema:
// introspection is refused and "Did you mean …?" suggestions, which would name fields one
// typo at a time, are hidden. The other test files run with the development defaults.
import { parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../src/graphql/schema.ts';
import { createTenant, startTestApp } from './kit.ts';

// Empty values count as unset: the production defaults apply whatever the caller's environment says.
const app = await startTestApp({ NODE_ENV: 'production', INTROSPECTION: '', GRAPHIQL: '' }, { workers: false });
const tenant = await createTenant(app);

interface Answer {
  data?: unknown;
  errors?: { message: string; extensions?: { code?: string } }[];
}

async function post(query: string): Promise<{ status: number; body: Answer }> {
  const response = await app.yoga.fetch('http://yoga/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant.client.key}` },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: (await response.json()) as Answer };
}

describe('production settings', () => {
  it('are what NODE_ENV=production gives', () => {
    expect(app.env).toMatchObject({ NODE_ENV: 'production', INTROSPECTION: false, GRAPHIQL: false });
  });

  it.each([
    ['the schema', '{ __schema { queryType { name } } }', '__schema'],
    ['a type', '{ __type(name: "Indicator") { fields { name } } }', '__type'],
  ])('refuse introspection of %s', async (_name, query, field) => {
    const { body } = await post(query);
    expect(body.data).toBeUndefined();
    expect(body.errors?.[0]).toMatchObject({
      message: `GraphQL introspection has been disabled, but the requested query contained the field "${field}".`,
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
    for (const error of body.errors ?? []) expect(error.message).toMatch(/^GraphQL introspection has been disabled/);
  });

  it('still answer ordinary queries and __typename', async () => {
    const { status, body } = await post('{ __typename viewer { id } }');
    expect(status).toBe(200);
    expect(body).toEqual({ data: { __typename: 'Query', viewer: { id: expect.any(String) } } });
  });

  it.each([
    ['field', '{ viewr { id } }', 'Cannot query field "viewr" on type "Query".'],
    ['argument', '{ threats(frist: 1) { totalCount } }', 'Unknown argument "frist" on field "Query.threats".'],
    ['type', '{ node(id: "x") { ... on Indicatr { id } } }', 'Unknown type "Indicatr".'],
  ])('hide the suggestions for a misspelt %s', async (_name, query, error) => {
    // Without the production settings, the error names the real one.
    const unguarded = validate(schema, parse(query)).map((e) => e.message);
    expect(unguarded).toEqual([expect.stringMatching(/^.+ Did you mean ".+"\?$/)]);
    expect(unguarded[0].startsWith(error)).toBe(true);

    const { body } = await post(query);
    expect(body.errors?.map((e) => e.message)).toEqual([`${error} [Suggestion hidden]`]);
  });

  it('serve no GraphiQL page', async () => {
    const response = await app.yoga.fetch('http://yoga/graphql', { headers: { accept: 'text/html' } });
    expect(await response.text()).not.toMatch(/graphiql/i);
  });
});
