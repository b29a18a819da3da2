// Writes one batch of parsed import rows: the upsert rules of SPEC.md (an observable once
// per collection; threats and phases merged, other given properties replaced; revoked
// stays revoked), the community quota, and the job's checkpoint, in one transaction.
// A killed worker loses at most the batch in flight, and its retry resumes after the
// last committed checkpoint, so the collection ends exactly as after one clean run.
import type pg from 'pg';
import { inTransaction } from '../../db/transaction.ts';
import { v7 as uuidv7 } from 'uuid';
import type { ObservableType } from '../../generated/prisma/enums.ts';
import { HASH_ALGORITHMS, strongestHash, type FileHashes, type Observable } from '../indicators/observable.ts';
import { checkValidity, type IndicatorProperties } from '../indicators/properties.ts';

export interface ParsedRow {
  line: number;
  /** The text the user gave, for error reports. */
  raw: string;
  observable: Observable;
  properties: IndicatorProperties;
  /** File imports: the row's cells, kept with its error so it can be fixed and re-imported. */
  cells?: string[];
}

export interface RowError {
  line: number;
  value: string;
  code: string;
  message: string;
  cells?: string[];
}

export interface BatchCounts {
  created: number;
  updated: number;
  unchanged: number;
  invalid: number;
}

export interface BatchTarget {
  jobId: string;
  collectionId: string;
  communityId: string;
  /** Default validFrom of new indicators: when the import was requested (stable across retries). */
  importTime: Date;
  quota: number;
}

interface IndicatorState {
  type: ObservableType;
  value: string;
  hashes: FileHashes;
  threatIds: string[];
  killChainPhases: string[];
  validFrom: Date;
  validUntil: Date | null;
  description: string | null;
}

interface Entry {
  id: string;
  isNew: boolean;
  dirty: boolean;
  revoked: boolean;
  state: IndicatorState;
}

