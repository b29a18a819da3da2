// Query limits: an operation that asks for too much is refused before any resolver runs,
// with an error that says which limit, and the service stays up for everyone else.
import { describe, expect, it } from 'vitest';
import { createTenant, startTestApp, type Tenant } from './kit.ts';

const app = await startTestApp({}, { workers: false });
const limited = await startTestApp({ RATE_LIMIT_PER_MINUTE: '3' }, { workers: false });

async function post(tenant: Tenant, query: string) {
  const response = await app.yoga.fetch('http://yoga/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant.client.key}` },
    body: JSON.stringify({ query }),
  });
  return {
    status: response.status,
    body: (await response.json()) as { data?: unknown; errors?: { message: string }[] },
  };
}

const nest = (depth: number) => {
  let selection = 'id';
  for (let i = 0; i < depth; i++) selection = `parent { ${selection} }`;
  return `{ communities { ${selection} } }`;
};

describe('query limits', () => {
  it('answers an ordinary operation', async () => {
    const tenant = await createTenant(app);
    const { body } = await post(tenant, '{ communities { id name } }');
    expect(body.errors).toBeUndefined();
  });

  it.each([
    ['depth', nest(20), /depth limit of 12/i],
    [
      'aliases',
      `{ ${Array.from({ length: 25 }, (_, i) => `a${i}: communities { id }`).join(' ')} }`,
      /aliases limit of 20/i,
    ],
    [
      'directives',
      `{ communities @include(if: true) ${'@include(if: true) '.repeat(25)} { id } }`,
      /directives limit of 20/i,
    ],
    ['tokens', `{ communities { ${'id '.repeat(3000)} } }`, /token limit of 2000/i],
  ])('refuses an operation past the %s limit, saying which', async (_, query, message) => {
    const tenant = await createTenant(app);
    const { body } = await post(tenant, query);
    expect(body.data ?? null).toBeNull();
    expect(body.errors?.[0].message).toMatch(message);
  });

  it('refuses an operation whose cost is past the limit', async () => {
    const tenant = await createTenant(app);
    const fields = 'id name parent { id name parent { id name parent { id name parent { id name } } } }';
    const query = `{ ${Array.from({ length: 19 }, (_, i) => `a${i}: collections(first: 100) { edges { node { id community { ${fields} } } } }`).join(' ')} }`;
    const { body } = await post(tenant, query);
    expect(body.errors?.[0].message).toMatch(/cost limit/i);
  });
});

describe('rate limit per API key', () => {
  it('answers 429 with Retry-After past the allowance, on GraphQL and /api alike, and only for that key', async () => {
    const tenant = await createTenant(limited);
    const other = await createTenant(limited);
    const ask = (key: string) =>
      limited.yoga.fetch('http://yoga/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query: '{ communities { id } }' }),
      });
    for (let i = 0; i < 3; i++) expect((await ask(tenant.client.key)).status).toBe(200);
    const refused = await ask(tenant.client.key);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await refused.json()) as { errors: { message: string }[] }).errors[0].message).toMatch(
      /3 requests a minute per API key/,
    );
    const events = await limited.yoga.fetch('http://yoga/api/events', {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.client.key}` },
      body: '',
    });
    expect(events.status).toBe(429);
    expect((await ask(other.client.key)).status).toBe(200);
  });
});
