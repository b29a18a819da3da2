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

// Time is UTC on every path, whatever the zone of the host or of the PostgreSQL server:
// dates sent by `pg` are written in UTC (by default it writes the host's local time, which
// moves a value bound as `::date` across midnight), `date` columns read back as UTC
// midnight (not the host's), and each session's TimeZone is UTC so that SQL turning an
// instant into a day (`::date`, date_trunc) counts days as the API does.
pg.defaults.parseInputDatesAsUTC = true;
const DATE_OID = 1082;
const utcTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === DATE_OID && format !== 'binary'
      ? (value: string) => new Date(`${value}T00:00:00Z`)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export function createDatabaseClients(url: string, { max = 10 }: { max?: number } = {}): DatabaseClients {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    application_name: 'ioc-collections',
    options: '-c TimeZone=UTC',
    types: utcTypes,
  });
  // A client that loses its server (restart, failover, Ctrl-C reaching the embedded
  // PostgreSQL first) must not crash the process: idle ones are dropped by the pool, and
  // one checked out between two queries fails its next query, which the caller handles.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return { pool, prisma };
}

/** Whether the database answers a query now (the readiness check). */
export async function databaseAnswers(pool: pg.Pool): Promise<boolean> {
  try {
    await pool.query('SELECT 1');
    return true;
  } catch {
    return false;
  }
}
