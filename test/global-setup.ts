// One PostgreSQL for the whole run: the embedded one (a throw-away cluster), or a fresh
// database on the server named by DATABASE_URL. Migrations are applied as the service
// applies them. Tests never truncate: each makes its own communities.
import { readFileSync } from 'node:fs';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startThrowAwayPostgres } from '../src/db/embedded.ts';
import { migrate } from '../src/db/migrate.ts';
import { createDatabaseClients } from '../src/db/prisma.ts';
import { ensureBuiltInRoles } from '../src/modules/communities/service.ts';
import { importThreatCatalogue, parseThreatCatalogue } from '../src/modules/threats/service.ts';

const DEMO_CATALOGUE = new URL('../src/modules/threats/demo-catalogue.json', import.meta.url);

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
  await migrate(url);
  // Shared reference data, as `npm start` would have it: built-in roles and a catalogue.
  const { prisma, pool } = createDatabaseClients(url, { max: 1 });
  await ensureBuiltInRoles(prisma);
  await importThreatCatalogue(prisma, parseThreatCatalogue(JSON.parse(readFileSync(DEMO_CATALOGUE, 'utf8'))));
  await prisma.$disconnect();
  await pool.end();
  project.provide('databaseUrl', url);
  return teardown;
}
