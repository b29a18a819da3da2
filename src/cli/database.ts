// The database a command works on: DATABASE_URL, else the embedded one (the running
// service's, or one started for the command), migrated and with the built-in roles.
import path from 'node:path';
import { readEnv, type Env } from '../config/env.ts';
import { embeddedClusterDir, openDatabase, type DatabaseHandle } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { createDatabaseClients } from '../db/prisma.ts';
import { ensureBuiltInRoles } from '../modules/communities/service.ts';
import { messageOf, type Output, type Task } from './command.ts';

export async function withDatabase(task: Task): Promise<Output> {
  const env = readEnv();
  const database = await openConfiguredDatabase(env);
  try {
    await migrate(database.url, (line) => console.error(line)).catch((error: unknown) => {
      const where = database.embedded ? 'the embedded database' : 'the database named by DATABASE_URL';
      throw new Error(`Cannot prepare ${where}: ${messageOf(error)}`);
    });
    const { prisma, pool } = createDatabaseClients(database.url, { max: 2 });
    try {
      await ensureBuiltInRoles(prisma);
      return await task(prisma, { env, url: database.url, pool });
    } finally {
      await prisma.$disconnect();
      await pool.end();
    }
  } finally {
    await database.close();
  }
}

async function openConfiguredDatabase(env: Env): Promise<DatabaseHandle> {
  const log: string[] = [];
  try {
    return await openDatabase(env, { log: (line) => log.push(line) });
  } catch (error) {
    // The embedded server's own reasons are in its log.
    const detail = [messageOf(error), ...log.slice(-3).map((line) => line.trim())].filter(Boolean).join(' | ');
    throw new Error(`Cannot use the embedded PostgreSQL in ${path.resolve(embeddedClusterDir(env))}: ${detail}`);
  }
}