interface StoredIndicator {
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

export class CheckpointMovedError extends Error {
  constructor() {
    super('another attempt of this import job advanced its checkpoint');
  }
}

const union = (a: string[], b: string[] | undefined) => (b?.length ? [...new Set([...a, ...b])] : a);
const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
const sameTime = (a: Date | null, b: Date | null) => (a?.getTime() ?? null) === (b?.getTime() ?? null);
const hashesOf = (o: Observable): FileHashes => (o.type === 'FILE' ? o.hashes : {});

function sameState(a: IndicatorState, b: IndicatorState): boolean {
  return (
    a.value === b.value &&
    HASH_ALGORITHMS.every((h) => a.hashes[h] === b.hashes[h]) &&
    sameList(a.threatIds, b.threatIds) &&
    sameList(a.killChainPhases, b.killChainPhases) &&
    sameTime(a.validFrom, b.validFrom) &&
    sameTime(a.validUntil, b.validUntil) &&
    a.description === b.description
  );
}

function stateOf(row: StoredIndicator): IndicatorState {
  const hashes: FileHashes = {};
  for (const h of HASH_ALGORITHMS) if (row[h]) hashes[h] = row[h]!;
  return {
    type: row.type,
    value: row.value,
    hashes,
    threatIds: row.threat_ids,
    killChainPhases: row.kill_chain_phases,
    validFrom: row.valid_from,
    validUntil: row.valid_until,
    description: row.description,
  };
}

/** Rejected values are stored for people to read: bounded, and without NUL (PostgreSQL text cannot hold it). */
const printable = (value: string) => value.slice(0, 1000).replace(/\u0000/g, '\uFFFD');

/** A PostgreSQL array literal; elements are quoted so any text survives. */
function arrayLiteral(items: string[]): string {
  return `{${items.map((s) => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}

/** Plans the batch in memory against the stored indicators it touches. */
class BatchPlan {
  readonly errors: RowError[] = [];
  readonly counts: BatchCounts = { created: 0, updated: 0, unchanged: 0, invalid: 0 };
  private readonly entries = new Set<Entry>();
  /** Every key (value, and each hash of a file) of entries planned or loaded. */
  private readonly byKey = new Map<string, Entry>();

  constructor(
    stored: StoredIndicator[],
    private readonly target: BatchTarget,
    private quotaLeft: number,
  ) {
    for (const row of stored)
      this.register({ id: row.id, isNew: false, dirty: false, revoked: row.revoked_at !== null, state: stateOf(row) });
  }

  get newEntries() {
    return [...this.entries].filter((e) => e.isNew);
  }

  get changedEntries() {
    return [...this.entries].filter((e) => !e.isNew && e.dirty);
  }

  private register(entry: Entry) {
    this.entries.add(entry);
    this.byKey.set(entry.state.value, entry);
    for (const h of HASH_ALGORITHMS) if (entry.state.hashes[h]) this.byKey.set(entry.state.hashes[h]!, entry);
  }

  private reject(row: ParsedRow, code: string, message: string) {
    this.errors.push({ line: row.line, value: row.raw, code, message, cells: row.cells });
    this.counts.invalid += 1;
  }

  /** The one indicator this observable already is, or null; two different ones is a conflict. */
  private match(observable: Observable): Entry | null | 'conflict' {
    const keys = observable.type === 'FILE' ? Object.values(observable.hashes) : [observable.value];
    const found = new Set(keys.map((k) => this.byKey.get(k)).filter((e): e is Entry => !!e));
    if (found.size > 1) return 'conflict';
    return found.values().next().value ?? null;
  }

  add(row: ParsedRow) {
    const { observable, properties } = row;
    const entry = this.match(observable);
    if (entry === 'conflict') {
      return this.reject(
        row,
        'CONFLICTING_INDICATORS',
        'these hashes belong to two different file indicators of the collection',
      );
    }
    if (!entry) return this.create(row);
    if (entry.revoked) {
      return this.reject(
        row,
        'INDICATOR_REVOKED',
        'the indicator is revoked in this collection; re-importing does not restore it',
      );
    }
    const hashes = { ...entry.state.hashes };
    for (const [algorithm, value] of Object.entries(hashesOf(observable)) as [keyof FileHashes, string][]) {
      if (hashes[algorithm] && hashes[algorithm] !== value) {
        return this.reject(
          row,
          'HASH_MISMATCH',
          `the file is stored with another ${algorithm.toUpperCase()} (${hashes[algorithm]})`,
        );
      }
      hashes[algorithm] = value;
    }
    const next: IndicatorState = {
      ...entry.state,
      value: entry.state.type === 'FILE' ? strongestHash(hashes) : entry.state.value,
      hashes,
      threatIds: union(entry.state.threatIds, properties.threatIds),
      killChainPhases: union(entry.state.killChainPhases, properties.killChainPhases),
      validFrom: properties.validFrom ?? entry.state.validFrom,
      validUntil: properties.validUntil === undefined ? entry.state.validUntil : properties.validUntil,
      description: properties.description === undefined ? entry.state.description : properties.description,
    };
    const problem = checkValidity(next.validFrom, next.validUntil);
    if (problem) return this.reject(row, 'INVALID_VALIDITY', `${problem} (with the stored indicator)`);
    if (sameState(entry.state, next)) {
      this.counts.unchanged += 1;
      return;
    }
    entry.state = next;
    entry.dirty = true;
    this.register(entry);
    this.counts.updated += 1;
  }

  private create(row: ParsedRow) {
    const { observable, properties } = row;
    const state: IndicatorState = {
      type: observable.type,
      value: observable.value,
      hashes: hashesOf(observable),
      threatIds: properties.threatIds ?? [],
      killChainPhases: properties.killChainPhases ?? [],
      validFrom: properties.validFrom ?? this.target.importTime,
      validUntil: properties.validUntil ?? null,
      description: properties.description ?? null,
    };
    const problem = checkValidity(state.validFrom, state.validUntil);
    if (problem) return this.reject(row, 'INVALID_VALIDITY', problem);
    if (this.quotaLeft <= 0) {
      return this.reject(
        row,
        'QUOTA_EXCEEDED',
        `the community already holds its quota of ${this.target.quota} indicators`,
      );
    }
    this.quotaLeft -= 1;
    this.register({ id: uuidv7(), isNew: true, dirty: true, revoked: false, state });
    this.counts.created += 1;
  }
}

function lookupKeys(rows: ParsedRow[]) {
  const values: string[] = [];
  const hashes: Record<'md5' | 'sha1' | 'sha256', string[]> = { md5: [], sha1: [], sha256: [] };
  for (const { observable } of rows) {
    values.push(observable.value);
    if (observable.type === 'FILE') {
      for (const h of ['md5', 'sha1', 'sha256'] as const)
        if (observable.hashes[h]) hashes[h].push(observable.hashes[h]!);
    }
  }
  return { values, hashes };
}

function columns(entries: Entry[]) {
  return {
    ids: entries.map((e) => e.id),
    types: entries.map((e) => e.state.type),
    values: entries.map((e) => e.state.value),
    md5: entries.map((e) => e.state.hashes.md5 ?? null),
    sha1: entries.map((e) => e.state.hashes.sha1 ?? null),
    sha256: entries.map((e) => e.state.hashes.sha256 ?? null),
    sha512: entries.map((e) => e.state.hashes.sha512 ?? null),
    threatIds: entries.map((e) => arrayLiteral(e.state.threatIds)),
    phases: entries.map((e) => arrayLiteral(e.state.killChainPhases)),
    validFrom: entries.map((e) => e.state.validFrom),
    validUntil: entries.map((e) => e.state.validUntil),
    descriptions: entries.map((e) => e.state.description),
  };
}

/**
 * Applies `rows` (the parsed lines of one batch) and the rejected lines `invalid` in
 * one transaction, and moves the job's checkpoint from `processedBefore` to
 * `processedAfter`. Throws CheckpointMovedError when another attempt got there first.
 */
export async function writeBatch(
  pool: pg.Pool,
  target: BatchTarget,
  rows: ParsedRow[],
  invalid: RowError[],
  processedBefore: number,
  processedAfter: number,
): Promise<BatchCounts> {
  return inTransaction(pool, async (client) => {
    // Serialises writers of one community: the quota holds under concurrent imports.
    const {
      rows: [community],
    } = await client.query<{ indicator_count: number }>(
      'SELECT indicator_count FROM communities WHERE id = $1 FOR UPDATE',
      [target.communityId],
    );
    const { values, hashes } = lookupKeys(rows);
    const { rows: stored } = await client.query<StoredIndicator>(
      `SELECT id, type, value, md5, sha1, sha256, sha512, threat_ids::text[] AS threat_ids, kill_chain_phases,
              valid_from, valid_until, description, revoked_at
         FROM indicators
        WHERE collection_id = $1
          AND (value = ANY($2::text[]) OR md5 = ANY($3::text[]) OR sha1 = ANY($4::text[]) OR sha256 = ANY($5::text[]))
        FOR UPDATE`,
      [target.collectionId, values, hashes.md5, hashes.sha1, hashes.sha256],
    );
    const plan = new BatchPlan(stored, target, target.quota - community.indicator_count);
    for (const row of rows) plan.add(row);

    const created = columns(plan.newEntries);
    if (created.ids.length) {
      await client.query(
        `INSERT INTO indicators (id, collection_id, type, value, md5, sha1, sha256, sha512, threat_ids, kill_chain_phases,
                                 valid_from, valid_until, description)
         SELECT u.id, $1::uuid, u.type, u.value, u.md5, u.sha1, u.sha256, u.sha512, u.threat_ids::uuid[], u.phases::text[],
                u.valid_from, u.valid_until, u.description
           FROM unnest($2::uuid[], $3::"ObservableType"[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                       $9::text[], $10::text[], $11::timestamptz[], $12::timestamptz[], $13::text[])
             AS u(id, type, value, md5, sha1, sha256, sha512, threat_ids, phases, valid_from, valid_until, description)`,
        [
          target.collectionId,
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
      await client.query('UPDATE communities SET indicator_count = indicator_count + $2 WHERE id = $1', [
        target.communityId,
        created.ids.length,
      ]);
    }
    const changed = columns(plan.changedEntries);
    if (changed.ids.length) {
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
    const errors = [...invalid, ...plan.errors];
    if (errors.length) {
      await client.query(
        `INSERT INTO import_row_errors (job_id, line, value, code, message, cells)
         SELECT $1::uuid, u.line, u.value, u.code, u.message, u.cells::text[]
           FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[]) AS u(line, value, code, message, cells)
         ON CONFLICT DO NOTHING`,
        [
          target.jobId,
          errors.map((e) => e.line),
          errors.map((e) => printable(e.value)),
          errors.map((e) => e.code),
          errors.map((e) => e.message),
          errors.map((e) => (e.cells ? arrayLiteral(e.cells.map(printable)) : null)),
        ],
      );
    }
    const counts = { ...plan.counts, invalid: plan.counts.invalid + invalid.length };
    const moved = await client.query(
      `UPDATE import_jobs SET processed = $3, created = created + $4, updated = updated + $5,
              unchanged = unchanged + $6, invalid = invalid + $7
        WHERE id = $1 AND processed = $2`,
      [target.jobId, processedBefore, processedAfter, counts.created, counts.updated, counts.unchanged, counts.invalid],
    );
    if (moved.rowCount !== 1) throw new CheckpointMovedError();
    return counts;
  });
}
