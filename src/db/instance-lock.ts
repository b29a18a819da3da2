// One process at a time owns an embedded PostgreSQL data folder: the service (`npm start`)
// or, when no service runs, a CLI command. Its claim is a file under DATA_DIR that names it
// and, once the server accepts connections, the server's pid and port: a second start reads
// who is in the way, and the CLI finds the running server there instead of starting one.
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export type Owner = 'service' | 'cli';

export interface InstanceRecord {
  pid: number;
  owner: Owner;
  /** Set once the embedded PostgreSQL accepts connections. */
  postgres?: { pid: number; port: number };
}

/** Whether a process runs (EPERM: it does, as another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readRecord(file: string): InstanceRecord | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as InstanceRecord;
  } catch {
    return null;
  }
}

/** The pid in PostgreSQL's own lock file (its first line), if there is one. */
function postmasterPid(clusterDir: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(path.join(clusterDir, 'postmaster.pid'), 'utf8'), 10);
    return Number.isInteger(pid) ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Whether `pid` is a PostgreSQL server running on `clusterDir`. A lock file outlives a crash
 * or a reboot, and its pid may then belong to another program: where /proc tells, the
 * process must run on this folder.
 */
function runsCluster(pid: number, clusterDir: string): boolean {
  if (postmasterPid(clusterDir) !== pid || !isAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(path.resolve(clusterDir));
  } catch {
    return true;
  }
}

/** A held claim: this process's alone until released (on exit at the latest). */
export class DataFolderClaim {
  private readonly releaseOnExit = () => this.release();

  constructor(
    private readonly file: string,
    private readonly record: InstanceRecord,
  ) {
    process.once('exit', this.releaseOnExit);
  }

  /** Announces the running server (the CLI connects to it). */
  recordPostgres(postgres: { pid: number; port: number }): void {
    const next = `${this.file}.${process.pid}`;
    writeFileSync(next, JSON.stringify({ ...this.record, postgres }));
    renameSync(next, this.file);
  }

  release(): void {
    process.off('exit', this.releaseOnExit);
    if (readRecord(this.file)?.pid === process.pid) rmSync(this.file, { force: true });
  }
}

/** Who holds a data folder, as a second start or a waiting CLI command says it. */
export function describeHolder(holder: InstanceRecord | { postgresPid: number }, clusterDir: string): string {
  if ('postgresPid' in holder) {
    return `a PostgreSQL server (pid ${holder.postgresPid}) that no instance owns uses ${clusterDir}; stop it (kill ${holder.postgresPid})`;
  }
  const who = holder.owner === 'service' ? 'another instance' : 'a CLI command';
  return `${who} (pid ${holder.pid}) uses ${clusterDir}`;
}

export type ClaimResult =
  | { claim: DataFolderClaim }
  | { heldBy: InstanceRecord }
  /** A server runs on the folder with no live owner on record; it is left alone. */
  | { heldBy: { postgresPid: number } };

/**
 * Claims `dataDir` for this process, unless a live process holds it. A claim left by a
 * process that ended without releasing it (killed) is taken over, and the PostgreSQL it
 * left running is stopped first.
 */
export async function claimDataFolder(dataDir: string, clusterDir: string, owner: Owner): Promise<ClaimResult> {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'instance.json');
  const record: InstanceRecord = { pid: process.pid, owner };
  for (;;) {
    // Written in full first, then linked into place: the link fails if a claim exists, and
    // a reader never sees a half-written one.
    const draft = `${file}.${process.pid}`;
    writeFileSync(draft, JSON.stringify(record));
    try {
      linkSync(draft, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readRecord(file);
      // The same pid as this process: recorded before a restart of the host or container.
      if (holder && holder.pid !== process.pid && isAlive(holder.pid)) return { heldBy: holder };
      if (holder?.postgres && runsCluster(holder.postgres.pid, clusterDir)) await stopServer(holder.postgres.pid);
      rmSync(file, { force: true });
      continue;
    } finally {
      rmSync(draft, { force: true });
    }
    const orphan = postmasterPid(clusterDir);
    if (orphan !== null && runsCluster(orphan, clusterDir)) {
      rmSync(file, { force: true });
      return { heldBy: { postgresPid: orphan } };
    }
    return { claim: new DataFolderClaim(file, record) };
  }
}

/** A fast shutdown (SIGINT), as its owner would have done; waits until it has ended. */
async function stopServer(pid: number): Promise<void> {
  process.kill(pid, 'SIGINT');
  while (isAlive(pid)) await sleep(100);
}
