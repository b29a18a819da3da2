import * as XLSX from '@e965/xlsx';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { IndicatorProperties } from '../src/modules/indicators/properties.ts';
import { checkMapping, splitMultiValue, type ColumnMapping } from '../src/modules/imports/column-mapping.ts';
import { detectHeaderRow, suggestMapping, unknownThreatNames } from '../src/modules/imports/column-sniffing.ts';
import type { SourceRow } from '../src/modules/imports/import-rows.ts';
import { mapRow } from '../src/modules/imports/row-mapping.ts';
import { ThreatMatcher } from '../src/modules/threats/matcher.ts';
import { splitCsvLine } from './csv-line.ts';
import { CATALOGUE } from './threat-catalogue.ts';

const threats = new ThreatMatcher(CATALOGUE);

describe('splitMultiValue', () => {
  it.each([
    ['Emotet, TrickBot', ['Emotet', 'TrickBot']],
    ['a|b', ['a', 'b']],
    ['a; b ;c', ['a', 'b', 'c']],
    ['a\r\nb\nc', ['a', 'b', 'c']],
    ['Emotet, , Emotet,', ['Emotet']],
    ['  Cobalt Strike  ', ['Cobalt Strike']],
    ['', []],
    [' , ;| ', []],
  ])('%j → %j', (text, expected) => {
    expect(splitMultiValue(text)).toEqual(expected);
  });
});

describe('detectHeaderRow', () => {
  it.each([
    [
      'feodo',
      ['first_seen_utc', 'dst_ip', 'dst_port', 'c2_status', 'last_online', 'malware'],
      [['2023-05-23 17:51:44', '192.9.135.73', '1194', 'online', '2024-04-01', 'Pikabot']],
    ],
    ['Address,url', ['Address', 'url'], [['tpowe2.com', 'IOC FOUND']]],
    ['hash', ['hash'], [['008EB394C503C5D86F68CD666F904FEE0086545195CAA0D8437F67FF82CE4AA0']]],
    ['Type,Value', ['Type', 'Value'], [['ip', '74.50.94.156']]],
    [
      'MD5,,C2,Malware Family',
      ['MD5', '', 'C2', 'Malware Family'],
      [['dd1101adc86fd282f5f183942cc2f3b7', '', 'a.no-ip.org', 'X']],
    ],
    [
      'unknown names over data',
      ['Foo', 'Bar'],
      [
        ['10.1.2.3', 'x'],
        ['10.1.2.4', 'y'],
      ],
    ],
    ['header only', ['indicator'], []],
    ['a known name next to an unknown one', ['ip', 'whatever'], []],
    ['an unknown name over data and blanks', ['Foo'], [['1.2.3.4'], [''], ['']]],
    ['an unknown name over padded numbers', ['Foo'], [[' 443 ']]],
    ['names over rows shorter than the header', ['Foo', 'Bar'], [['1.2.3.4']]],
    ['names over a short row and data', ['Foo', 'Bar'], [['x', '1.2.3.4'], ['y']]],
    ['a cell that only starts like a number', ['label', '4x4'], [['1.2.3.4', 'x']]],
  ])('says yes for %s', (_, first, next) => {
    expect(detectHeaderRow(first, next)).toBe(true);
  });

  it.each([
    ['a data row with text', ['172.21.25.140', 'TEST DATA'], [['1.116.160.39', 'Possible Cobaltstrike C2 IP']]],
    ['a bare list of IPs', ['185.220.101.1'], [['185.220.101.2'], ['185.220.101.3']]],
    [
      'a type column next to data',
      ['ip', '74.50.94.156'],
      [['sha256', 'a61b2eafcf39715031357df6b01e85e0d1ea2e8ee1dfec241b114e18f7a1163f']],
    ],
    ['a row with a number', ['104.130.17.100', '443', 'URLzone C&C'], []],
    ['a row with a date', ['2021-01-17 07:30:05', 'x'], [['2021-01-17 07:30:06', 'y']]],
    ['words over words', ['Emotet', 'banking'], [['Dridex', 'banking']]],
    ['an empty row', ['', ''], [['1.2.3.4', '']]],
    ['a row of blanks', ['  ', ' '], [['1.2.3.4', 'x']]],
    ['a row with a whole number', ['label', '443'], [['1.2.3.4', 'x']]],
    ['a row with a decimal number', ['label', '3.14'], [['1.2.3.4', 'x']]],
    ['a row with a signed number', ['label', '-1,5'], [['1.2.3.4', 'x']]],
    [
      'unknown names over columns only half data',
      ['Foo', 'Bar'],
      [
        ['1.2.3.4', 'x'],
        ['y', 'z'],
      ],
    ],
    ['an unnamed column over data', ['', 'Foo'], [['1.2.3.4', 'x']]],
  ])('says no for %s', (_, first, next) => {
    expect(detectHeaderRow(first, next)).toBe(false);
  });
});

