// Request-scoped batch loaders for references that are not Prisma relations.
import DataLoader from 'dataloader';
import type { Db } from '../db/prisma.ts';
import type { Threat } from '../generated/prisma/client.ts';

export interface Loaders {
  threat: DataLoader<string, Threat | null>;
}

export function createLoaders(db: Db): Loaders {
  return {
    threat: new DataLoader(async (ids) => {
      const rows = await db.threat.findMany({ where: { id: { in: [...ids] } } });
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
  };
}
