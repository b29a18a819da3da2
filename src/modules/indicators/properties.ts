// Indicator properties given by a person (API input, import defaults), checked once here.
import type { Db } from '../../db/prisma.ts';
import { ValidationError } from '../../errors.ts';
import { storedText, storedTextProblem } from '../../stored-text.ts';
import { phaseKey, resolveKillChainPhase } from '../threats/kill-chain.ts';
import { existingThreatIds } from '../threats/store.ts';

export const DESCRIPTION_MAX = 500;

export interface IndicatorPropertiesInput {
  threatIds?: string[] | null;
  validFrom?: Date | null;
  validUntil?: Date | null;
  killChainPhases?: { killChainName?: string | null; phaseName: string }[] | null;
  description?: string | null;
}

/** Checked properties; `undefined` means "not given" (keep what is stored). */
export interface IndicatorProperties {
  threatIds?: string[];
  validFrom?: Date;
  validUntil?: Date | null;
  killChainPhases?: string[];
  description?: string | null;
}

export function checkValidity(validFrom: Date, validUntil: Date | null | undefined): string | null {
  return validUntil && validUntil.getTime() <= validFrom.getTime()
    ? `valid until (${validUntil.toISOString()}) must be after valid from (${validFrom.toISOString()})`
    : null;
}

/** Why a description (of an indicator, from the API or a file's cell) may not be stored, or null. */
export function checkDescription(description: string): string | null {
  if (description.length > DESCRIPTION_MAX) {
    return `description is ${description.length} characters long; at most ${DESCRIPTION_MAX} are allowed`;
  }
  const problem = storedTextProblem(description, { multiline: true });
  return problem && `description ${problem}`;
}

/** `field` is the input path used in error messages, e.g. `input.properties`. */
export async function parseIndicatorProperties(
  db: Db,
  input: IndicatorPropertiesInput,
  field: string,
): Promise<IndicatorProperties> {
  const properties: IndicatorProperties = {};
  if (input.threatIds != null) {
    const ids = [...new Set(input.threatIds)];
    const found = await existingThreatIds(db, ids);
    if (found.length !== ids.length) throw new ValidationError(`${field}.threatIds`, 'Unknown threat id(s)');
    properties.threatIds = ids;
  }
  if (input.killChainPhases != null) {
    properties.killChainPhases = [
      ...new Set(
        input.killChainPhases.map((p, i) => {
          const result = resolveKillChainPhase(p.phaseName, p.killChainName);
          if (!result.ok) throw new ValidationError(`${field}.killChainPhases.${i}`, result.message);
          return phaseKey(result.phase);
        }),
      ),
    ];
  }
  if (input.validFrom != null) properties.validFrom = input.validFrom;
  if (input.validUntil !== undefined) properties.validUntil = input.validUntil;
  if (input.validFrom && input.validUntil) {
    const problem = checkValidity(input.validFrom, input.validUntil);
    if (problem) throw new ValidationError(`${field}.validUntil`, problem);
  }
  if (input.description !== undefined) {
    const description =
      input.description === null
        ? null
        : storedText(`${field}.description`, input.description, { multiline: true }) || null;
    const problem = description && checkDescription(description);
    if (problem) throw new ValidationError(`${field}.description`, problem);
    properties.description = description;
  }
  return properties;
}