describe('suggestMapping', () => {
  const HASH = 'dd1101adc86fd282f5f183942cc2f3b7';

  it('uses header names, case, space and underscore aside', () => {
    const header = [
      'First Seen (UTC)',
      'DST_IP',
      'dst port',
      'Last Seen',
      'Malware Family',
      'Kill Chain',
      'Notes',
      'Expires',
    ];
    const row = ['2024-01-01', '1.2.3.4', '443', '2024-02-01', 'Emotet', 'c2', 'seen in spam', '2025-01-01'];
    expect(suggestMapping(header, [row], threats)).toEqual([
      'VALID_FROM',
      'OBSERVABLE',
      null,
      null,
      'THREATS',
      'KILL_CHAIN_PHASES',
      'DESCRIPTION',
      'VALID_UNTIL',
    ]);
  });

  it('maps a header-only file by its names', () => {
    expect(suggestMapping(['ioc', 'date', 'threat', 'comment'], [], threats)).toEqual([
      'OBSERVABLE',
      'VALID_FROM',
      'THREATS',
      'DESCRIPTION',
    ]);
  });

  it('maps a headerless file by its values', () => {
    const rows = [
      ['1700000000', 'evil.example', 'Emotet|TrickBot', 'delivery', 'dropper seen in spam'],
      ['1700000001', 'bad.example', 'Dridex', 'c2', 'C2 of the campaign'],
    ];
    expect(suggestMapping(null, rows, threats)).toEqual([
      'VALID_FROM',
      'OBSERVABLE',
      'THREATS',
      'KILL_CHAIN_PHASES',
      'DESCRIPTION',
    ]);
  });

  it('takes the column whose values parse, whatever its header', () => {
    expect(suggestMapping(['name', 'misc'], [['x', '1.2.3.4']], threats)).toEqual([null, 'OBSERVABLE']);
  });

  it('of two parsing columns, prefers the one named an observable, then the leftmost', () => {
    const row = [HASH, 'wjwj.no-ip.org'];
    expect(suggestMapping(['C2 server', 'MD5'], [row.toReversed()], threats)).toEqual([null, 'OBSERVABLE']);
    expect(suggestMapping(null, [row], threats)).toEqual(['OBSERVABLE', null]);
  });

  it('never takes a type column for the observable', () => {
    const rows = [
      ['sha256', 'not-a-value'],
      ['hash_md5', 'not-either'],
    ];
    expect(
      suggestMapping(
        ['Indicator'],
        rows.map(([type]) => [type]),
        threats,
      ),
    ).toEqual([null]);
    // Neither parses: the named column that is not a type column is the best guess.
    expect(suggestMapping(['Indicator', 'Data'], rows, threats)).toEqual([null, 'OBSERVABLE']);
    expect(suggestMapping(['indicator_type', 'ioc'], [['url', 'http://evil.example/x']], threats)).toEqual([
      null,
      'OBSERVABLE',
    ]);
  });

  it('leaves last seen, tags and ports alone even when their values would fit', () => {
    const header = ['ip', 'last_online', 'tags', 'port'];
    expect(suggestMapping(header, [['1.2.3.4', '2024-01-01', 'Emotet', '44443']], threats)).toEqual([
      'OBSERVABLE',
      null,
      null,
      null,
    ]);
  });

  it('takes a date column by its values only when no column is named a date', () => {
    const rows = [['1.2.3.4', '2024-01-01', '2024-03-01']];
    expect(suggestMapping(['ip', 'seen', 'listingdate'], rows, threats)).toEqual(['OBSERVABLE', null, 'VALID_FROM']);
    expect(suggestMapping(['ip', 'seen', 'other'], rows, threats)).toEqual(['OBSERVABLE', 'VALID_FROM', null]);
  });

  it('does not take ports for Excel dates', () => {
    expect(
      suggestMapping(
        null,
        [
          ['1.2.3.4', '44443'],
          ['1.2.3.5', '50000'],
        ],
        threats,
      ),
    ).toEqual(['OBSERVABLE', null]);
  });

  it('drops a named date column whose values are not dates', () => {
    expect(suggestMapping(['ip', 'date'], [['1.2.3.4', 'soon']], threats)).toEqual(['OBSERVABLE', null]);
  });

  it('of two threat columns, prefers the one whose values the catalogue knows', () => {
    const rows = [['1.2.3.4', 'win.emotet', 'Emotet']];
    expect(suggestMapping(['ioc', 'malware', 'malware_printable'], rows, threats)).toEqual([
      'OBSERVABLE',
      null,
      'THREATS',
    ]);
  });

  it('takes a comment column of known threat names for threats', () => {
    const rows = [
      ['evil.example', 'Emotet'],
      ['bad.example', ''],
      ['worse.example', 'Dridex'],
    ];
    expect(suggestMapping(['value', 'comment'], rows, threats)).toEqual(['OBSERVABLE', 'THREATS']);
    expect(suggestMapping(['value', 'comment'], [['evil.example', 'CyberGate']], threats)).toEqual([
      'OBSERVABLE',
      'DESCRIPTION',
    ]);
  });

  it('takes text under a generic observable header for the description, not under a specific one', () => {
    const rows = [
      ['1.2.3.4', 'Possible Cobaltstrike C2 IP'],
      ['1.2.3.5', 'Possible Cobaltstrike C2 IP'],
    ];
    expect(suggestMapping(['ip', 'ioc'], rows, threats)).toEqual(['OBSERVABLE', 'DESCRIPTION']);
    expect(suggestMapping(['Address', 'url'], rows, threats)).toEqual(['OBSERVABLE', null]);
  });

  it('covers rows longer than the header, and single words are no description', () => {
    expect(suggestMapping(['DstIP'], [['1.2.3.4', '443', 'URLzone C&C', 'public']], threats)).toEqual([
      'OBSERVABLE',
      null,
      'DESCRIPTION',
      null,
    ]);
  });
});

