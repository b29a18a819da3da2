// The long-lived components one process shares between requests and jobs.
import type pg from 'pg';
import type { PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import type { RateLimiterPostgres } from 'rate-limiter-flexible';
import type { Env } from './config/env.ts';
import type { Db } from './db/prisma.ts';
import type { Access } from './modules/communities/access.ts';
import type { AccessCache } from './modules/communities/access-cache.ts';
import type { Viewer } from './modules/communities/store.ts';
import type { SubscriptionLeases } from './modules/subscriptions/service.ts';
import type { Metrics } from './observability/metrics.ts';
import type { AppPubSub } from './db/pubsub.ts';

export interface Services {
  env: Env;
  prisma: Db;
  pool: pg.Pool;
  boss: PgBoss;
  pubsub: AppPubSub;
  logger: Logger;
  /** Requests per API key (shared by every process through PostgreSQL); null when off. */
  rateLimiter: RateLimiterPostgres | null;
  /** Signs connection cursors (CURSOR_SECRET, or a key shared through the database). */
  cursorKey: Buffer;
  /** Viewers and access of keys with open subscriptions, forgotten on every `accessChanged`. */
  accessCache: AccessCache;
  /** Open subscriptions per API key over every process (SUBSCRIPTIONS_MAX_PER_KEY). */
  subscriptionLeases: SubscriptionLeases;
  /** This instance's Prometheus registry and the counters the modules increment (GET /metrics). */
  metrics: Metrics;
}

/** What the rules of a request need: who asks, what they may see, and the database. */
export interface RequestContext {
  prisma: Db;
  viewer: Viewer;
  access: Access;
}
