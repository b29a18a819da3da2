// The graphql-transport-ws protocol as a raw client sees it (node_modules/graphql-ws/PROTOCOL.md):
// the close codes for every misuse, the message size limit, and per-operation errors that
// leave the socket serving other operations.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { notify } from '../src/modules/notifications/service.ts';
import { createTenant, newCollection, requestImport, startTestApp, toGlobalId, waitFor, type Tenant } from './kit.ts';

const app = await startTestApp({}, { workers: false });

/** graphql-ws's default connectionInitWaitTimeout; src/server.ts does not set its own. */
const INIT_TIMEOUT_MS = 3_000;
const DEADLINE_MS = 5_000;

interface Message {
  type: string;
  id?: string;
  payload?: unknown;
}

/** A raw socket: every message kept in order, the close awaited with a deadline. */
class RawSocket {
  private readonly queue: Message[] = [];
  private waiter?: () => void;
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.queue.push(JSON.parse(String(data)) as Message);
      this.waiter?.();
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        resolve({ code, reason: String(reason) });
        this.waiter?.();
      }),
    );
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.on('error', () => {}); // seen through `closed`
  }

  send(message: Message | string) {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The next message, failing if none comes within the deadline or the socket closes first. */
  async next(ms = DEADLINE_MS): Promise<Message> {
    const deadline = Date.now() + ms;
    for (;;) {
      const message = this.queue.shift();
      if (message) return message;
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error('socket closed while waiting for a message');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no message within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
  }

  /** The close event, or a failure if the server keeps the socket open past `ms`. */
  async close(ms = DEADLINE_MS): Promise<{ code: number; reason: string }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`socket still open after ${ms} ms`)), ms);
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

const sockets: RawSocket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.ws.terminate();
});

async function open(): Promise<RawSocket> {
  const { url } = await app.http();
  const socket = new RawSocket(new WebSocket(`${url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws'));
  sockets.push(socket);
  await socket.opened;
  return socket;
}

/** A socket past ConnectionInit/ConnectionAck with the tenant's key. */
async function acknowledged(tenant: Tenant): Promise<RawSocket> {
  const socket = await open();
  socket.send({ type: 'connection_init', payload: { authorization: `Bearer ${tenant.client.key}` } });
  expect(await socket.next()).toEqual({ type: 'connection_ack' });
  return socket;
}

const communities = 'query Communities { communities { id } }';
const NOT_FOUND = { message: 'ImportJob not found', extensions: { code: 'NOT_FOUND' } };
const jobUpdated = 'subscription Job($id: ID!) { importJobUpdated(id: $id) { id status } }';
const notificationAdded = 'subscription { notificationAdded { id title } }';

describe('graphql-transport-ws close codes', () => {
  it('closes with 4408 when no ConnectionInit comes within the init timeout', async () => {
    const socket = await open();
    const started = Date.now();
    const closed = await socket.close(INIT_TIMEOUT_MS + DEADLINE_MS);
    expect(closed).toEqual({ code: 4408, reason: 'Connection initialisation timeout' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(INIT_TIMEOUT_MS - 100);
  });

  it('closes with 4429 on a second ConnectionInit', async () => {
    const tenant = await createTenant(app);
    const socket = await acknowledged(tenant);
    socket.send({ type: 'connection_init', payload: { authorization: `Bearer ${tenant.client.key}` } });
    expect(await socket.close()).toEqual({ code: 4429, reason: 'Too many initialisation requests' });
  });

  it('closes with 4401 on Subscribe before ConnectionAck', async () => {
    await createTenant(app);
    const socket = await open();
    socket.send({ id: '1', type: 'subscribe', payload: { query: communities } });
    expect(await socket.close()).toEqual({ code: 4401, reason: 'Unauthorized' });
  });

  it('closes with 4409 on a second Subscribe with the id of an active one', async () => {
    const tenant = await createTenant(app);
    const socket = await acknowledged(tenant);
    // notificationAdded never completes by itself; a first delivery proves it is active.
    // (An import job's subscription could end at any time: every test file's workers share the queue.)
    socket.send({ id: 'a', type: 'subscribe', payload: { query: notificationAdded } });
    await waitFor(async () => {
      await notify(app.services, {
        userId: tenant.client.userId,
        communityId: tenant.communityRawId,
        kind: 'IMPORT_FINISHED',
        title: 'probe',
      });
      return (await socket.next(500).catch(() => null)) ?? false;
    });
    socket.send({ id: 'a', type: 'subscribe', payload: { query: notificationAdded } });
    expect(await socket.close()).toEqual({ code: 4409, reason: 'Subscriber for a already exists' });
  });

  it.each([
    ['a frame that is not JSON', 'not json {'],
    ['a message of an unknown type', JSON.stringify({ type: 'hello' })],
    ['a Subscribe without an id', JSON.stringify({ type: 'subscribe', payload: { query: communities } })],
  ])('closes with 4400 on %s', async (_, frame) => {
    const tenant = await createTenant(app);
    const socket = await acknowledged(tenant);
    socket.send(frame);
    expect(await socket.close()).toEqual({ code: 4400, reason: 'Invalid message received' });
  });

  it('closes with 4400 on junk before ConnectionInit', async () => {
    const socket = await open();
    socket.send('junk');
    expect(await socket.close()).toEqual({ code: 4400, reason: 'Invalid message received' });
  });

  it.each([
    ['an unknown key', { authorization: 'Bearer nope' }],
    ['no key', {}],
    ['no payload', undefined],
  ])('closes with 4403 on ConnectionInit with %s', async (_, payload) => {
    await createTenant(app);
    const socket = await open();
    socket.send(payload === undefined ? { type: 'connection_init' } : { type: 'connection_init', payload });
    expect(await socket.close()).toEqual({ code: 4403, reason: 'Forbidden' });
  });

  it('closes with 1009 on a frame larger than WS_MAX_PAYLOAD_BYTES', async () => {
    const tenant = await createTenant(app);
    const socket = await acknowledged(tenant);
    const padding = 'x'.repeat(app.env.WS_MAX_PAYLOAD_BYTES);
    socket.send({ id: 'big', type: 'subscribe', payload: { query: `# ${padding}\n${communities}` } });
    expect((await socket.close()).code).toBe(1009);
  });

  it('accepts a frame just under WS_MAX_PAYLOAD_BYTES', async () => {
    const tenant = await createTenant(app);
    const socket = await acknowledged(tenant);
    const frame = (padding: string) =>
      JSON.stringify({ id: 'big', type: 'subscribe', payload: { query: `# ${padding}\n${communities}` } });
    const padding = 'x'.repeat(app.env.WS_MAX_PAYLOAD_BYTES - frame('').length);
    expect(Buffer.byteLength(frame(padding))).toBe(app.env.WS_MAX_PAYLOAD_BYTES);
    socket.send(frame(padding));
    expect(await socket.next(20_000)).toMatchObject({ id: 'big', type: 'next' });
    expect(await socket.next()).toEqual({ id: 'big', type: 'complete' });
  });
});

