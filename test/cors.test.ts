// Which browser origins may call the API: CORS_ORIGINS when set; by default the service's own
// origin and pages of this machine in development, none in production and test. Never with
// credentials: keys travel in the Authorization header, not in cookies.
import { describe, expect, it } from 'vitest';
import { readEnv } from '../src/config/env.ts';
import { corsPolicy } from '../src/graphql/cors.ts';
import { createTenant, startTestApp, type TestApp } from './kit.ts';

const SOC = 'https://soc.example.com';
const listed = await startTestApp(
  { NODE_ENV: 'production', CORS_ORIGINS: `${SOC}, https://intel.example.org:8443` },
  { workers: false },
);
const production = await startTestApp({ NODE_ENV: 'production' }, { workers: false });
const development = await startTestApp({ NODE_ENV: 'development' }, { workers: false });
const test = await startTestApp({}, { workers: false });

const API = 'http://api.internal:4000';

/** The status and the CORS headers of a response (Vary included). */
const corsOf = (response: Response) => ({
  status: response.status,
  ...Object.fromEntries(
    [...response.headers].filter(([name]) => name.startsWith('access-control-') || name === 'vary'),
  ),
});

/** What a browser asks before a cross-origin POST with an API key. */
async function preflight(app: TestApp, origin: string, path = '/graphql') {
  const response = await app.yoga.fetch(`${API}${path}`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type',
    },
  });
  return corsOf(response);
}

/** A preflight's answer for an allowed origin. */
const allowedPreflight = (origin: string) => ({
  status: 204,
  'access-control-allow-origin': origin,
  'access-control-allow-methods': 'POST',
  'access-control-allow-headers': 'authorization,content-type',
  'access-control-expose-headers': 'x-request-id',
  'access-control-max-age': '600',
  vary: 'Origin, Access-Control-Request-Headers',
});
/** A preflight's answer for any other origin: no CORS header at all, so the browser stops there. */
const refusedPreflight = { status: 204 };

async function communitiesFrom(app: TestApp, origin: string, key: string) {
  const response = await app.yoga.fetch(`${API}/graphql`, {
    method: 'POST',
    headers: { origin, authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query: 'query CorsCommunities { communities { id } }' }),
  });
  return { ...corsOf(response), body: await response.json() };
}

describe('CORS_ORIGINS', () => {
  it('lets a listed origin call GraphQL and /api: preflight and request, without credentials', async () => {
    expect(await preflight(listed, SOC)).toEqual(allowedPreflight(SOC));
    expect(await preflight(listed, 'https://intel.example.org:8443', '/api/events')).toEqual(
      allowedPreflight('https://intel.example.org:8443'),
    );

    const { client, communityId } = await createTenant(listed);
    expect(await communitiesFrom(listed, SOC, client.key)).toEqual({
      status: 200,
      'access-control-allow-origin': SOC,
      // A page may read the request id, to quote it when it reports a problem.
      'access-control-expose-headers': 'x-request-id',
      'access-control-max-age': '600',
      vary: 'Origin',
      body: { data: { communities: [{ id: communityId }] } },
    });
    const events = await listed.yoga.fetch(`${API}/api/events`, {
      method: 'POST',
      headers: { origin: SOC, authorization: `Bearer ${client.key}`, 'content-type': 'application/x-ndjson' },
      body: `${JSON.stringify({ '@timestamp': new Date().toISOString(), destination: { ip: '192.0.2.1' } })}\n`,
    });
    expect(corsOf(events)).toEqual({
      status: 200,
      'access-control-allow-origin': SOC,
      'access-control-expose-headers': 'x-request-id',
      'access-control-max-age': '600',
      vary: 'Origin',
    });
  });

  it('gives an unlisted origin no access-control-allow-origin, even one of this machine in development', async () => {
    for (const origin of ['https://evil.example', 'https://soc.example.com.evil.example', 'http://soc.example.com']) {
      expect(await preflight(listed, origin), origin).toEqual(refusedPreflight);
    }
    const { client } = await createTenant(listed);
    const answer = await communitiesFrom(listed, 'https://evil.example', client.key);
    // The server still answers (CORS is the browser's to enforce), but the page may not read it.
    expect(answer).toMatchObject({ status: 200 });
    expect(Object.keys(answer).filter((name) => name.startsWith('access-control-'))).toEqual([]);

    const developmentListed = corsPolicy(readEnv({ NODE_ENV: 'development', CORS_ORIGINS: SOC }));
    const fromLocalhost = new Request(`${API}/graphql`, { headers: { origin: 'http://localhost:5173' } });
    expect(developmentListed(fromLocalhost)).toBe(false);
  });

  it('stops the start on an entry that is not an origin', () => {
    for (const entry of ['*', 'soc.example.com', 'https://soc.example.com/app', 'ftp://soc.example.com']) {
      expect(() => corsPolicy(readEnv({ CORS_ORIGINS: `${SOC},${entry}` })), entry).toThrow(
        `CORS_ORIGINS: ${JSON.stringify(entry)} is not an origin`,
      );
    }
  });
});

describe('CORS by default', () => {
  it('in development allows the service’s own origin and http://localhost or 127.0.0.1 on any port', async () => {
    for (const origin of ['http://localhost:5173', 'http://127.0.0.1:8080', 'http://localhost', API]) {
      expect(await preflight(development, origin), origin).toEqual(allowedPreflight(origin));
    }
    for (const origin of ['https://soc.example.com', 'http://localhost.evil.example:5173', 'http://10.0.0.5:8080']) {
      expect(await preflight(development, origin), origin).toEqual(refusedPreflight);
    }
  });

  it('in production and test allows no other origin, localhost included', async () => {
    for (const app of [production, test]) {
      for (const origin of ['http://localhost:5173', 'http://127.0.0.1:8080', SOC]) {
        expect(await preflight(app, origin), `${app.env.NODE_ENV} ${origin}`).toEqual(refusedPreflight);
      }
    }
  });
});
