// GraphQL over HTTP conformance: the `graphql-http` server audits, run against the real
// HTTP server (not yoga.fetch) with a fresh tenant's API key on every request.
import { serverAudits, type AuditResult } from 'graphql-http';
import { afterAll, describe, expect, it } from 'vitest';
import { createTenant, startTestApp } from './kit.ts';

const app = await startTestApp({}, { workers: false });
const url = `${(await app.http()).url}/graphql`;
const { key } = (await createTenant(app, { role: 'viewer' })).client;

/** Every request carries the tenant's key: the API answers nothing without one. */
const fetchWithKey: typeof fetch = (input, init) => {
  const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
  headers.set('authorization', `Bearer ${key}`);
  return fetch(input, { ...init, headers });
};

/**
 * Warnings and notices (spec recommendations, not requirements) that we accept, by audit
 * id, each with a one-line reason. None today: graphql-http 1.23.1 reports all 61 audits ok.
 */
const KNOWN_WARNINGS: Record<string, string> = {};

const audits = serverAudits({ url, fetchFn: fetchWithKey });
const warnings: { id: string; name: string; reason: string }[] = [];

describe('graphql-http server audits', () => {
  afterAll(() => {
    if (warnings.length) console.warn(warnings.map((w) => `${w.id} ${w.name}: ${w.reason}`).join('\n'));
  });

  it.each(audits.map((audit) => [`${audit.id} ${audit.name}`, audit] as const))('%s', async (_, audit) => {
    const result: AuditResult = await audit.fn();
    if (result.status === 'error') throw new Error(`${result.id} ${result.name}: ${result.reason}`);
    if (result.status === 'warn' || result.status === 'notice') {
      warnings.push({ id: result.id, name: result.name, reason: result.reason });
      expect(KNOWN_WARNINGS, `unexpected ${result.status} ${result.id}: ${result.reason}`).toHaveProperty([result.id]);
    }
  });

  // Guards against a vacuous audit: without the key the same audits fail, so the key is what
  // the audits above were let in by (and the auth check still runs on /graphql).
  it('is refused without the key', async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(response.status).not.toBe(200);
  });

  it('raises exactly the known warnings', () => {
    expect(warnings.map((w) => w.id).sort()).toEqual(Object.keys(KNOWN_WARNINGS).sort());
  });
});