describe('errors of one operation', () => {
  /** Runs the communities query over the socket: the socket still serves operations. */
  async function stillServes(socket: RawSocket, tenant: Tenant) {
    socket.send({ id: 'ok', type: 'subscribe', payload: { query: communities } });
    expect(await socket.next()).toEqual({
      id: 'ok',
      type: 'next',
      payload: { data: { communities: [{ id: tenant.communityId }] } },
    });
    expect(await socket.next()).toEqual({ id: 'ok', type: 'complete' });
    expect(socket.ws.readyState).toBe(WebSocket.OPEN);
  }

  it('answers an invalid document with an error for its id only', async () => {
    const tenant = await createTenant(app);
    const socket = await acknowledged(tenant);
    socket.send({ id: 'bad', type: 'subscribe', payload: { query: 'subscription { nope }' } });
    const error = await socket.next();
    expect(error).toMatchObject({ id: 'bad', type: 'error' });
    expect(JSON.stringify(error.payload)).toContain('nope');
    socket.send({ id: 'syntax', type: 'subscribe', payload: { query: 'subscription {' } });
    expect(await socket.next()).toMatchObject({ id: 'syntax', type: 'error' });
    await stillServes(socket, tenant);
  });

  // A bad argument fails in CreateSourceEventStream, before any stream exists. graphql's
  // subscribe() answers that as an ExecutionResult, which graphql-ws sends as one `next`
  // carrying the errors (no data) and a `complete`, not as an `error` message.
  it.each([
    ['not a global id', () => 'nope', 'Invalid ID "nope"'],
    ['the global id of another type', () => toGlobalId('Collection', randomUUID()), 'is not of type: ImportJob'],
  ])('answers importJobUpdated with %s with errors for its id only', async (_, id, message) => {
    const tenant = await createTenant(app);
    const socket = await acknowledged(tenant);
    socket.send({ id: 'job', type: 'subscribe', payload: { query: jobUpdated, variables: { id: id() } } });
    const result = await socket.next();
    expect(result).toMatchObject({
      id: 'job',
      type: 'next',
      payload: { errors: [{ message: expect.stringContaining(message), extensions: { code: 'BAD_USER_INPUT' } }] },
    });
    expect(result.payload).not.toHaveProperty('data');
    expect(await socket.next()).toEqual({ id: 'job', type: 'complete' });
    await stillServes(socket, tenant);
  });

  it('answers importJobUpdated for a job that does not exist with an error for its id only', async () => {
    const tenant = await createTenant(app);
    const socket = await acknowledged(tenant);
    const id = toGlobalId('ImportJob', randomUUID());
    socket.send({ id: 'job', type: 'subscribe', payload: { query: jobUpdated, variables: { id } } });
    expect(await socket.next()).toEqual({ id: 'job', type: 'error', payload: [NOT_FOUND] });
    await stillServes(socket, tenant);
  });

  it("answers importJobUpdated for another tenant's job with an error for its id only", async () => {
    const [tenant, other] = await Promise.all([createTenant(app), createTenant(app)]);
    const job = await requestImport(other.client, await newCollection(other), '8.8.8.8\n');
    const socket = await acknowledged(tenant);
    socket.send({ id: 'job', type: 'subscribe', payload: { query: jobUpdated, variables: { id: job.id } } });
    // The same answer as for a job that does not exist: nothing tells the two apart.
    expect(await socket.next()).toEqual({ id: 'job', type: 'error', payload: [NOT_FOUND] });
    await stillServes(socket, tenant);
  });
});
