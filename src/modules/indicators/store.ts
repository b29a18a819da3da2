// Every query of the indicators table: the listings and edits of the API (Prisma) and the
// bulk statements of an import batch (SQL, on the batch's transaction).
import type pg from 'pg';
import { arrayLiteral } from '../../db/array-literal.ts';
import type { Db } from '../../db/prisma.ts';
import type { Prisma } from '../../generated/prisma/client.ts';
import type { ObservableType } from '../../generated/prisma/enums.ts';
import { indicatorFilter } from '../communities/visibility.ts';
import type { Access } from '../communities/access.ts';
import { HASH_ALGORITHMS, type FileHashes } from './observable.ts';
import type { IndicatorProperties } from './properties.ts';

/** What a GraphQL connection asks to load (Pothos' `query`): the selection and the page. */
type PageQuery = Omit<Prisma.IndicatorFindManyArgs, 'where' | 'orderBy'>;

/** The indicators a listing shows, its filter already checked and resolved. */
export interface IndicatorCriteria {
  /** true: only revoked ones; false: only active ones; null: both. */
  revoked: boolean | null;
  types?: ObservableType[];
  threatIds?: string[];
  /** Phase keys (`chain:phase`). */
  killChainPhases?: string[];
  search?: {
    /** Matched case-insensitively as a substring of the value. */
    text: string;
    /** Matched exactly against the hashes of files. */
    hash: string;
    /** The search's canonical form, when it parses as an observable. */
    value?: string;
  };
}

function indicatorWhere(criteria: IndicatorCriteria): Prisma.IndicatorWhereInput {
  const and: Prisma.IndicatorWhereInput[] = [];
  if (criteria.revoked !== null) and.push({ revokedAt: criteria.revoked ? { not: null } : null });
  if (criteria.types?.length) and.push({ type: { in: criteria.types } });
  if (criteria.threatIds?.length) and.push({ threatIds: { hasSome: criteria.threatIds } });
  if (criteria.killChainPhases?.length) and.push({ killChainPhases: { hasSome: criteria.killChainPhases } });
  const { search } = criteria;
  if (search) {
    // `%` and `_` in the text are literal characters, not LIKE wildcards; the trigram index
    // serves the case-insensitive substring match.
    const literal = search.text.replace(/[\\%_]/g, (c) => `\\${c}`);
    const or: Prisma.IndicatorWhereInput[] = [
      { value: { contains: literal, mode: 'insensitive' } },
      { md5: search.hash },
      { sha1: search.hash },
      { sha256: search.hash },
    ];
    if (search.value !== undefined) or.push({ value: search.value });
    and.push({ OR: or });
  }
  return { AND: and };
}

/** A collection's indicators, newest first, for a GraphQL connection. */
export const listIndicators = (db: Db, query: PageQuery, collectionId: string, criteria: IndicatorCriteria) =>
  db.indicator.findMany({ ...query, where: { collectionId, ...indicatorWhere(criteria) }, orderBy: { id: 'desc' } });

export const countIndicators = (db: Db, collectionId: string, criteria: IndicatorCriteria) =>
  db.indicator.count({ where: { collectionId, ...indicatorWhere(criteria) } });

/** The indicator if the viewer may see it, else null. */
export const findVisibleIndicator = (db: Db, access: Access, id: string) =>
  db.indicator.findFirst({ where: { id, ...indicatorFilter(access) } });

export const findIndicator = (db: Db, id: string) => db.indicator.findUniqueOrThrow({ where: { id } });

export const updateIndicatorProperties = (tx: Prisma.TransactionClient, id: string, properties: IndicatorProperties) =>
  tx.indicator.update({ where: { id }, data: { ...properties, updatedAt: new Date() } });

/** The indicator as revoked now by `userId`; undefined when it already was. */
export async function markIndicatorRevoked(tx: Prisma.TransactionClient, id: string, userId: string) {
  const [revoked] = await tx.indicator.updateManyAndReturn({
    where: { id, revokedAt: null },
    data: { revokedAt: new Date(), revokedById: userId, updatedAt: new Date() },
  });
  return revoked;
}

// ---- import batches

/** What the upsert rules of an import compare and write. */
export interface IndicatorState {
  type: ObservableType;
  value: string;
  hashes: FileHashes;
  threatIds: string[];
  killChainPhases: string[];
  validFrom: Date;
  validUntil: Date | null;
  description: string | null;
}

export interface StoredIndicator {
  id: string;
  revoked: boolean;
  state: IndicatorState;
}

/** Values, and hashes of files, to find the indicators a batch touches. */
export interface BatchKeys {
  values: string[];
  hashes: Record<'md5' | 'sha1' | 'sha256', string[]>;
}

