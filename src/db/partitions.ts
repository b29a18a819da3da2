// Tables partitioned by time, a day or a month a partition (the event tables, sightings).
// Expired data goes by dropping whole partitions (no DELETE, no vacuum debt). Partitions
// are made ahead by the hourly upkeep and on demand by ingest, since an event may be for
// any day inside the retention. Each table is declared by the module that owns it.
import { DateTime } from 'luxon';
import type pg from 'pg';
import { inTransaction } from './transaction.ts';

type Granularity = 'day' | 'month';

export interface PartitionedTable {
  /** A constant of the owning module's store: it is written into DDL as is. */
  name: string;
  granularity: Granularity;
}

interface Partition {
  name: string;
  from: DateTime;
  to: DateTime;
}

const NAME_FORMAT: Record<Granularity, string> = { day: 'yyyyMMdd', month: 'yyyyMM' };

function partitionAt(table: PartitionedTable, at: DateTime): Partition {
  const from = at.toUTC().startOf(table.granularity);
  return {
    name: `${table.name}_p${from.toFormat(NAME_FORMAT[table.granularity])}`,
    from,
    to: from.plus({ [`${table.granularity}s`]: 1 }),
  };
}

/** Partitions known to exist, per database; a cache, so ingest asks PostgreSQL only once a day. */
const existing = new WeakMap<pg.Pool, Set<string>>();

function known(pool: pg.Pool): Set<string> {
  let names = existing.get(pool);
  if (!names) existing.set(pool, (names = new Set()));
  return names;
}

/** Makes sure the partitions covering each of `times` exist. */
export async function ensurePartitions(pool: pg.Pool, table: PartitionedTable, times: Iterable<Date>): Promise<void> {
  const keys = new Set<string>();
  for (const time of times) keys.add(partitionKey(table, time.toISOString()));
  await ensurePartitionKeys(pool, table, keys);
}

/** `YYYY-MM-DD` (daily tables) or `YYYY-MM` (monthly) of an ISO time or date. */
export const partitionKey = (table: PartitionedTable, iso: string) =>
  iso.slice(0, table.granularity === 'day' ? 10 : 7);

/**
 * Makes sure the partitions named by `keys` (see partitionKey) exist. Ingest calls this for
 * every batch: the common case, known partitions, is one string and one set lookup per key.
 */
export async function ensurePartitionKeys(pool: pg.Pool, table: PartitionedTable, keys: Iterable<string>) {
  const cache = known(pool);
  for (const key of keys) {
    const name = `${table.name}_p${key.replaceAll('-', '')}`;
    if (cache.has(name)) continue;
    await createPartition(pool, table, partitionAt(table, DateTime.fromISO(key, { zone: 'utc' })));
    cache.add(name);
  }
}

/** Makes the partitions of every day (or month) from `from` to `to`, both included. */
export async function ensurePartitionRange(pool: pg.Pool, table: PartitionedTable, from: Date, to: Date) {
  const times: Date[] = [];
  const end = DateTime.fromJSDate(to).toUTC();
  for (let at = DateTime.fromJSDate(from).toUTC().startOf(table.granularity); at <= end;) {
    times.push(at.toJSDate());
    at = at.plus({ [`${table.granularity}s`]: 1 });
  }
  await ensurePartitions(pool, table, times);
}

async function createPartition(pool: pg.Pool, table: PartitionedTable, partition: Partition): Promise<void> {
  const bound = (t: DateTime) => (table.granularity === 'day' ? t.toISO() : t.toISODate());
  // An existing partition is the common case (every process start): checked without
  // touching the parent table's lock.
  const { rows } = await pool.query('SELECT to_regclass($1) IS NOT NULL AS exists', [`"${partition.name}"`]);
  if (rows[0].exists) return;
  await inTransaction(pool, async (client) => {
    // Processes ingesting the same new day would otherwise race on CREATE TABLE.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [partition.name]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS "${partition.name}" PARTITION OF "${table.name}"
         FOR VALUES FROM ('${bound(partition.from)}') TO ('${bound(partition.to)}')`,
    );
  });
}

/**
 * Drops the partitions that end at or before `before`; returns their names. Ingest never
 * writes there (it keeps to the same retention), so a stale cache elsewhere is harmless.
 */
export async function dropPartitionsBefore(pool: pg.Pool, table: PartitionedTable, before: Date): Promise<string[]> {
  const { rows } = await pool.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid
       JOIN pg_class p ON p.oid = i.inhparent
      WHERE p.relname = $1`,
    [table.name],
  );
  const format = NAME_FORMAT[table.granularity];
  const cutoff = DateTime.fromJSDate(before).toUTC();
  const dropped: string[] = [];
  for (const { name } of rows) {
    const from = DateTime.fromFormat(name.slice(table.name.length + 2), format, { zone: 'utc' });
    if (!from.isValid || partitionAt(table, from).to > cutoff) continue;
    // A short lock wait: maintenance retries next hour rather than stall ingest behind it.
    const client = await pool.connect();
    try {
      await client.query("SET lock_timeout = '5s'");
      await client.query(`DROP TABLE IF EXISTS "${name}"`);
      known(pool).delete(name);
      dropped.push(name);
    } finally {
      await client.query('RESET lock_timeout').catch(() => {});
      client.release();
    }
  }
  return dropped;
}
