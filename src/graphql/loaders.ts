// Request-scoped batch loaders for references that are not Prisma relations.
import DataLoader from 'dataloader';
import type { Db } from '../db/prisma.ts';
import type { Threat } from '../generated/prisma/client.ts';
import { listThreats } from '../modules/threats/store.ts';

export interface Loaders {
  threat: DataLoader<string, Threat | null>;
}

export function createLoaders(db: Db): Loaders {
  return {
    threat: new DataLoader(async (ids) => {
      const rows = await listThreats(db, {}, [...ids]);
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
  };
}
