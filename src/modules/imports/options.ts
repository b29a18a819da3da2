// What an import job was asked to do, stored as JSON on the job row and read back by
// whichever worker runs it.
import type { IndicatorProperties } from '../indicators/properties.ts';

interface StoredProperties {
  threatIds?: string[];
  validFrom?: string;
  validUntil?: string | null;
  killChainPhases?: string[];
  description?: string | null;
}

export interface ImportOptions {
  /** Text import: the properties every line gets. */
  properties: IndicatorProperties;
}

export function encodeImportOptions(options: ImportOptions): { properties: StoredProperties } {
  const p = options.properties;
  return {
    properties: {
      ...p,
      validFrom: p.validFrom?.toISOString(),
      validUntil: p.validUntil === undefined ? undefined : (p.validUntil?.toISOString() ?? null),
    },
  };
}

export function decodeImportOptions(json: unknown): ImportOptions {
  const stored = ((json as { properties?: StoredProperties } | null)?.properties ?? {}) as StoredProperties;
  return {
    properties: {
      ...stored,
      validFrom: stored.validFrom ? new Date(stored.validFrom) : undefined,
      validUntil: stored.validUntil === undefined ? undefined : stored.validUntil ? new Date(stored.validUntil) : null,
    },
  };
}
