// Subscription leases in PostgreSQL: how many subscriptions each API key holds open over
// every API process. A process's leases count while its heartbeat is recent.
import type pg from 'pg';
import { inTransaction } from '../../db/transaction.ts';

/** Namespace of the per-key advisory locks that make count-then-insert atomic. */
const LEASE_LOCK_NAMESPACE = 0x5ab5;

/**
 * Marks the process alive (registering it again if another process took it for dead) and
 * deletes the processes silent for `staleSeconds`, with their leases.
 */
export async function beat(pool: pg.Pool, processId: string, staleSeconds: number): Promise<void> {
  await pool.query(
    `INSERT INTO subscription_processes (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()`,
    [processId],
  );
  await pool.query(`DELETE FROM subscription_processes WHERE heartbeat_at < now() - make_interval(secs => $1)`, [
    staleSeconds,
  ]);
}

export async function removeProcess(pool: pg.Pool, processId: string): Promise<void> {
  await pool.query('DELETE FROM subscription_processes WHERE id = $1', [processId]);
}

/** Takes a lease for the key unless it already holds `limit` on live processes; true when taken. */
export async function takeLease(
  pool: pg.Pool,
  lease: { id: string; processId: string; apiKeyId: string },
  { limit, staleSeconds }: { limit: number; staleSeconds: number },
): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    // Registered with its first lease (and again if another process took it for dead).
    await client.query('INSERT INTO subscription_processes (id) VALUES ($1) ON CONFLICT (id) DO NOTHING', [
      lease.processId,
    ]);
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LEASE_LOCK_NAMESPACE, lease.apiKeyId]);
    const { rows } = await client.query<{ open: number }>(
      `SELECT count(*)::int AS open
         FROM subscription_leases l JOIN subscription_processes p ON p.id = l.process_id
        WHERE l.api_key_id = $1 AND p.heartbeat_at >= now() - make_interval(secs => $2)`,
      [lease.apiKeyId, staleSeconds],
    );
    if (rows[0].open >= limit) return false;
    await client.query('INSERT INTO subscription_leases (id, process_id, api_key_id) VALUES ($1, $2, $3)', [
      lease.id,
      lease.processId,
      lease.apiKeyId,
    ]);
    return true;
  });
}

export async function dropLease(pool: pg.Pool, leaseId: string): Promise<void> {
  await pool.query('DELETE FROM subscription_leases WHERE id = $1', [leaseId]);
}
