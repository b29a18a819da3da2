// The service in this process: database (embedded unless DATABASE_URL), migrations, then the
// API and/or the workers (ROLE). Returns how to stop it gracefully, PostgreSQL last.
import { createServices, closeServices } from './app.ts';
import type { Env } from './config/env.ts';
import { openDatabase } from './db/database.ts';
import type { DataFolderClaim } from './db/instance-lock.ts';
import { migrate } from './db/migrate.ts';
import { ensureDevSetup } from './dev-setup.ts';
import { ensureBuiltInRoles } from './modules/communities/service.ts';
import { startHttpServer } from './server.ts';
import { startWorkers } from './worker.ts';

/** `claim`: the embedded database's data folder, claimed by main.ts (none with DATABASE_URL). */
export async function runService(
  env: Env,
  claim: DataFolderClaim | undefined,
): Promise<(signal: NodeJS.Signals) => Promise<void>> {
  const database = await openDatabase(env, { claim });
  await migrate(database.url, (message) => console.log(message));
  const services = await createServices(env, database.url);
  const { logger } = services;
  await ensureBuiltInRoles(services.prisma);
  await ensureDevSetup(services);

  if (env.ROLE !== 'api') await startWorkers(services);
  const http = env.ROLE !== 'worker' ? await startHttpServer(services, { host: env.HOST, port: env.PORT }) : null;
  if (http) logger.info(`GraphQL API and GraphiQL on ${http.url}/graphql`);
  logger.info({ role: env.ROLE, embeddedDatabase: database.embedded }, 'service started');

  let stopping = false;
  return async (signal) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    const graceMs = env.SHUTDOWN_GRACE_SECONDS * 1000;
    await http?.close(graceMs);
    await closeServices(services, graceMs);
    await database.close();
    process.exit(0);
  };
}