describe('suggestMapping at the edges of its rules', () => {
  const suggest = (header: string[] | null, rows: string[][]) => suggestMapping(header, rows, threats);

  it.each([
    ['ip', 'OBSERVABLE'],
    ['value', 'OBSERVABLE'],
    ['observable', 'OBSERVABLE'],
    ['killchain', 'KILL_CHAIN_PHASES'],
    ['Valid To', 'VALID_UNTIL'],
  ] as const)('maps a header-only %j column by its name', (name, property) => {
    expect(suggest(['x', name], [])).toEqual([null, property]);
  });

  it.each(['category', 'reporter'])('leaves a %j column of text alone', (name) => {
    expect(suggest(['ip', name], [['1.2.3.4', 'seen in spam']])).toEqual(['OBSERVABLE', null]);
  });

  it('does not take a column where only half the values parse for the observable', () => {
    expect(suggest(['foo'], [['1.2.3.4'], ['x']])).toEqual([null]);
    expect(suggest(['name'], [['hello']])).toEqual([null]);
  });

  it('takes a named observable column whose values do not parse when at most half are type names or text', () => {
    expect(suggest(['Indicator'], [['ip'], ['x']])).toEqual(['OBSERVABLE']);
    expect(suggest(['Indicator'], [['seen in spam'], ['x']])).toEqual(['OBSERVABLE']);
    expect(suggest(['Indicator'], [['ip'], ['url']])).toEqual([null]);
    // Text under a generic name is then a description.
    expect(suggest(['Indicator'], [['seen in spam'], ['seen  again']])).toEqual(['DESCRIPTION']);
  });

  it('keeps the observable column when its header names another property', () => {
    expect(suggest(['malware'], [['1.2.3.4']])).toEqual(['OBSERVABLE']);
  });

  it('drops a named expiry column whose values are not dates, or only half of them', () => {
    expect(suggest(['ip', 'expires'], [['1.2.3.4', 'never']])).toEqual(['OBSERVABLE', null]);
    expect(
      suggest(
        ['ip', 'date'],
        [
          ['1.2.3.4', '2024-01-01'],
          ['1.2.3.5', 'soon'],
        ],
      ),
    ).toEqual(['OBSERVABLE', null]);
  });

  it('needs more than half of a column to fit a property by its values alone', () => {
    const rows = [
      ['1.2.3.4', 'Emotet', 'c2', '2024-01-01', 'seen in spam'],
      ['1.2.3.5', 'x', 'y', 'z', 'w'],
    ];
    expect(suggest(null, rows)).toEqual(['OBSERVABLE', null, null, null, null]);
  });

  it('reads short rows and blank cells as empty', () => {
    expect(suggest(null, [['1.2.3.4', '2024-01-01'], ['1.2.3.5']])).toEqual(['OBSERVABLE', 'VALID_FROM']);
    expect(
      suggest(null, [
        ['1.2.3.4', '2024-01-01'],
        ['1.2.3.5', '  '],
        ['1.2.3.6', '  '],
      ]),
    ).toEqual(['OBSERVABLE', 'VALID_FROM']);
  });

  it.each<[string, string[], string[][], ColumnMapping]>([
    [
      'dates',
      ['ip', 'first_seen', 'date'],
      [
        ['1.2.3.4', 'unknown', '2024-01-01'],
        ['1.2.3.5', '2024-01-02', '2024-01-02'],
        ['1.2.3.6', '2024-01-03', '2024-01-03'],
      ],
      ['OBSERVABLE', null, 'VALID_FROM'],
    ],
    [
      'expiry dates',
      ['ip', 'expires', 'valid_to'],
      [
        ['1.2.3.4', 'never', '2030-01-01'],
        ['1.2.3.5', '2030-01-02', '2030-01-02'],
        ['1.2.3.6', '2030-01-03', '2030-01-03'],
      ],
      ['OBSERVABLE', null, 'VALID_UNTIL'],
    ],
    [
      'kill-chain phases',
      ['ip', 'phase', 'tactic'],
      [['1.2.3.4', 'x', 'c2']],
      ['OBSERVABLE', null, 'KILL_CHAIN_PHASES'],
    ],
    [
      'descriptions',
      ['ip', 'comment', 'notes'],
      [['1.2.3.4', 'word', 'seen in spam']],
      ['OBSERVABLE', null, 'DESCRIPTION'],
    ],
    [
      'equally fitting descriptions (the leftmost)',
      ['ip', 'comment', 'notes'],
      [['1.2.3.4', 'seen in spam', 'seen in mail']],
      ['OBSERVABLE', 'DESCRIPTION', null],
    ],
  ])('of two columns named for %s, takes the one whose values fit best', (_, header, rows, mapping) => {
    expect(suggest(header, rows)).toEqual(mapping);
  });

  it('reads shares of the non-empty values only', () => {
    const rows = [
      ['1.2.3.4', '2024-01-01'],
      ['1.2.3.5', ''],
      ['1.2.3.6', ''],
    ];
    expect(suggest(null, rows)).toEqual(['OBSERVABLE', 'VALID_FROM']);
    // One date in three values is no date column.
    expect(
      suggest(null, [
        ['1.2.3.4', '2024-01-01'],
        ['1.2.3.5', 'x'],
        ['1.2.3.6', 'y'],
      ]),
    ).toEqual(['OBSERVABLE', null]);
  });

  it('takes a column of threat or phase lists only when every name in them is known', () => {
    expect(suggest(null, [['1.2.3.4', 'Emotet|Pikabot', 'c2|lunch']])).toEqual(['OBSERVABLE', null, null]);
    expect(
      suggest(null, [
        ['1.2.3.4', ';'],
        ['1.2.3.5', '|'],
      ]),
    ).toEqual(['OBSERVABLE', null]);
  });

  it('takes text with runs of blanks for a description', () => {
    expect(suggest(null, [['1.2.3.4', 'dropper  seen']])).toEqual(['OBSERVABLE', 'DESCRIPTION']);
  });

  it('takes a comment column for threats only when most values are known threats and none is text', () => {
    const header = ['value', 'comment'];
    expect(
      suggest(header, [
        ['a.example', 'Cobalt Strike'],
        ['b.example', 'Venomous Bear'],
      ]),
    ).toEqual(['OBSERVABLE', 'THREATS']);
    expect(
      suggest(header, [
        ['a.example', 'Emotet'],
        ['b.example', '2024-01-01 12:00:00'],
        ['c.example', 'Dridex'],
      ]),
    ).toEqual(['OBSERVABLE', 'THREATS']);
    expect(
      suggest(header, [
        ['a.example', 'Emotet'],
        ['b.example', 'CyberGate'],
      ]),
    ).toEqual(['OBSERVABLE', 'DESCRIPTION']);
    expect(
      suggest(header, [
        ['a.example', 'Emotet'],
        ['b.example', 'Dridex'],
        ['c.example', 'seen in spam'],
      ]),
    ).toEqual(['OBSERVABLE', 'DESCRIPTION']);
    // Another named column of threat names keeps its name's property.
    expect(suggest(['ip', 'phase'], [['1.2.3.4', 'Emotet']])).toEqual(['OBSERVABLE', 'KILL_CHAIN_PHASES']);
  });
});

