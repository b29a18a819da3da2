// Query limits: an operation that asks for too much is refused before any resolver runs,
// with an error that says which limit, over HTTP, SSE and graphql-ws alike, and the service
// stays up for everyone else.
import { createClient } from 'graphql-ws';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MAX_PAGE_SIZE } from '../src/graphql/limits.ts';
import { createTenant, startTestApp, type Tenant } from './kit.ts';

const app = await startTestApp({}, { workers: false });
const limited = await startTestApp({ RATE_LIMIT_PER_MINUTE: '3' }, { workers: false });

interface Answer {
  data?: unknown;
  errors?: { message: string; extensions?: { code?: string } }[];
}

async function post(tenant: Tenant, query: string, variables?: Record<string, unknown>) {
  const response = await app.yoga.fetch('http://yoga/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant.client.key}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as Answer };
}

/** The first result of an operation over GraphQL over SSE (a real socket). */
async function overSse(tenant: Tenant, query: string): Promise<Answer> {
  const { url } = await app.http();
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      authorization: `Bearer ${tenant.client.key}`,
    },
    body: JSON.stringify({ query }),
  });
  const text = await response.text();
  const data = /^event: next\ndata: (.*)$/m.exec(text);
  return data ? (JSON.parse(data[1]) as Answer) : { errors: [{ message: `no result in: ${text.slice(0, 200)}` }] };
}

const wsClients: ReturnType<typeof createClient>[] = [];
afterAll(async () => {
  for (const client of wsClients) await client.dispose();
});

/** The first result of an operation over graphql-ws; protocol errors come back as `errors`. */
async function overWs(tenant: Tenant, query: string): Promise<Answer> {
  const { url } = await app.http();
  const client = createClient({
    url: `${url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${tenant.client.key}` },
    retryAttempts: 0,
  });
  wsClients.push(client);
  try {
    for await (const result of client.iterate({ query })) return result as Answer;
    return { errors: [{ message: 'completed without a result' }] };
  } catch (errors) {
    return { errors: errors as Answer['errors'] };
  }
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
    expect(body.data ?? null).toBeNull();
    expect(body.errors?.[0].message).toMatch(/cost limit of 20000/i);
    expect(body.errors?.[0].extensions?.code).toBe('QUERY_TOO_COSTLY');
  });

  it('counts page sizes in the cost: nested pages of 100 are refused, the same shape with small pages is served', async () => {
    const tenant = await createTenant(app);
    const nested = `query ($size: Int) { collections(first: $size) { edges { node { id
      indicators(first: $size) { edges { node { id value threats { id name } } } } } } } }`;
    // About 100 × 100 × 25 with the variables applied: far past 20000; with pages of 10, about 2500.
    const big = await post(tenant, nested, { size: MAX_PAGE_SIZE });
    expect(big.body.errors?.[0].message).toMatch(/^Operation cost 2\d{5} is past the cost limit of 20000/);
    const small = await post(tenant, nested, { size: 10 });
    expect(small.body.errors).toBeUndefined();
  });

  it('refuses `first: 100000` (as a literal or a variable) with the argument and the largest page', async () => {
    const tenant = await createTenant(app);
    for (const [query, variables] of [
      ['{ collections(first: 100000) { totalCount } }', undefined],
      ['query ($n: Int) { collections(first: $n) { totalCount } }', { n: 100_000 }],
      ['{ notifications(last: 100000) { totalCount } }', undefined],
    ] as const) {
      const { status, body } = await post(tenant, query, variables);
      expect(status).toBe(200);
      expect(body.data ?? null).toBeNull();
      expect(body.errors?.[0].message).toMatch(
        /^(collections|notifications)\((first|last):\) may be at most 100, not 100000$/,
      );
      expect(body.errors?.[0].extensions?.code).toBe('VALIDATION');
    }
  });

  it.each([
    ['SSE', overSse],
    ['graphql-ws', overWs],
  ])('applies the same limits over %s, and the connection still serves a good operation', async (_, send) => {
    const tenant = await createTenant(app);
    const attacks: [string, RegExp][] = [
      [nest(20), /depth limit of 12/i],
      [`{ ${Array.from({ length: 25 }, (_, i) => `a${i}: communities { id }`).join(' ')} }`, /aliases limit of 20/i],
      [`{ communities { ${'id '.repeat(3000)} } }`, /token limit of 2000/i],
      ['{ collections(first: 100000) { totalCount } }', /may be at most 100/],
      [
        `subscription { notificationAdded { id ${'subject { ... on ImportJob { collection { community { parent { '.repeat(3)} id ${'} } } } }'.repeat(3)} } }`,
        /depth limit of 12/i,
      ],
    ];
    for (const [query, message] of attacks) {
      const answer = await send(tenant, query);
      expect(answer.data ?? null, query.slice(0, 60)).toBeNull();
      expect(answer.errors?.[0].message, query.slice(0, 60)).toMatch(message);
    }
    const good = await send(tenant, '{ communities { id } }');
    expect(good.errors).toBeUndefined();
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
