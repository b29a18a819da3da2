// One PostgreSQL for the whole run: the embedded one (a throw-away cluster), or a fresh
// database on the server named by DATABASE_URL. Migrations are applied as the service
// applies them. Tests never truncate: each makes its own communities.
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startThrowAwayPostgres } from '../src/db/embedded.ts';
import { prepareDatabase } from './database.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

export default async function setup(project: TestProject) {
  let url: string;
  let teardown: () => Promise<void>;
  if (process.env.DATABASE_URL) {
    const server = new URL(process.env.DATABASE_URL);
    const name = `ioc_test_${Date.now()}_${process.pid}`;
    const admin = new pg.Client({ connectionString: server.toString() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    server.pathname = `/${name}`;
    url = server.toString();
    teardown = async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    };
  } else {
    const cluster = await startThrowAwayPostgres();
    url = cluster.url;
    teardown = cluster.stop;
  }
  await prepareDatabase(url);
  project.provide('databaseUrl', url);
  return teardown;
}
