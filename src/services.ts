// The long-lived components one process shares between requests and jobs.
import type pg from 'pg';
import type { PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import type { Env } from './config/env.ts';
import type { Db } from './db/prisma.ts';
import type { AppPubSub } from './pubsub.ts';

export interface Services {
  env: Env;
  prisma: Db;
  pool: pg.Pool;
  boss: PgBoss;
  pubsub: AppPubSub;
  logger: Logger;
}
