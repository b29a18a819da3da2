// Threat names as files and feeds write them, matched against the catalogue.

export interface ThreatNames {
  id: string;
  name: string;
  aliases: readonly string[];
}

const WHITESPACE_RUN = /\s+/g;

/** `  Cobalt   Strike ` → `cobalt strike`. */
export function threatKey(text: string): string {
  return text.trim().toLowerCase().replace(WHITESPACE_RUN, ' ');
}

/**
 * Finds threats of the catalogue by name or alias, case-insensitive and whitespace-normalised.
 * A name beats an alias: `Carbanak` gives both entries named Carbanak (a group and a malware),
 * not the entries that merely list it as an alias.
 */
export class ThreatMatcher {
  readonly #idsByKey = new Map<string, string[]>();

  constructor(threats: Iterable<ThreatNames>) {
    const byName = new Map<string, string[]>();
    const byAlias = new Map<string, string[]>();
    const add = (index: Map<string, string[]>, text: string, id: string) => {
      const key = threatKey(text);
      if (key === '') return;
      const ids = index.get(key);
      if (!ids) index.set(key, [id]);
      else if (!ids.includes(id)) ids.push(id);
    };
    for (const threat of threats) {
      add(byName, threat.name, threat.id);
      for (const alias of threat.aliases) add(byAlias, alias, threat.id);
    }
    for (const [key, ids] of byAlias) this.#idsByKey.set(key, ids);
    for (const [key, ids] of byName) this.#idsByKey.set(key, ids);
  }

  /** Ids of the threats `text` names; empty when the catalogue does not know it. */
  match(text: string): string[] {
    const ids = this.#idsByKey.get(threatKey(text));
    return ids ? [...ids] : [];
  }
}