describe('unknownThreatNames', () => {
  it('lists the names of the threat column the catalogue lacks, once each, in order', () => {
    const mapping: ColumnMapping = ['OBSERVABLE', 'THREATS', null];
    const samples = [
      ['1.2.3.4', 'Pikabot, Emotet', 'Zeus'],
      ['1.2.3.5', 'CyberGate|pikabot', ''],
      ['1.2.3.6', 'Cybergate'],
    ];
    expect(unknownThreatNames(samples, mapping, threats)).toEqual(['Pikabot', 'CyberGate']);
    expect(unknownThreatNames(samples, ['OBSERVABLE', null], threats)).toEqual([]);
    expect(unknownThreatNames([['1.2.3.4']], ['OBSERVABLE', 'THREATS'], threats)).toEqual([]);
  });
});

describe('checkMapping', () => {
  it.each<[ColumnMapping, number, string | null]>([
    [['OBSERVABLE', 'THREATS', 'THREATS', null], 4, null],
    [['OBSERVABLE'], 3, null],
    [[null, 'DESCRIPTION'], 2, 'no column is mapped to OBSERVABLE'],
    [['OBSERVABLE', 'OBSERVABLE'], 2, 'only one column can be mapped to OBSERVABLE (columns 1, 2 are)'],
    [['OBSERVABLE', 'VALID_FROM', 'VALID_FROM'], 3, 'only one column can be mapped to VALID_FROM (columns 2, 3 are)'],
    [
      ['OBSERVABLE', 'VALID_UNTIL', 'VALID_UNTIL'],
      3,
      'only one column can be mapped to VALID_UNTIL (columns 2, 3 are)',
    ],
    [
      ['DESCRIPTION', 'OBSERVABLE', 'DESCRIPTION'],
      3,
      'only one column can be mapped to DESCRIPTION (columns 1, 3 are)',
    ],
    [['OBSERVABLE', null, null], 2, 'the mapping has 3 entries but the file has 2 columns'],
    [['OBSERVABLE', null], 1, 'the mapping has 2 entries but the file has 1 column'],
  ])('%j for %i columns → %j', (mapping, columnCount, message) => {
    expect(checkMapping(mapping, columnCount)).toBe(message);
  });
});

