// Builds the long-lived components of one process and takes them down again.
import { PgBoss } from 'pg-boss';
import pino from 'pino';
import type { Env } from './config/env.ts';
import { createDatabaseClients } from './db/prisma.ts';
import { createQueues } from './jobs/queues.ts';
import { createPostgresPubSub } from './pubsub.ts';
import type { Services } from './services.ts';

export async function createServices(env: Env, databaseUrl: string): Promise<Services> {
  const logger = pino({ level: env.LOG_LEVEL, base: { role: env.ROLE } });
  const { pool, prisma } = createDatabaseClients(databaseUrl);
  const boss = new PgBoss({ connectionString: databaseUrl, schema: 'pgboss', useListenNotify: true, max: 4 });
  boss.on('error', (error) => logger.error({ err: error }, 'job queue error'));
  await boss.start();
  await createQueues(boss);
  const pubsub = await createPostgresPubSub(databaseUrl, (error) =>
    logger.warn({ err: error }, 'event listener error'),
  );
  return { env, prisma, pool, boss, pubsub, logger };
}

export async function closeServices(services: Services, graceMs: number): Promise<void> {
  // Running jobs get the grace period to finish their batch; the rest resume elsewhere.
  await services.boss.stop({ graceful: true, timeout: graceMs, close: true });
  await services.pubsub.close();
  await services.prisma.$disconnect();
  await services.pool.end();
}
