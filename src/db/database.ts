// Which PostgreSQL the service talks to: DATABASE_URL, or an embedded one kept under DATA_DIR.
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Env } from '../config/env.ts';
import { embeddedUrl, startEmbeddedPostgres } from './embedded.ts';
import { claimDataFolder, describeHolder, type DataFolderClaim } from './instance-lock.ts';

export interface DatabaseHandle {
  url: string;
  embedded: boolean;
  close(): Promise<void>;
}

/** Where the embedded cluster's files are, as configured (and as messages show it). */
export const embeddedClusterDir = (env: Env) => path.join(env.DATA_DIR, 'postgres');

/** How long a CLI command waits for a data folder held by another command, or by a service still starting. */
const WAIT_FOR_FOLDER_MS = 30_000;

/**
 * The configured database. The embedded one is started on `claim` (the service claims its
 * data folder before anything else); without a claim (the CLI), a running service's server
 * is used when there is one, else the folder is claimed and a server started for the command.
 */
export async function openDatabase(
  env: Env,
  { log = () => {}, claim }: { log?: (line: string) => void; claim?: DataFolderClaim } = {},
): Promise<DatabaseHandle> {
  if (env.DATABASE_URL) return { url: env.DATABASE_URL, embedded: false, close: async () => {} };
  const found = claim ?? (await runningServiceOrClaim(env));
  if (typeof found === 'number') return { url: embeddedUrl(found), embedded: true, close: async () => {} };
  try {
    const cluster = await startEmbeddedPostgres(embeddedClusterDir(env), { durable: true, log });
    found.recordPostgres({ pid: cluster.pid, port: cluster.port });
    return {
      url: cluster.url,
      embedded: true,
      async close() {
        await cluster.stop();
        found.release();
      },
    };
  } catch (error) {
    found.release();
    throw error;
  }
}

/** The port of the server a running service recorded, or a claim of the free folder. */
async function runningServiceOrClaim(env: Env): Promise<number | DataFolderClaim> {
  const clusterDir = embeddedClusterDir(env);
  const deadline = Date.now() + WAIT_FOR_FOLDER_MS;
  for (;;) {
    const result = await claimDataFolder(env.DATA_DIR, clusterDir, 'cli');
    if ('claim' in result) return result.claim;
    const holder = result.heldBy;
    if ('owner' in holder && holder.owner === 'service' && holder.postgres) return holder.postgres.port;
    if ('postgresPid' in holder) throw new Error(`${describeHolder(holder, clusterDir)}, then retry.`);
    // Another command ends soon; a service starting records its server in a few seconds.
    if (Date.now() > deadline) {
      throw new Error(`${describeHolder(holder, clusterDir)} and did not let go in ${WAIT_FOR_FOLDER_MS / 1000} s.`);
    }
    await sleep(250);
  }
}
