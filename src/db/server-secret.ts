// Secrets every process of a deployment must share (the cursor signing key), kept in the
// database so that scale-out needs no extra configuration. The first process to start
// makes the key; the others read the same one.
import { randomBytes } from 'node:crypto';
import type pg from 'pg';

export async function serverSecret(pool: pg.Pool, name: string): Promise<Buffer> {
  await pool.query(`INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, [
    name,
    randomBytes(32).toString('base64'),
  ]);
  const { rows } = await pool.query<{ value: string }>(`SELECT value FROM server_secrets WHERE name = $1`, [name]);
  return Buffer.from(rows[0].value, 'base64');
}
