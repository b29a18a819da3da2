// Builds the long-lived components of one process and takes them down again.
import { PgBoss } from 'pg-boss';
import pino, { type DestinationStream } from 'pino';
import { RateLimiterPostgres } from 'rate-limiter-flexible';
import type { Env } from './config/env.ts';
import { createDatabaseClients } from './db/prisma.ts';
import { serverSecret } from './db/server-secret.ts';
import { isDatabaseUnavailable } from './db/unavailable.ts';
import { createQueues } from './jobs/queues.ts';
import { AccessCache } from './modules/communities/access-cache.ts';
import { createMetrics } from './observability/metrics.ts';
import { SubscriptionLeases } from './modules/subscriptions/service.ts';
import { createPostgresPubSub } from './db/pubsub.ts';
import type { Services } from './services.ts';

/** `logDestination`: where log lines go instead of stdout (tests read them). */
/** Job queues of services being closed (see closeServices). */
const stoppingJobQueues = new WeakSet<PgBoss>();

export async function createServices(
  env: Env,
  databaseUrl: string,
  logDestination?: DestinationStream,
): Promise<Services> {
  const logger = pino({ level: env.LOG_LEVEL, base: { role: env.ROLE } }, logDestination);
  const { pool, prisma } = createDatabaseClients(databaseUrl);
  const boss = new PgBoss({
    connectionString: databaseUrl,
    schema: 'pgboss',
    useListenNotify: true,
    max: 4,
    superviseIntervalSeconds: env.JOB_SUPERVISE_SECONDS,
    monitorIntervalSeconds: env.JOB_SUPERVISE_SECONDS,
  });
  boss.on('error', (error) => {
    // While stopping, a connection cut because the database is going away too (Ctrl+C
    // reaches the whole terminal, a host shutting down stops both) is the expected end.
    if (stoppingJobQueues.has(boss) && isDatabaseUnavailable(error)) return;
    logger.error({ err: error }, 'job queue error');
  });
  await boss.start();
  await createQueues(boss);
  const pubsub = await createPostgresPubSub(databaseUrl, (error) =>
    logger.warn({ err: error }, 'event listener error'),
  );
  const rateLimiter =
    env.RATE_LIMIT_PER_MINUTE > 0
      ? new RateLimiterPostgres({
          storeClient: pool,
          storeType: 'pool',
          // Made by a migration (prisma/schema.prisma, RateLimit), not by the library at run time.
          tableName: 'rate_limits',
          tableCreated: true,
          keyPrefix: 'api-key',
          points: env.RATE_LIMIT_PER_MINUTE,
          duration: 60,
        })
      : null;
  const cursorKey = env.CURSOR_SECRET ? Buffer.from(env.CURSOR_SECRET) : await serverSecret(pool, 'cursor');
  const accessCache = new AccessCache(prisma, pubsub, logger);
  const subscriptionLeases = new SubscriptionLeases(pool, env.SUBSCRIPTIONS_MAX_PER_KEY, logger);
  const metrics = createMetrics(boss, logger);
  return { env, prisma, pool, boss, pubsub, logger, rateLimiter, cursorKey, accessCache, subscriptionLeases, metrics };
}

export async function closeServices(services: Services, graceMs: number): Promise<void> {
  stoppingJobQueues.add(services.boss);
  // Running jobs get the grace period to finish their batch; the rest resume elsewhere.
  await services.boss.stop({ graceful: true, timeout: graceMs, close: true });
  await services.subscriptionLeases.close();
  await services.accessCache.close();
  await services.pubsub.close();
  await services.prisma.$disconnect();
  await services.pool.end();
}
