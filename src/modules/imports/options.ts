// What an import job was asked to do, stored as JSON on the job row and read back by
// whichever worker runs it.
import type { IndicatorProperties } from '../indicators/properties.ts';
import type { ColumnMapping } from './column-mapping.ts';

interface StoredProperties {
  threatIds?: string[];
  validFrom?: string;
  validUntil?: string | null;
  killChainPhases?: string[];
  description?: string | null;
}

export interface FileImportOptions {
  mapping: ColumnMapping;
  ignoreFirstLine: boolean;
  sheet: string | null;
}

export interface ImportOptions {
  /** Text import: the properties of every line; file import: defaults for what a row lacks. */
  properties: IndicatorProperties;
  file?: FileImportOptions;
}

interface StoredOptions {
  properties: StoredProperties;
  file?: FileImportOptions;
}

export function encodeImportOptions(options: ImportOptions): StoredOptions {
  const p = options.properties;
  return {
    properties: {
      ...p,
      validFrom: p.validFrom?.toISOString(),
      validUntil: p.validUntil === undefined ? undefined : (p.validUntil?.toISOString() ?? null),
    },
    file: options.file,
  };
}

export function decodeImportOptions(json: unknown): ImportOptions {
  const stored = (json ?? {}) as Partial<StoredOptions>;
  const properties = stored.properties ?? {};
  return {
    properties: {
      ...properties,
      validFrom: properties.validFrom ? new Date(properties.validFrom) : undefined,
      validUntil:
        properties.validUntil === undefined
          ? undefined
          : properties.validUntil
            ? new Date(properties.validUntil)
            : null,
    },
    file: stored.file,
  };
}
