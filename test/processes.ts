// The service in other processes, as `npm start` runs it (ROLE=api, worker or all), for tests
// that need a process boundary: delivery across processes, a worker killed mid-job, SIGTERM.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { waitFor } from './kit.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** A child loads the whole service through tsx: seconds, more on a busy machine. */
export const STARTUP_MS = 50_000;
/** Preloaded in the child: it exits when its stdin pipe closes, i.e. when this process is gone. */
export const EXIT_WITH_PARENT = 'data:text/javascript,process.stdin.on("close",()=>process.exit(1)).resume()';

export interface ServiceProcess {
  pid: number;
  /** The HTTP server's base URL (ROLE=api or all). */
  url: string;
  /** Everything it logged so far, line by line. */
  output: string[];
  /** How it ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Still the same process, not ended. */
  isRunning(): boolean;
  /** Sends a signal (SIGKILL: dies at once, as a lost host would). */
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after 10 s; waits for the end. */
  stop(): Promise<void>;
}

export async function spawnService(
  role: 'api' | 'worker' | 'all',
  databaseUrl: string,
  env: Record<string, string> = {},
): Promise<ServiceProcess> {
  const dataDir = mkdtempSync(path.join(tmpdir(), `ioc-${role}-`));
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', EXIT_WITH_PARENT, 'src/main.ts'], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      NODE_ENV: 'test',
      ROLE: role,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      DATA_DIR: dataDir,
      SHUTDOWN_GRACE_SECONDS: '2',
      ...env,
    },
  });
  const killNow = () => child.kill('SIGKILL');
  process.once('exit', killNow);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  void exited.then(() => {
    process.off('exit', killNow);
    rmSync(dataDir, { recursive: true, force: true });
  });
  const output: string[] = [];
  const started = new Promise<void>((resolve, reject) => {
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        output.push(line);
        if (line.includes('"service started"')) resolve();
      });
    }
    const failure = (why: string) => new Error(`the ${role} process ${why}:\n${output.join('\n')}`);
    child.once('exit', (code, signal) => reject(failure(`ended (${code ?? signal}) before it started`)));
    setTimeout(() => reject(failure(`did not start within ${STARTUP_MS} ms`)), STARTUP_MS).unref();
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(killNow, 10_000);
      await exited;
      clearTimeout(timer);
    }
  };
  try {
    await started;
    const url =
      output.map((line) => /GraphQL API and GraphiQL on (http:\/\/[^\s"/]+)\/graphql/.exec(line)?.[1]).find(Boolean) ??
      '';
    if (url) await waitFor(async () => (await fetch(`${url}/ready`).catch(() => null))?.ok, { what: `${url}/ready` });
    const isRunning = () => child.exitCode === null && child.signalCode === null;
    return { pid: child.pid!, url, output, exited, isRunning, kill: (signal) => child.kill(signal), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
