// One row of a file as the import job reads it, through the confirmed column mapping.
// `mapRow` runs on every row of an import (hundreds of thousands): its regexes live at module
// scope and threat names are looked up in a precomputed map.
import { parseDateCell } from '../../dates.ts';
import {
  checkDescription,
  checkValidity,
  DESCRIPTION_MAX,
  type IndicatorProperties,
} from '../indicators/properties.ts';
import { phaseKey, resolveKillChainPhaseText } from '../threats/kill-chain.ts';
import type { ThreatMatcher } from '../threats/matcher.ts';
import { splitMultiValue, type ColumnMapping } from './column-mapping.ts';
import type { SourceRow } from './import-rows.ts';
import type { TableRow } from './tabular/table.ts';

const DATE_LABELS = { VALID_FROM: 'valid from', VALID_UNTIL: 'valid until' } as const;

type RowErrorCode =
  | 'EMPTY'
  | 'UNKNOWN_THREAT'
  | 'INVALID_DATE'
  | 'UNKNOWN_KILL_CHAIN_PHASE'
  | 'DESCRIPTION_TOO_LONG'
  | 'INVALID_DESCRIPTION'
  | 'INVALID_VALIDITY';

class RowProblem {
  constructor(
    readonly code: RowErrorCode,
    readonly message: string,
  ) {}
}

const quoted = (texts: string[]) => texts.map((text) => JSON.stringify(text)).join(', ');

function threatIdsOf(cell: string, column: number, threats: ThreatMatcher, into: string[]): RowProblem | null {
  const unknown: string[] = [];
  for (const name of splitMultiValue(cell)) {
    const ids = threats.match(name);
    if (ids.length === 0) unknown.push(name);
    for (const id of ids) if (!into.includes(id)) into.push(id);
  }
  if (unknown.length === 0) return null;
  const verb = unknown.length === 1 ? 'is' : 'are';
  return new RowProblem(
    'UNKNOWN_THREAT',
    `column ${column + 1}: ${quoted(unknown)} ${verb} not in the threat catalogue`,
  );
}

function phaseKeysOf(cell: string, column: number, into: string[]): RowProblem | null {
  const problems: string[] = [];
  for (const text of splitMultiValue(cell)) {
    const result = resolveKillChainPhaseText(text);
    if (!result.ok) problems.push(result.message);
    else if (!into.includes(phaseKey(result.phase))) into.push(phaseKey(result.phase));
  }
  return problems.length === 0
    ? null
    : new RowProblem('UNKNOWN_KILL_CHAIN_PHASE', `column ${column + 1}: ${problems.join('; ')}`);
}

function descriptionOf(cell: string, column: number): string | RowProblem {
  const description = cell.trim();
  const problem = checkDescription(description);
  if (problem === null) return description;
  const code = description.length > DESCRIPTION_MAX ? 'DESCRIPTION_TOO_LONG' : 'INVALID_DESCRIPTION';
  return new RowProblem(code, `column ${column + 1}: ${problem}`);
}

/**
 * One row of a file as the import job reads it: the observable cell (`raw`, parsed later by
 * the runner) and its properties, or the first problem found. A cell's value replaces the
 * default; an empty cell or an unmapped property keeps `defaults` (already checked).
 * `mapping` must have passed `checkMapping`.
 */
export function mapRow(
  row: TableRow,
  mapping: ColumnMapping,
  defaults: IndicatorProperties,
  threats: ThreatMatcher,
): SourceRow {
  const { line, cells } = row;
  const observableColumn = mapping.indexOf('OBSERVABLE');
  const raw = cells[observableColumn] ?? '';
  const fail = (problem: RowProblem): SourceRow => ({
    line,
    raw,
    error: { code: problem.code, message: problem.message },
  });
  if (raw.trim() === '') return fail(new RowProblem('EMPTY', `no observable in column ${observableColumn + 1}`));

  // Copied from `defaults` on the first cell that sets a property; shared otherwise.
  let properties: IndicatorProperties | null = null;
  let threatIds: string[] | null = null;
  let phaseKeys: string[] | null = null;
  for (let column = 0; column < mapping.length; column += 1) {
    const property = mapping[column];
    const cell = cells[column] ?? '';
    if (property === null || property === 'OBSERVABLE' || cell === '') continue;
    let problem: RowProblem | null = null;
    switch (property) {
      case 'THREATS':
        problem = threatIdsOf(cell, column, threats, (threatIds ??= []));
        break;
      case 'KILL_CHAIN_PHASES':
        problem = phaseKeysOf(cell, column, (phaseKeys ??= []));
        break;
      case 'VALID_FROM':
      case 'VALID_UNTIL': {
        const date = parseDateCell(cell);
        if (date === null) {
          const message = `column ${column + 1} (${DATE_LABELS[property]}): ${JSON.stringify(cell)} is not a date`;
          problem = new RowProblem('INVALID_DATE', message);
        } else if (property === 'VALID_FROM') (properties ??= { ...defaults }).validFrom = date;
        else (properties ??= { ...defaults }).validUntil = date;
        break;
      }
      case 'DESCRIPTION': {
        const description = descriptionOf(cell, column);
        if (description instanceof RowProblem) problem = description;
        else if (description !== '') (properties ??= { ...defaults }).description = description;
        break;
      }
    }
    if (problem) return fail(problem);
  }
  // A cell of separators only (`,`) names nothing: the default stands.
  if (threatIds?.length) (properties ??= { ...defaults }).threatIds = threatIds;
  if (phaseKeys?.length) (properties ??= { ...defaults }).killChainPhases = phaseKeys;
  if (properties === null) return { line, raw, properties: defaults };

  if (properties.validFrom) {
    const problem = checkValidity(properties.validFrom, properties.validUntil);
    if (problem) return fail(new RowProblem('INVALID_VALIDITY', problem));
  }
  return { line, raw, properties };
}