interface IndicatorRow {
  id: string;
  type: ObservableType;
  value: string;
  md5: string | null;
  sha1: string | null;
  sha256: string | null;
  sha512: string | null;
  threat_ids: string[];
  kill_chain_phases: string[];
  valid_from: Date;
  valid_until: Date | null;
  description: string | null;
  revoked_at: Date | null;
}

function storedIndicator(row: IndicatorRow): StoredIndicator {
  const hashes: FileHashes = {};
  for (const h of HASH_ALGORITHMS) if (row[h]) hashes[h] = row[h]!;
  return {
    id: row.id,
    revoked: row.revoked_at !== null,
    state: {
      type: row.type,
      value: row.value,
      hashes,
      threatIds: row.threat_ids,
      killChainPhases: row.kill_chain_phases,
      validFrom: row.valid_from,
      validUntil: row.valid_until,
      description: row.description,
    },
  };
}

/** The collection's indicators with any of `keys`, locked until the transaction ends. */
export async function lockIndicatorsWithKeys(
  client: pg.PoolClient,
  collectionId: string,
  { values, hashes }: BatchKeys,
): Promise<StoredIndicator[]> {
  const { rows } = await client.query<IndicatorRow>(
    `SELECT id, type, value, md5, sha1, sha256, sha512, threat_ids::text[] AS threat_ids, kill_chain_phases,
            valid_from, valid_until, description, revoked_at
       FROM indicators
      WHERE collection_id = $1
        AND (value = ANY($2::text[]) OR md5 = ANY($3::text[]) OR sha1 = ANY($4::text[]) OR sha256 = ANY($5::text[]))
      FOR UPDATE`,
    [collectionId, values, hashes.md5, hashes.sha1, hashes.sha256],
  );
  return rows.map(storedIndicator);
}

function columns(indicators: { id: string; state: IndicatorState }[]) {
  return {
    ids: indicators.map((i) => i.id),
    types: indicators.map((i) => i.state.type),
    values: indicators.map((i) => i.state.value),
    md5: indicators.map((i) => i.state.hashes.md5 ?? null),
    sha1: indicators.map((i) => i.state.hashes.sha1 ?? null),
    sha256: indicators.map((i) => i.state.hashes.sha256 ?? null),
    sha512: indicators.map((i) => i.state.hashes.sha512 ?? null),
    threatIds: indicators.map((i) => arrayLiteral(i.state.threatIds)),
    phases: indicators.map((i) => arrayLiteral(i.state.killChainPhases)),
    validFrom: indicators.map((i) => i.state.validFrom),
    validUntil: indicators.map((i) => i.state.validUntil),
    descriptions: indicators.map((i) => i.state.description),
  };
}

export async function insertIndicators(
  client: pg.PoolClient,
  collectionId: string,
  indicators: { id: string; state: IndicatorState }[],
): Promise<void> {
  const created = columns(indicators);
  await client.query(
    `INSERT INTO indicators (id, collection_id, type, value, md5, sha1, sha256, sha512, threat_ids, kill_chain_phases,
                             valid_from, valid_until, description)
     SELECT u.id, $1::uuid, u.type, u.value, u.md5, u.sha1, u.sha256, u.sha512, u.threat_ids::uuid[], u.phases::text[],
            u.valid_from, u.valid_until, u.description
       FROM unnest($2::uuid[], $3::"ObservableType"[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                   $9::text[], $10::text[], $11::timestamptz[], $12::timestamptz[], $13::text[])
         AS u(id, type, value, md5, sha1, sha256, sha512, threat_ids, phases, valid_from, valid_until, description)`,
    [
      collectionId,
      created.ids,
      created.types,
      created.values,
      created.md5,
      created.sha1,
      created.sha256,
      created.sha512,
      created.threatIds,
      created.phases,
      created.validFrom,
      created.validUntil,
      created.descriptions,
    ],
  );
}

/** Writes the new state of each indicator (its type never changes). */
export async function updateIndicatorStates(
  client: pg.PoolClient,
  indicators: { id: string; state: IndicatorState }[],
): Promise<void> {
  const changed = columns(indicators);
  await client.query(
    `UPDATE indicators AS i
        SET value = u.value, md5 = u.md5, sha1 = u.sha1, sha256 = u.sha256, sha512 = u.sha512,
            threat_ids = u.threat_ids::uuid[], kill_chain_phases = u.phases::text[], valid_from = u.valid_from,
            valid_until = u.valid_until, description = u.description, updated_at = now()
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                   $9::timestamptz[], $10::timestamptz[], $11::text[])
         AS u(id, value, md5, sha1, sha256, sha512, threat_ids, phases, valid_from, valid_until, description)
      WHERE i.id = u.id`,
    [
      changed.ids,
      changed.values,
      changed.md5,
      changed.sha1,
      changed.sha256,
      changed.sha512,
      changed.threatIds,
      changed.phases,
      changed.validFrom,
      changed.validUntil,
      changed.descriptions,
    ],
  );
}
