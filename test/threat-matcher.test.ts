// Threat names as files write them, matched against the catalogue.
import { describe, expect, it } from 'vitest';
import { ThreatMatcher, threatKey } from '../src/modules/threats/matcher.ts';
import { CATALOGUE } from './threat-catalogue.ts';

// Built in each test, so that a constructor that throws fails the tests instead of the file's loading.
const threats = { match: (text: string) => new ThreatMatcher(CATALOGUE).match(text) };

describe('ThreatMatcher', () => {
  it('gives every entry with an exact name (a group and a malware named Carbanak)', () => {
    expect(threats.match('Carbanak')).toEqual(['group-carbanak', 'malware-carbanak']);
    expect(threats.match('Anunak')).toEqual(['group-carbanak', 'malware-carbanak']);
  });

  it('prefers a name to an alias', () => {
    expect(threats.match('Snake')).toEqual(['malware-snake']);
    expect(threats.match('Venomous Bear')).toEqual(['group-turla']);
  });

  it('ignores case and runs of whitespace', () => {
    expect(threats.match('  cobalt\t STRIKE ')).toEqual(['tool-cobalt-strike']);
    expect(threats.match('bugat V5')).toEqual(['malware-dridex']);
  });

  it('gives [] for unknown or empty names', () => {
    expect(threats.match('Pikabot')).toEqual([]);
    expect(threats.match('')).toEqual([]);
    expect(threats.match('Cobalt')).toEqual([]);
  });

  it('returns a copy its caller may change', () => {
    const matcher = new ThreatMatcher(CATALOGUE);
    matcher.match('Emotet').push('mutated');
    expect(matcher.match('Emotet')).toEqual(['malware-emotet']);
  });

  it('lists a threat once for a name it gives twice, and never matches an empty name', () => {
    const matcher = new ThreatMatcher([
      { id: 'malware-emotet', name: 'Emotet', aliases: ['Geodo', 'GEODO', ' ', ''] },
      { id: 'malware-heodo', name: 'Heodo', aliases: ['geodo'] },
    ]);
    expect(matcher.match('geodo')).toEqual(['malware-emotet', 'malware-heodo']);
    expect(matcher.match('')).toEqual([]);
    expect(matcher.match(' ')).toEqual([]);
  });
});

describe('threatKey', () => {
  it('lower-cases, trims and turns runs of whitespace into one space', () => {
    expect(threatKey('  Cobalt \t  STRIKE ')).toBe('cobalt strike');
  });
});