describe('mapRow', () => {
  const MAPPING: ColumnMapping = [
    'VALID_FROM',
    'OBSERVABLE',
    'THREATS',
    'KILL_CHAIN_PHASES',
    'DESCRIPTION',
    'VALID_UNTIL',
  ];
  const DEFAULTS: IndicatorProperties = {
    threatIds: ['group-turla'],
    validFrom: new Date('2020-01-01T00:00:00Z'),
    killChainPhases: ['lockheed-martin-cyber-kill-chain:delivery'],
    description: 'from the default',
  };
  const map = (cells: string[], mapping = MAPPING, defaults = DEFAULTS) =>
    mapRow({ line: 7, cells }, mapping, defaults, threats);
  const errorOf = (row: SourceRow) => {
    if (!('error' in row)) throw new Error(`expected an error, got ${JSON.stringify(row)}`);
    return row.error;
  };

  it('turns cells into properties', () => {
    const row = map([
      '2024-01-31 12:00:00',
      'hxxp://evil[.]example/x',
      'Emotet, carbanak',
      'c2 | mitre-attack:exfiltration',
      '  seen in spam  ',
      '45400',
    ]);
    expect(row).toEqual({
      line: 7,
      raw: 'hxxp://evil[.]example/x',
      properties: {
        validFrom: new Date('2024-01-31T12:00:00Z'),
        validUntil: new Date('2024-04-18T00:00:00Z'),
        threatIds: ['malware-emotet', 'group-carbanak', 'malware-carbanak'],
        killChainPhases: ['lockheed-martin-cyber-kill-chain:command-and-control', 'mitre-attack:exfiltration'],
        description: 'seen in spam',
      },
    });
  });

  it('takes defaults for empty cells and unmapped properties, and shares them when no cell sets one', () => {
    const row = map(['', '1.2.3.4', '', '', '', '']);
    expect(row).toEqual({ line: 7, raw: '1.2.3.4', properties: DEFAULTS });
    expect('properties' in row && row.properties).toBe(DEFAULTS);
    expect(map(['1.2.3.4', ' , '], ['OBSERVABLE', 'THREATS'])).toEqual({
      line: 7,
      raw: '1.2.3.4',
      properties: DEFAULTS,
    });
  });

  it('replaces only the properties a cell gives', () => {
    expect(map(['1.2.3.4', 'Dridex', 'short row'], ['OBSERVABLE', 'THREATS', null, 'DESCRIPTION'])).toEqual({
      line: 7,
      raw: '1.2.3.4',
      properties: { ...DEFAULTS, threatIds: ['malware-dridex'] },
    });
  });

  it.each<[string, ColumnMapping[number], string, IndicatorProperties]>([
    ['threats', 'THREATS', 'Dridex', { threatIds: ['malware-dridex'] }],
    [
      'kill-chain phases',
      'KILL_CHAIN_PHASES',
      'mitre-attack:exfiltration',
      { killChainPhases: ['mitre-attack:exfiltration'] },
    ],
    ['valid from', 'VALID_FROM', '2021-06-01', { validFrom: new Date('2021-06-01T00:00:00Z') }],
    ['valid until', 'VALID_UNTIL', '2031-06-01', { validUntil: new Date('2031-06-01T00:00:00Z') }],
    ['description', 'DESCRIPTION', 'from the cell', { description: 'from the cell' }],
  ])('keeps every other default when a cell gives the %s', (_, property, cell, given) => {
    const defaults: IndicatorProperties = {
      threatIds: ['group-turla'],
      validFrom: new Date('2021-01-01T00:00:00Z'),
      validUntil: new Date('2030-01-01T00:00:00Z'),
      killChainPhases: ['lockheed-martin-cyber-kill-chain:delivery'],
      description: 'from the default',
    };
    const before = structuredClone(defaults);
    expect(map(['1.2.3.4', cell], ['OBSERVABLE', property], defaults)).toEqual({
      line: 7,
      raw: '1.2.3.4',
      properties: { ...defaults, ...given },
    });
    expect(defaults).toEqual(before);
  });

  it('merges several threat columns', () => {
    const row = map(['1.2.3.4', 'Emotet', 'Emotet|TrickBot'], ['OBSERVABLE', 'THREATS', 'THREATS'], {});
    expect(row).toEqual({ line: 7, raw: '1.2.3.4', properties: { threatIds: ['malware-emotet', 'malware-trickbot'] } });
  });

  it('rejects a row without an observable (EMPTY)', () => {
    expect(map(['2024-01-31', '', 'Emotet', '', '', ''])).toEqual({
      line: 7,
      raw: '',
      error: { code: 'EMPTY', message: 'no observable in column 2' },
    });
    expect(errorOf(map(['1.2.3.4'], ['THREATS', 'OBSERVABLE'])).code).toBe('EMPTY');
  });

  it('names a single unknown threat', () => {
    expect(errorOf(map(['', '1.2.3.4', 'Pikabot', '', '', '']))).toEqual({
      code: 'UNKNOWN_THREAT',
      message: 'column 3: "Pikabot" is not in the threat catalogue',
    });
  });

  it('rejects a row whose observable cell is blank (EMPTY)', () => {
    expect(errorOf(map(['1.2.3.4', '   '], ['DESCRIPTION', 'OBSERVABLE']))).toEqual({
      code: 'EMPTY',
      message: 'no observable in column 2',
    });
  });

  it('gives a phase named two ways once, and keeps the default description for a blank cell', () => {
    expect(
      map(['1.2.3.4', 'c2 | command-and-control', '   '], ['OBSERVABLE', 'KILL_CHAIN_PHASES', 'DESCRIPTION']),
    ).toEqual({
      line: 7,
      raw: '1.2.3.4',
      properties: { ...DEFAULTS, killChainPhases: ['lockheed-martin-cyber-kill-chain:command-and-control'] },
    });
  });

  it('sets valid until without any valid from', () => {
    expect(map(['1.2.3.4', '2030-01-01'], ['OBSERVABLE', 'VALID_UNTIL'], {})).toEqual({
      line: 7,
      raw: '1.2.3.4',
      properties: { validUntil: new Date('2030-01-01T00:00:00Z') },
    });
  });

  it('rejects unknown threats, naming them (UNKNOWN_THREAT)', () => {
    const row = map(['', '1.2.3.4', 'Emotet, Pikabot|Zeus', '', '', '']);
    expect(row).toMatchObject({ raw: '1.2.3.4' });
    expect(errorOf(row)).toEqual({
      code: 'UNKNOWN_THREAT',
      message: 'column 3: "Pikabot", "Zeus" are not in the threat catalogue',
    });
  });

  it('rejects dates it cannot read, naming the property and the text (INVALID_DATE)', () => {
    expect(errorOf(map(['yesterday', '1.2.3.4', '', '', '', '']))).toEqual({
      code: 'INVALID_DATE',
      message: 'column 1 (valid from): "yesterday" is not a date',
    });
    expect(errorOf(map(['', '1.2.3.4', '', '', '', '2024-13-45']))).toEqual({
      code: 'INVALID_DATE',
      message: 'column 6 (valid until): "2024-13-45" is not a date',
    });
  });

  it('rejects unknown kill-chain phases (UNKNOWN_KILL_CHAIN_PHASE)', () => {
    expect(errorOf(map(['', '1.2.3.4', '', 'c2; lunch', '', '']))).toEqual({
      code: 'UNKNOWN_KILL_CHAIN_PHASE',
      message: 'column 4: unknown kill-chain phase "lunch"',
    });
    expect(errorOf(map(['', '1.2.3.4', '', 'lunch| dinner', '', ''])).message).toBe(
      'column 4: unknown kill-chain phase "lunch"; unknown kill-chain phase "dinner"',
    );
  });

  it('rejects descriptions over 500 characters (DESCRIPTION_TOO_LONG) or with NUL (INVALID_DESCRIPTION)', () => {
    const cells = (description: string) => ['', '1.2.3.4', '', '', description, ''];
    expect(map(cells('x'.repeat(500)))).toMatchObject({ properties: { description: 'x'.repeat(500) } });
    expect(errorOf(map(cells('x'.repeat(501))))).toEqual({
      code: 'DESCRIPTION_TOO_LONG',
      message: 'column 5: description is 501 characters long; at most 500 are allowed',
    });
    expect(errorOf(map(cells(`${'x'.repeat(499)}\u0000`))).code).toBe('INVALID_DESCRIPTION');
    expect(errorOf(map(cells('a\u0000b')))).toEqual({
      code: 'INVALID_DESCRIPTION',
      message: 'column 5: description must not contain NUL characters',
    });
  });

  it('rejects validity that ends before it starts (INVALID_VALIDITY), from cells or defaults', () => {
    expect(errorOf(map(['2024-02-01', '1.2.3.4', '', '', '', '2024-01-01']))).toEqual({
      code: 'INVALID_VALIDITY',
      message: 'valid until (2024-01-01T00:00:00.000Z) must be after valid from (2024-02-01T00:00:00.000Z)',
    });
    expect(errorOf(map(['', '1.2.3.4', '', '', '', '2019-12-31'])).code).toBe('INVALID_VALIDITY');
    expect(map(['', '1.2.3.4', '', '', '', '2020-01-02'])).toMatchObject({
      properties: { validFrom: DEFAULTS.validFrom, validUntil: new Date('2020-01-02T00:00:00Z') },
    });
  });

  it('maps 500,000 rows fast (rate logged)', () => {
    const catalogue = Array.from({ length: 500 }, (_, i) => ({
      id: `t${i}`,
      name: `Threat ${i}`,
      aliases: [`T-${i}`],
    }));
    const matcher = new ThreatMatcher([...catalogue, ...CATALOGUE]);
    const mapping: ColumnMapping = ['VALID_FROM', 'OBSERVABLE', null, null, null, 'THREATS', 'DESCRIPTION'];
    const rows = Array.from({ length: 1000 }, (_, i) => ({
      line: i + 2,
      cells: [
        `2023-05-${String((i % 28) + 1).padStart(2, '0')} 17:51:44`,
        `192.9.${i % 256}.${(i * 7) % 256}`,
        '443',
        'online',
        '2024-04-01',
        i % 2 ? 'Emotet, TrickBot' : `Threat ${i % 500}`,
        'Botnet C2 server',
      ],
    }));
    const total = 500_000;
    let rejected = 0;
    const started = performance.now();
    for (let i = 0; i < total; i += 1) {
      if ('error' in mapRow(rows[i % rows.length], mapping, {}, matcher)) rejected += 1;
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(`mapRow: ${total} rows in ${seconds.toFixed(2)} s = ${Math.round(total / seconds)} rows/s`);
    expect(rejected).toBe(0);
  });
});

// --- Real files -----------------------------------------------------------------------------

const REAL = new URL('../../shared/fixtures/real/', import.meta.url);

/** The first rows of a file, roughly as the table readers give them (being written in parallel). */
interface FirstRows {
  commentedHeader: string[] | null;
  rows: string[][];
}

/** Up to 11 rows (a header and 10 samples); a comment line right above the first row is a commented header. */
function readCsvStart(path: string): FirstRows {
  const lines = readFileSync(new URL(path, REAL), 'utf8')
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/);
  const rows: string[][] = [];
  let commentedHeader: string[] | null = null;
  let lastComment: string | null = null;
  for (const line of lines) {
    if (rows.length === 11) break;
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      if (rows.length === 0) lastComment = line.slice(1).trim();
      continue;
    }
    if (rows.length === 0 && lastComment) commentedHeader = splitCsvLine(lastComment);
    rows.push(splitCsvLine(line));
  }
  return { commentedHeader, rows };
}

