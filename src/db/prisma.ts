// One pg pool per process, shared by Prisma (through its pg adapter, no engine binary)
// and by the few bulk statements Prisma cannot express (COPY, unnest upserts).
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.ts';

export type Db = PrismaClient;

export interface DatabaseClients {
  pool: pg.Pool;
  prisma: PrismaClient;
}

export function createDatabaseClients(url: string, { max = 10 }: { max?: number } = {}): DatabaseClients {
  const pool = new pg.Pool({ connectionString: url, max, application_name: 'ioc-collections' });
  // A client that loses its server (restart, failover, Ctrl-C reaching the embedded
  // PostgreSQL first) must not crash the process: idle ones are dropped by the pool, and
  // one checked out between two queries fails its next query, which the caller handles.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return { pool, prisma };
}
