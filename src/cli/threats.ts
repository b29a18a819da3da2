// `threats import`.
import { readFileSync } from 'node:fs';
import type { Db } from '../db/prisma.ts';
import { importThreatCatalogue, parseThreatCatalogue, type ThreatEntry } from '../modules/threats/service.ts';
import { command, messageOf, type Command, type Output } from './command.ts';

function readThreatCatalogue(file: string, defaultKind: string | undefined): ThreatEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`Cannot read ${file}: ${messageOf(error)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file} is not JSON: ${messageOf(error)}`);
  }
  return parseThreatCatalogue(json, defaultKind);
}

async function importThreats(db: Db, file: string, entries: ThreatEntry[]): Promise<Output> {
  const { created, updated } = await importThreatCatalogue(db, entries);
  const threats = entries.length === 1 ? 'threat' : 'threats';
  return {
    text: `Imported ${entries.length} ${threats} from ${file}: ${created} created, ${updated} updated.`,
    json: { file, entries: entries.length, created, updated },
  };
}

export const threatCommands: Record<string, Command> = {
  'threats import': command({
    summary:
      'Import a threat catalogue: a JSON list of {name, aliases, kind|type, externalId|mitre_id} or a MISP galaxy ' +
      'cluster. Known threats are updated, never duplicated. --kind applies to entries that name none.',
    required: { file: 'path.json' },
    optional: { kind: 'kind' },
    prepare: ({ file, kind }) => {
      const entries = readThreatCatalogue(file, kind);
      return (db) => importThreats(db, file, entries);
    },
  }),
};
