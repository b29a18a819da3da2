// `npm start`: database (embedded unless DATABASE_URL), migrations, then the API and/or
// the workers in this process (ROLE), with a graceful stop on SIGTERM/SIGINT.
import { createServices, closeServices } from './app.ts';
import { env } from './config/env.ts';
import { openDatabase } from './db/database.ts';
import { migrate } from './db/migrate.ts';
import { ensureDevSetup } from './dev-setup.ts';
import { ensureBuiltInRoles } from './modules/communities/service.ts';
import { startHttpServer } from './server.ts';
import { startWorkers } from './worker.ts';

const database = await openDatabase(env);
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
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping');
  const graceMs = env.SHUTDOWN_GRACE_SECONDS * 1000;
  await http?.close(graceMs);
  await closeServices(services, graceMs);
  await database.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
