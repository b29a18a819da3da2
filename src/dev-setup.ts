// First start in development: a demo tenant tree, the built-in roles, a threat
// catalogue and an admin key, so GraphiQL has something to show. Never in production.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Services } from './services.ts';
import { createApiKey } from './modules/communities/service.ts';
import { importThreatCatalogue, parseThreatCatalogue } from './modules/threats/service.ts';

const DEMO_CATALOGUE = new URL('./modules/threats/demo-catalogue.json', import.meta.url);
/** The top community of the demo, where the admin key is a member. */
const DEMO_COMMUNITY = 'Demo MSSP';

export async function ensureDevSetup(services: Services): Promise<void> {
  const { prisma, env, logger } = services;
  if (env.NODE_ENV !== 'development') return;
  if ((await prisma.community.count()) > 0) return;
  if ((await prisma.threat.count()) === 0) {
    await importThreatCatalogue(prisma, parseThreatCatalogue(JSON.parse(readFileSync(DEMO_CATALOGUE, 'utf8'))));
  }
  const admin = await prisma.role.findUniqueOrThrow({ where: { name: 'admin' } });
  const mssp = await prisma.community.create({ data: { name: DEMO_COMMUNITY } });
  await prisma.community.createMany({
    data: [
      { name: 'Client A', parentId: mssp.id },
      { name: 'Client B', parentId: mssp.id },
    ],
  });
  const user = await prisma.user.create({ data: { name: 'Demo admin', email: 'admin@demo.invalid' } });
  await prisma.membership.create({ data: { userId: user.id, communityId: mssp.id, roleId: admin.id } });
  const { key } = await createApiKey(prisma, user.id, 'development');
  const keyFile = path.join(env.DATA_DIR, 'dev-api-key');
  mkdirSync(env.DATA_DIR, { recursive: true });
  writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
  logger.info(`development setup created; admin API key (shown once, also in ${keyFile}): ${key}`);
}

/** The demo's top community in development, when this database has it (for GraphiQL's example variables). */
export async function findDemoCommunity({ prisma, env }: Services): Promise<{ id: string } | null> {
  if (env.NODE_ENV !== 'development') return null;
  return prisma.community.findFirst({
    where: { name: DEMO_COMMUNITY, parentId: null },
    select: { id: true },
    orderBy: { createdAt: 'asc' },
  });
}
