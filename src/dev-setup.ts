// First start in development: a demo tenant tree, the built-in roles, a threat
// catalogue and an admin key, so GraphiQL has something to show. Never in production.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Services } from './services.ts';
import { createApiKey, createCommunity, createUser, findRole, setMembership } from './modules/communities/service.ts';
import { countCommunities, findTopCommunity } from './modules/communities/store.ts';
import { importThreatCatalogue, parseThreatCatalogue } from './modules/threats/service.ts';
import { countThreats } from './modules/threats/store.ts';

const DEMO_CATALOGUE = new URL('./modules/threats/demo-catalogue.json', import.meta.url);
/** The top community of the demo, where the admin key is a member. */
const DEMO_COMMUNITY = 'Demo MSSP';

export async function ensureDevSetup(services: Services): Promise<void> {
  const { prisma, env, logger } = services;
  if (env.NODE_ENV !== 'development') return;
  if ((await countCommunities(prisma)) > 0) return;
  if ((await countThreats(prisma)) === 0) {
    await importThreatCatalogue(prisma, parseThreatCatalogue(JSON.parse(readFileSync(DEMO_CATALOGUE, 'utf8'))));
  }
  const admin = await findRole(prisma, 'admin');
  if (!admin) throw new Error('the built-in role "admin" is missing');
  const mssp = await createCommunity(prisma, DEMO_COMMUNITY, null);
  for (const client of ['Client A', 'Client B']) await createCommunity(prisma, client, mssp);
  const user = await createUser(prisma, 'Demo admin', 'admin@demo.invalid');
  await setMembership(prisma, { userId: user.id, communityId: mssp.id, roleId: admin.id });
  const { key } = await createApiKey(prisma, user.id, 'development');
  const keyFile = path.join(env.DATA_DIR, 'dev-api-key');
  mkdirSync(env.DATA_DIR, { recursive: true });
  writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
  logger.info(`development setup created; admin API key (shown once, also in ${keyFile}): ${key}`);
}

/** The demo's top community in development, when this database has it (for GraphiQL's example variables). */
export async function findDemoCommunity({ prisma, env }: Services): Promise<{ id: string } | null> {
  if (env.NODE_ENV !== 'development') return null;
  return findTopCommunity(prisma, DEMO_COMMUNITY);
}
