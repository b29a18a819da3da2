import type { ThreatNames } from '../src/modules/threats/matcher.ts';

/** A catalogue of the real one's shape: names shared between a group and a malware, aliases shared too. */
export const CATALOGUE: ThreatNames[] = [
  { id: 'group-carbanak', name: 'Carbanak', aliases: ['Anunak'] },
  { id: 'malware-carbanak', name: 'Carbanak', aliases: ['Anunak'] },
  { id: 'malware-snake', name: 'Snake', aliases: [] },
  { id: 'group-turla', name: 'Turla', aliases: ['Snake', 'Venomous Bear'] },
  { id: 'malware-emotet', name: 'Emotet', aliases: ['Geodo'] },
  { id: 'malware-trickbot', name: 'TrickBot', aliases: ['Totbrick'] },
  { id: 'malware-dridex', name: 'Dridex', aliases: ['Bugat v5'] },
  { id: 'tool-cobalt-strike', name: 'Cobalt Strike', aliases: [] },
];
