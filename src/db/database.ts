// Which PostgreSQL the service talks to: DATABASE_URL, or an embedded one kept under DATA_DIR.
import path from 'node:path';
import type { Env } from '../config/env.ts';
import { startEmbeddedPostgres } from './embedded.ts';

export interface DatabaseHandle {
  url: string;
  embedded: boolean;
  close(): Promise<void>;
}

export async function openDatabase(env: Env, log: (line: string) => void = () => {}): Promise<DatabaseHandle> {
  if (env.DATABASE_URL) return { url: env.DATABASE_URL, embedded: false, close: async () => {} };
  const cluster = await startEmbeddedPostgres(path.join(env.DATA_DIR, 'postgres'), { durable: true, log });
  return { url: cluster.url, embedded: true, close: () => cluster.stop() };
}
