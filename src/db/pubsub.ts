// Subscription events across processes: PostgreSQL LISTEN/NOTIFY on one channel.
// Every API process listens; any process (API or worker) publishes. PostgreSQL is already
// the one shared component of a deployment, so scale-out needs no broker. Payloads are
// small ids: subscribers read the current state from the database, so a notification
// lost during a reconnect costs freshness, never correctness.
import { setMaxListeners } from 'node:events';
import { createPubSub, type PubSub } from 'graphql-yoga';
import pgListen, { type Subscriber } from 'pg-listen';
import type { Db } from './prisma.ts';

const CHANNEL = 'ioc_collections_events';

export type PubSubTopics = {
  /** An import job changed (progress, status). */
  importJobUpdated: [jobId: string, payload: { id: string }];
  /** A telemetry report changed (status). */
  telemetryReportUpdated: [reportId: string, payload: { id: string }];
  /** A retrohunt changed (progress, status). */
  retrohuntUpdated: [retrohuntId: string, payload: { id: string }];
  /** An alert was raised in a community. */
  alertCreated: [communityId: string, payload: { id: string; collectionId: string }];
  /** A notification was created for a user; the community lets subscribers filter without a query. */
  notificationAdded: [userId: string, payload: { id: string; communityId: string }];
  /**
   * A key was revoked, or a membership, role or community changed: cached access is stale.
   * Also raised locally when the listener reconnects, since a change may have been missed.
   */
  accessChanged: [change: { reason: string }];
};

export type AppPubSub = PubSub<PubSubTopics> & { close(): Promise<void> };

interface WireEvent {
  type: string;
  detail: unknown;
}

class PostgresEventTarget extends EventTarget {
  constructor(private readonly subscriber: Subscriber) {
    super();
    // One listener per open subscription: thousands are expected, not a leak.
    setMaxListeners(0, this);
    subscriber.notifications.on(CHANNEL, (event: WireEvent) => {
      super.dispatchEvent(new CustomEvent(event.type, { detail: event.detail }));
    });
    // Changes made while the listener was down were not heard: forget what may be stale.
    subscriber.events.on('connected', () => {
      super.dispatchEvent(new CustomEvent('accessChanged', { detail: { reason: 'event listener (re)connected' } }));
    });
  }

  /** NOTIFYs go one at a time: they share the listener's single connection. */
  private sending: Promise<void> = Promise.resolve();

  /** Resolves once every event dispatched so far has been sent (or given up). */
  sent(): Promise<void> {
    return this.sending;
  }

  override dispatchEvent(event: Event): boolean {
    const wire: WireEvent = { type: event.type, detail: (event as CustomEvent).detail };
    this.sending = this.sending
      .then(async () => {
        await this.subscriber.notify(CHANNEL, wire);
      })
      .catch(() => {
        // The listener reconnects by itself; a lost event only delays a push (see above).
      });
    return true;
  }
}

/** The event a pub/sub `publish` sends: `topic` or `topic:id`, as graphql-yoga's createPubSub names it. */
function wireEvent<T extends keyof PubSubTopics>(topic: T, args: PubSubTopics[T]): WireEvent {
  return args.length === 2 ? { type: `${topic}:${args[0]}`, detail: args[1] } : { type: topic, detail: args[0] };
}

/**
 * Publishes one event from a process that does not listen (the CLI), through its own
 * database connection, in the same wire format; it is sent when the transaction commits.
 */
export async function publishThroughDatabase<T extends keyof PubSubTopics>(
  db: Db,
  topic: T,
  ...args: PubSubTopics[T]
): Promise<void> {
  await db.$executeRaw`SELECT pg_notify(${CHANNEL}, ${JSON.stringify(wireEvent(topic, args))})`;
}

export async function createPostgresPubSub(databaseUrl: string, onError: (e: Error) => void): Promise<AppPubSub> {
  const subscriber = pgListen.default(
    { connectionString: databaseUrl },
    { retryLimit: Infinity, retryTimeout: Infinity },
  );
  subscriber.events.on('error', onError);
  await subscriber.connect();
  await subscriber.listenTo(CHANNEL);
  const eventTarget = new PostgresEventTarget(subscriber);
  const pubsub = createPubSub<PubSubTopics>({ eventTarget });
  // What was published before is sent first: the CLI publishes, then closes at once.
  const close = async () => {
    await eventTarget.sent();
    await subscriber.close();
  };
  return Object.assign(pubsub, { close });
}