function readXlsxStart(path: string): FirstRows {
  const workbook = XLSX.read(readFileSync(new URL(path, REAL)), { sheetRows: 11 });
  const sheet = workbook.Sheets[workbook.SheetNames[0]];
  const rows = XLSX.utils.sheet_to_json<unknown[]>(sheet, { header: 1, raw: true, defval: '' });
  return { commentedHeader: null, rows: rows.map((row) => row.map((cell) => String(cell).trim())) };
}

function loadRealThreats(): ThreatMatcher {
  const entries = JSON.parse(readFileSync(new URL('threats.json', REAL), 'utf8')) as {
    mitre_id: string;
    name: string;
    aliases: string[];
  }[];
  return new ThreatMatcher(entries.map((entry) => ({ id: entry.mitre_id, name: entry.name, aliases: entry.aliases })));
}

const O = 'OBSERVABLE';

describe.skipIf(!existsSync(fileURLToPath(REAL)))('real files', () => {
  const realThreats = existsSync(fileURLToPath(REAL)) ? loadRealThreats() : threats;

  /** What the preview does: header row, else the commented header; the rest are samples. */
  function preview(file: FirstRows) {
    const [first, ...next] = file.rows;
    const headerRowDetected = detectHeaderRow(first, next);
    const header = headerRowDetected ? first : file.commentedHeader;
    const samples = headerRowDetected ? next : file.rows;
    const mapping = suggestMapping(header, samples, realThreats);
    return { headerRowDetected, mapping, unknownThreats: unknownThreatNames(samples, mapping, realThreats) };
  }

  it.each<[string, boolean, ColumnMapping]>([
    ['feeds/feodotracker_ipblocklist.csv', true, ['VALID_FROM', O, null, null, null, 'THREATS']],
    [
      'feeds/feodotracker_ipblocklist_aggressive_2021_noheader.csv',
      true,
      ['VALID_FROM', O, null, null, null, 'THREATS'],
    ],
    ['feeds/c2_ips_30day_commented_header.csv', false, [O, 'DESCRIPTION']],
    ['feeds/sslbl_sslipblacklist_2015.csv', false, [O, null, 'DESCRIPTION']],
    ['feeds/threatfox_domains_processed.csv', true, [O, null]],
    ['feeds/emergingthreats_compromised-ips.txt', false, [O]],
    ['feeds/malwarebazaar_recent_md5.txt', false, [O]],
    ['csv/ahamed_IOC-3rd_March_quoted.csv', true, [null, O, null]],
    ['csv/citizenlab_201512_PackRAT_md5-c2.csv', true, [O, null, null, 'THREATS']],
    // MISP: `comment` holds family names (CyberGate) the real catalogue lacks, so it stays a description.
    [
      'csv/citizenlab_misp_201512_PackRAT_iocs.csv',
      true,
      [null, null, null, null, O, 'DESCRIPTION', null, 'VALID_FROM'],
    ],
    ['csv/deepinstinct_Storm0978_RomCom_IOCs.csv', true, [null, O]],
    ['csv/nanparam_malhash_uppercase_sha256.csv', true, [O]],
    ['csv/sophos_2024-02_ScreenConnect_payloads.csv', true, [null, O, 'DESCRIPTION']],
    ['csv/sophos_ShaZhuPanfakeapps.csv', true, [null, O, 'DESCRIPTION', null]],
    ['csv/sophos_crimson_palace_stac1248-alpha.csv', true, [null, O, 'DESCRIPTION', null, null, null, null]],
    ['xlsx/deepinstinct_Storm0978_RomCom_IOCs.xlsx', true, [null, O]],
    ['xlsx/sslbl_sslblacklist.xlsx', true, [O, 'DESCRIPTION', 'VALID_FROM']],
  ])('%s: header row %s, mapping %j', (path, headerRowDetected, mapping) => {
    const file = path.endsWith('.xlsx') ? readXlsxStart(path) : readCsvStart(path);
    expect(preview(file)).toMatchObject({ headerRowDetected, mapping });
  });

  it('names the threats the catalogue lacks', () => {
    expect(preview(readCsvStart('feeds/feodotracker_ipblocklist.csv')).unknownThreats).toEqual(['Pikabot']);
    expect(preview(readCsvStart('csv/citizenlab_201512_PackRAT_md5-c2.csv')).unknownThreats).toEqual(['CyberGate']);
    expect(preview(readCsvStart('feeds/feodotracker_ipblocklist_aggressive_2021_noheader.csv')).unknownThreats).toEqual(
      [],
    );
  });

  it('maps feodo rows without their header by the values alone', () => {
    const { rows } = readCsvStart('feeds/feodotracker_ipblocklist_aggressive_2021_noheader.csv');
    expect(preview({ commentedHeader: null, rows: rows.slice(1) })).toMatchObject({
      headerRowDetected: false,
      mapping: ['VALID_FROM', O, null, null, null, 'THREATS'],
    });
  });

  it('imports the sslbl sheet rows with their Excel dates', () => {
    const [, first] = readXlsxStart('xlsx/sslbl_sslblacklist.xlsx').rows;
    const row = mapRow({ line: 2, cells: first }, [O, 'DESCRIPTION', 'VALID_FROM'], {}, realThreats);
    expect(row).toMatchObject({
      raw: '19e664f09401bf648b6ea57719e34ad795f3b6cb',
      properties: { description: 'AsyncRAT C&C' },
    });
    const validFrom = 'properties' in row ? row.properties.validFrom : undefined;
    expect(validFrom?.toISOString().slice(0, 16)).toBe('2023-12-22T06:58');
  });
});
