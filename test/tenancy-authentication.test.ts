// Authentication before tenancy (see test/tenancy-kit.ts): no key, an unknown key and a revoked
// key answer alike, over HTTP and graphql-ws, before any operation runs.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NotificationAdded, Viewer } from './documents.ts';
import { createTenant, startTestApp } from './kit.ts';
import { ask, bearer, openWs, post, wsResults } from './tenancy-kit.ts';

const app = await startTestApp();
const { prisma } = app.services;

describe('authentication', () => {
  it('answers 401 without a key, with an unknown key and with a revoked key', async () => {
    const { client } = await createTenant(app);
    expect((await ask(client, Viewer)).status).toBe(200);
    const key = await prisma.apiKey.findFirstOrThrow({ where: { userId: client.userId } });

    const missing = await post(app, {}, Viewer);
    expect(missing.status).toBe(401);
    expect(missing.json).toEqual({
      errors: [expect.objectContaining({ message: expect.stringMatching(/Missing API key/) })],
    });
    const unknown = await post(app, { authorization: `Bearer ioc_${randomUUID()}` }, Viewer);
    expect(unknown.status).toBe(401);
    expect(unknown.json.data ?? null).toBeNull();

    await prisma.apiKey.update({ where: { id: key.id }, data: { revokedAt: new Date() } });
    const revoked = await ask(client, Viewer);
    expect(revoked).toEqual(unknown);
  });

  it('closes a WebSocket without a valid key before any operation (4403)', async () => {
    const { client } = await createTenant(app);
    for (const connectionParams of [{}, { authorization: 'Bearer ioc_nope' }]) {
      const ws = await openWs(app, connectionParams);
      expect(await wsResults(ws, NotificationAdded)).toEqual([{ closed: expect.objectContaining({ code: 4403 }) }]);
    }
    await prisma.apiKey.updateMany({ where: { userId: client.userId }, data: { revokedAt: new Date() } });
    const ws = await openWs(app, bearer(client));
    expect(await wsResults(ws, NotificationAdded)).toEqual([{ closed: expect.objectContaining({ code: 4403 }) }]);
  });
});
