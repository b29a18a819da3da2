// A database made ready as `npm start` makes it: migrations, built-in roles and the demo
// threat catalogue. For the run's shared database (global-setup) and for test files that
// need a PostgreSQL of their own (faults).
import { readFileSync } from 'node:fs';
import { migrate } from '../src/db/migrate.ts';
import { createDatabaseClients } from '../src/db/prisma.ts';
import { ensureBuiltInRoles } from '../src/modules/communities/service.ts';
import { importThreatCatalogue, parseThreatCatalogue } from '../src/modules/threats/service.ts';

const DEMO_CATALOGUE = new URL('../src/modules/threats/demo-catalogue.json', import.meta.url);

export async function prepareDatabase(url: string): Promise<void> {
  await migrate(url);
  const { prisma, pool } = createDatabaseClients(url, { max: 1 });
  try {
    await ensureBuiltInRoles(prisma);
    await importThreatCatalogue(prisma, parseThreatCatalogue(JSON.parse(readFileSync(DEMO_CATALOGUE, 'utf8'))));
  } finally {
    await prisma.$disconnect();
    await pool.end();
  }
}
