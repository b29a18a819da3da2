// One instance per data folder and port, the CLI beside a running service, and Ctrl+C. Each
// service runs as `npm start` runs it (src/main.ts, development) on an embedded PostgreSQL in
// a data folder of its own, in a process group of its own as a terminal's foreground job is.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/db/embedded.ts';
import { Viewer } from './documents.ts';
import { waitFor } from './kit.ts';
import { EXIT_WITH_PARENT, STARTUP_MS } from './processes.ts';

// The second CI pass (DATABASE_URL: PostgreSQL 15) would run these on embedded clusters all
// the same, since they are about the embedded one: the first pass has run them.
const ON_SERVER = Boolean(process.env.DATABASE_URL);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Starting a fresh data folder (initdb, migrations, the demo setup) takes a while on a busy machine. */
const FIRST_START_MS = 3 * STARTUP_MS;

/** What a start of src/main.ts or a CLI command would see with this data folder, and no DATABASE_URL. */
const environment = (dataDir: string, port: number) => ({
  ...process.env,
  DATABASE_URL: '',
  NODE_ENV: 'development',
  ROLE: 'all',
  HOST: '127.0.0.1',
  PORT: String(port),
  DATA_DIR: dataDir,
  LOG_LEVEL: 'info',
  SHUTDOWN_GRACE_SECONDS: '2',
});

interface MainProcess {
  pid: number;
  /** stdout and stderr, line by line. */
  output: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startMain(dataDir: string, port: number): MainProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', EXIT_WITH_PARENT, 'src/main.ts'], {
    cwd: ROOT,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: environment(dataDir, port),
  });
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr])
    createInterface({ input: stream }).on('line', (l) => output.push(l));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { pid: child.pid!, output, exited };
}

async function waitForStart(service: MainProcess): Promise<void> {
  let ended = false;
  void service.exited.then(() => (ended = true));
  await waitFor(
    async () => {
      if (ended) throw new Error(`the service ended before it started:\n${service.output.join('\n')}`);
      return service.output.some((line) => line.includes('"service started"'));
    },
    { what: 'the service to start', timeoutMs: FIRST_START_MS },
  );
}

function cli(args: string[], dataDir: string, port: number) {
  const { status, stdout, stderr } = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env: environment(dataDir, port),
    encoding: 'utf8',
  });
  if (status !== 0) expect.fail(`cli ${args.join(' ')} exited ${status}\n${stderr}`);
  return stdout;
}

async function request<TData, TVars>(url: string, key: string, document: TypedDocumentNode<TData, TVars>) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    // A connection of its own: a kept-alive one may have been closed by the server meanwhile.
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, connection: 'close' },
    body: JSON.stringify({ query: print(document) }),
  });
  return (await response.json()) as { data?: TData; errors?: unknown[] };
}

const HINT = 'Stop what is in the way, or give this instance its own DATA_DIR and PORT.';

describe.skipIf(ON_SERVER)('a service on an embedded database', () => {
  const folders: string[] = [];
  const newFolder = () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'ioc-instance-'));
    // As root, PostgreSQL runs as a separate postgres user that must be able to write here.
    chmodSync(folder, 0o777);
    folders.push(folder);
    return folder;
  };
  let dataDir: string;
  let port: number;
  let url: string;
  let service: MainProcess;
  /** The demo admin's key, written by the first start. */
  let demoKey: string;

  beforeAll(async () => {
    dataDir = newFolder();
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    service = startMain(dataDir, port);
    await waitForStart(service);
    demoKey = readFileSync(path.join(dataDir, 'dev-api-key'), 'utf8').trim();
  }, FIRST_START_MS + 10_000);

  afterAll(async () => {
    if (service) {
      try {
        process.kill(-service.pid, 'SIGTERM');
      } catch {
        // Already ended (the Ctrl+C test).
      }
      await service.exited;
    }
    for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  }, 30_000);

  it('a second start on the same data folder and port says what is in the way, and exits 1 before creating anything', async () => {
    const second = startMain(dataDir, port);
    expect(await second.exited).toEqual({ code: 1, signal: null });
    expect(second.output).toEqual([
      `Cannot start: another instance (pid ${service.pid}) uses ${dataDir}/postgres; port ${port} is in use (127.0.0.1:${port}).`,
      HINT,
    ]);
    // The first one serves on, with the one demo setup it made and the key it wrote.
    const { data } = await request(url, demoKey, Viewer);
    expect(data?.communities.filter((c) => c.name === 'Demo MSSP')).toHaveLength(1);
    expect(readFileSync(path.join(dataDir, 'dev-api-key'), 'utf8').trim()).toBe(demoKey);
  }, 60_000);

  it('a start on a busy port with another data folder says so, and exits 1 before preparing a database there', async () => {
    const otherDir = newFolder();
    const second = startMain(otherDir, port);
    expect(await second.exited).toEqual({ code: 1, signal: null });
    expect(second.output).toEqual([`Cannot start: port ${port} is in use (127.0.0.1:${port}).`, HINT]);
    expect(existsSync(path.join(otherDir, 'postgres'))).toBe(false);
    expect(existsSync(path.join(otherDir, 'dev-api-key'))).toBe(false);
  }, 60_000);

  it('the CLI works beside it, on its database: a user it makes a member of a demo community gets a key that the service accepts', async () => {
    const email = `analyst-${Date.now()}@instance.test.invalid`;
    cli(['user', 'create', '--name', 'Instance analyst', '--email', email], dataDir, port);
    cli(['member', 'add', '--user', email, '--community', 'Client A', '--role', 'viewer'], dataDir, port);
    const { key } = JSON.parse(cli(['key', 'create', '--user', email, '--json'], dataDir, port)) as { key: string };

    const { data } = await request(url, key, Viewer);
    expect(data?.viewer.memberships).toMatchObject([{ role: { name: 'viewer' }, community: { name: 'Client A' } }]);
  }, 120_000);

  it('Ctrl+C stops it with one line and exit code 0, PostgreSQL last', async () => {
    const { postgres } = JSON.parse(readFileSync(path.join(dataDir, 'instance.json'), 'utf8')) as {
      postgres: { pid: number };
    };
    const before = service.output.length;
    // A terminal sends SIGINT to its whole foreground process group.
    process.kill(-service.pid, 'SIGINT');
    expect(await service.exited).toEqual({ code: 0, signal: null });
    // The log line of the last request may come after `before`; the stop writes one line, the last.
    const stopping = service.output.findIndex((line) => line.includes('"msg":"stopping"'));
    expect(stopping, service.output.slice(before).join('\n')).toBeGreaterThanOrEqual(before);
    expect(service.output.slice(stopping), service.output.slice(before).join('\n')).toHaveLength(1);
    expect(JSON.parse(service.output[stopping])).toMatchObject({ level: 30, signal: 'SIGINT', msg: 'stopping' });
    // PostgreSQL has stopped (its own lock file is gone), and the folder is free again.
    expect(existsSync(path.join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
    expect(existsSync(path.join(dataDir, 'instance.json'))).toBe(false);
    expect(() => process.kill(postgres.pid, 0)).toThrow();
  }, 60_000);
});
