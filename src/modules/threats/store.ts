// Every query of the threat catalogue (table threats), shared by every community.
import type { Db } from '../../db/prisma.ts';
import type { Prisma } from '../../generated/prisma/client.ts';
import type { ThreatNames } from './matcher.ts';

/** What a GraphQL connection asks to load (Pothos' `query`): the selection and the page. */
type PageQuery = Omit<Prisma.ThreatFindManyArgs, 'where' | 'orderBy'>;

/** A catalogue entry as imported. */
export interface ThreatEntry {
  name: string;
  aliases: string[];
  kind: string;
  externalId: string | null;
}

// Two statements per entry: a whole ATT&CK catalogue (hundreds of entries) outlasts Prisma's 5 s default.
const UPSERT_TRANSACTION = { timeout: 120_000 };

/** Inserts or updates (by external id, else by name and kind) every entry, in one transaction. */
export async function upsertThreats(db: Db, entries: ThreatEntry[]): Promise<{ created: number; updated: number }> {
  let created = 0;
  let updated = 0;
  await db.$transaction(async (tx) => {
    for (const entry of entries) {
      const existing = await tx.threat.findFirst({
        where: entry.externalId
          ? { externalId: entry.externalId }
          : { name: { equals: entry.name, mode: 'insensitive' }, kind: entry.kind },
        select: { id: true },
      });
      if (existing) {
        await tx.threat.update({ where: { id: existing.id }, data: entry });
        updated += 1;
      } else {
        await tx.threat.create({ data: entry });
        created += 1;
      }
    }
  }, UPSERT_TRANSACTION);
  return { created, updated };
}

/** Ids of threats whose name or one of whose aliases matches the ILIKE `pattern`. */
export async function threatIdsMatching(db: Db, pattern: string): Promise<string[]> {
  const rows = await db.$queryRaw<{ id: string }[]>`
    SELECT id::text FROM threats
     WHERE name ILIKE ${pattern} OR EXISTS (SELECT 1 FROM unnest(aliases) a WHERE a ILIKE ${pattern})`;
  return rows.map((r) => r.id);
}

/** The catalogue by id (all of it for `ids` null), for a GraphQL list. */
export const listThreats = (db: Db, query: PageQuery, ids: string[] | null) =>
  db.threat.findMany({ ...query, where: ids ? { id: { in: ids } } : {}, orderBy: { id: 'asc' } });

export const countThreats = (db: Db) => db.threat.count();

/** Names and aliases of the whole catalogue, to match names written in files. */
export const allThreatNames = (db: Db): Promise<ThreatNames[]> =>
  db.threat.findMany({ select: { id: true, name: true, aliases: true } });

/** Those of `ids` that name a threat. */
export async function existingThreatIds(db: Db, ids: string[]): Promise<string[]> {
  const found = await db.threat.findMany({ where: { id: { in: ids } }, select: { id: true } });
  return found.map((threat) => threat.id);
}
