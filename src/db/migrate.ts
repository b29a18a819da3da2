// Applies prisma/migrations itself, so the service runs without Prisma's native engine
// (air-gapped SOC networks cannot download it). It keeps Prisma's own ledger and lock,
// so `prisma migrate status/deploy` agree with what was applied here.
import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';

const PRISMA_MIGRATE_LOCK = 72707369;
const MIGRATIONS_DIR = path.resolve(import.meta.dirname, '../../prisma/migrations');

const LEDGER_DDL = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

interface LedgerRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

export interface MigrationResult {
  applied: string[];
}

export async function migrate(databaseUrl: string, log: (msg: string) => void = () => {}): Promise<MigrationResult> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK]);
    await client.query(LEDGER_DDL);
    const { rows } = await client.query<LedgerRow>(
      'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"',
    );
    const failed = rows.find((r) => r.finished_at === null && r.rolled_back_at === null);
    if (failed) {
      throw new Error(`Migration ${failed.migration_name} failed earlier; resolve it before starting the service.`);
    }
    const done = new Set(rows.filter((r) => r.finished_at).map((r) => r.migration_name));
    const applied: string[] = [];
    for (const name of migrationNames()) {
      if (done.has(name)) continue;
      const sql = readFileSync(path.join(MIGRATIONS_DIR, name, 'migration.sql'), 'utf8');
      const id = randomUUID();
      await client.query(
        'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())',
        [id, createHash('sha256').update(sql).digest('hex'), name],
      );
      try {
        // One simple-protocol query (no parameters) inside one transaction: `$$` bodies stay whole.
        await client.query(`BEGIN;\n${sql}\n;COMMIT;`);
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        await client.query('UPDATE "_prisma_migrations" SET logs = $2 WHERE id = $1', [id, String(error)]);
        throw new Error(`Migration ${name} failed: ${(error as Error).message}`);
      }
      await client.query('UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1', [
        id,
      ]);
      applied.push(name);
      log(`applied migration ${name}`);
    }
    return { applied };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK]).catch(() => {});
    await client.end();
  }
}

function migrationNames(): string[] {
  return readdirSync(MIGRATIONS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(MIGRATIONS_DIR, d.name, 'migration.sql')))
    .map((d) => d.name)
    .sort();
}
