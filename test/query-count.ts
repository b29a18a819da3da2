// The SQL statements a piece of work sends to PostgreSQL, Prisma's and raw ones, counted
// without touching the service: every statement goes through pg's Client.prototype.query
// (pg.Pool hands out pg.Client, Prisma's pg adapter queries that pool), which is wrapped
// here in the test process, and is attributed with AsyncLocalStorage to the work that
// caused it, e.g. one in-process `yoga.fetch` request. Work running at the same time outside
// it (workers, pg-boss, other requests) is not counted.
import { AsyncLocalStorage } from 'node:async_hooks';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';

export interface RecordedQuery {
  /** The SQL text, whitespace collapsed. */
  sql: string;
  /** Sent by Prisma (through its pg adapter) rather than by the service's own SQL. */
  prisma: boolean;
}

const recording = new AsyncLocalStorage<RecordedQuery[]>();
const insidePrisma = new AsyncLocalStorage<true>();

type Method = (this: unknown, ...args: unknown[]) => unknown;

const query = pg.Client.prototype.query as Method;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const [config] = args;
  const text = typeof config === 'string' ? config : (config as { text?: string } | undefined)?.text;
  const sql = (text ?? '').replace(/\s+/g, ' ').trim();
  recording.getStore()?.push({ sql, prisma: insidePrisma.getStore() === true });
  return query.apply(this, args);
} as typeof pg.Client.prototype.query;

// Every statement of Prisma's pg adapter, in or out of a transaction, goes through the
// performIO method of the class its adapter and transaction classes share: marked there.
{
  const pool = new pg.Pool();
  const adapter = await new PrismaPg(pool).connect();
  const queryable = Object.getPrototypeOf(Object.getPrototypeOf(adapter)) as { performIO?: Method };
  const performIO = queryable.performIO;
  if (typeof performIO !== 'function') throw new Error('@prisma/adapter-pg has no performIO any more');
  queryable.performIO = function (this: unknown, ...args: unknown[]) {
    return insidePrisma.run(true, () => performIO.apply(this, args));
  };
  await adapter.dispose();
  await pool.end();
}

/** Runs `work` and answers its result with the statements it sent, in order. */
export async function countQueries<T>(work: () => Promise<T>): Promise<{ result: T; queries: RecordedQuery[] }> {
  const queries: RecordedQuery[] = [];
  // Awaited inside: a Prisma query is lazy and runs where it is awaited.
  const result = await recording.run(queries, async () => await work());
  return { result, queries };
}

/** One line per statement, for failure messages: "prisma SELECT … FROM "public"."indicators" …". */
export const describeQueries = (queries: RecordedQuery[]) =>
  queries.map((q, i) => `${i + 1}. ${q.prisma ? 'prisma' : 'sql'} ${q.sql.slice(0, 160)}`).join('\n');
