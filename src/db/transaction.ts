// One transaction on one pooled connection, for the bulk statements Prisma cannot express.
import type pg from 'pg';

export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (error) {
    // Closing the connection rolls back; a statement that failed half-way (a COPY) can
    // leave it mid-protocol, so it is never given back to the pool.
    client.release(error as Error);
    throw error;
  }
}
