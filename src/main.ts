// `npm start`. What would be in the way is checked first, before the rest of the service is
// even loaded, so that a second start is refused at once: another process on the embedded
// database's data folder, or the port taken. Then the service runs (run-service.ts) until
// SIGTERM or SIGINT (Ctrl+C) stops it gracefully.
import { createServer } from 'node:net';
import { env } from './config/env.ts';
import { embeddedClusterDir } from './db/database.ts';
import { claimDataFolder, describeHolder, type DataFolderClaim } from './db/instance-lock.ts';

/** Why HOST:PORT cannot be listened on, or null. The probe is closed again at once. */
async function portProblem(host: string, port: number): Promise<string | null> {
  if (port === 0) return null;
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      resolve(
        error.code === 'EADDRINUSE'
          ? `port ${port} is in use (${host}:${port})`
          : `cannot listen on ${host}:${port} (${error.code ?? error.message})`,
      ),
    );
    probe.listen(port, host, () => probe.close(() => resolve(null)));
  });
}

const obstacles: string[] = [];
let claim: DataFolderClaim | undefined;
if (!env.DATABASE_URL) {
  const clusterDir = embeddedClusterDir(env);
  const result = await claimDataFolder(env.DATA_DIR, clusterDir, 'service');
  if ('claim' in result) claim = result.claim;
  else obstacles.push(describeHolder(result.heldBy, clusterDir));
}
const busyPort = env.ROLE === 'worker' ? null : await portProblem(env.HOST, env.PORT);
if (busyPort) obstacles.push(busyPort);
if (obstacles.length) {
  claim?.release();
  console.error(
    `Cannot start: ${obstacles.join('; ')}.\n` +
      'Stop what is in the way, or give this instance its own DATA_DIR and PORT.',
  );
  process.exit(1);
}

let stop: ((signal: NodeJS.Signals) => Promise<void>) | null = null;
// Before the service runs there is nothing to drain: exiting stops the embedded PostgreSQL
// and releases the data folder (their exit hooks).
const onSignal = (signal: NodeJS.Signals) => (stop ? void stop(signal) : process.exit(1));
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);

const { runService } = await import('./run-service.ts');
stop = await runService(env, claim);
