// The threat catalogue (groups, malware, tools), shared by every community.
import type { Db } from '../../db/prisma.ts';
import { storedText } from '../../stored-text.ts';
import { ThreatMatcher } from './matcher.ts';
import { allThreatNames, threatIdsMatching, upsertThreats, type ThreatEntry } from './store.ts';

export type { ThreatEntry };

/**
 * Reads a catalogue in one of the formats analysts have at hand: a list of
 * `{ name, aliases, kind|type, externalId|mitre_id }`, or a MISP galaxy cluster file
 * (`{ values: [{ value, meta: { synonyms, external_id } }] }`).
 */
export function parseThreatCatalogue(json: unknown, defaultKind = 'threat'): ThreatEntry[] {
  const asStrings = (v: unknown) => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);
  const list: unknown[] = Array.isArray(json)
    ? json
    : json && typeof json === 'object' && Array.isArray((json as { values?: unknown }).values)
      ? (json as { values: unknown[] }).values
      : [];
  if (!list.length) throw new Error('Threat catalogue: expected a JSON list of threats or a MISP galaxy cluster');
  const galaxyKind = (json as { type?: unknown }).type;
  return list.map((item, index) => {
    const entry = (item ?? {}) as Record<string, unknown>;
    const meta = (entry.meta ?? {}) as Record<string, unknown>;
    const rawName = entry.name ?? entry.value;
    if (typeof rawName !== 'string' || !rawName.trim())
      throw new Error(`Threat catalogue: entry ${index + 1} has no name`);
    // MISP galaxy values carry the ATT&CK id as a suffix: "APT28 - G0007".
    const suffix = / - ([GS]\d{4})$/.exec(rawName);
    const name = (suffix ? rawName.slice(0, suffix.index) : rawName).trim();
    const externalIds = asStrings(meta.external_id);
    const externalId = entry.externalId ?? entry.mitre_id ?? externalIds[0] ?? suffix?.[1] ?? null;
    const kind =
      entry.kind ?? entry.type ?? (typeof galaxyKind === 'string' ? galaxyKind.replace(/^mitre-/, '') : defaultKind);
    const aliases = [
      ...new Set([...asStrings(entry.aliases), ...asStrings(meta.synonyms)].map((a) => a.trim())),
    ].filter((a) => a && a.toLowerCase() !== name.toLowerCase());
    return { name, aliases, kind: String(kind), externalId: typeof externalId === 'string' ? externalId : null };
  });
}

/** Inserts or updates (by external id, else by name and kind) every entry; returns counts. */
export function importThreatCatalogue(db: Db, entries: ThreatEntry[]): Promise<{ created: number; updated: number }> {
  return upsertThreats(db, entries);
}

/** Ids of threats whose name or one of whose aliases contains `search` (case-insensitive). */
export async function searchThreatIds(db: Db, search: string): Promise<string[]> {
  const term = storedText('search', search);
  return threatIdsMatching(db, `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
}

/** The catalogue's names and aliases, to find the threats a file names. */
export async function loadThreatMatcher(db: Db): Promise<ThreatMatcher> {
  return new ThreatMatcher(await allThreatNames(db));
}
