// The upsert rules of SPEC.md for a batch of imported observables: an observable once per
// collection; threats and phases merged, other given properties replaced; revoked stays
// revoked; new indicators within the community's quota. Planned in memory against the
// stored indicators the batch touches, then written, on the caller's transaction.
import type pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { HASH_ALGORITHMS, strongestHash, type FileHashes, type Observable } from './observable.ts';
import { checkValidity, type IndicatorProperties } from './properties.ts';
import { addToCommunityIndicatorCount, lockCommunityIndicatorCount } from '../communities/store.ts';
import {
  insertIndicators,
  lockIndicatorsWithKeys,
  updateIndicatorStates,
  type BatchKeys,
  type IndicatorState,
  type StoredIndicator,
} from './store.ts';

export interface BatchTarget {
  collectionId: string;
  communityId: string;
  /** Default validFrom of new indicators: when the import was requested (stable across retries). */
  importTime: Date;
  quota: number;
}

/** An observable to store with its properties. */
export interface IndicatorCandidate {
  observable: Observable;
  properties: IndicatorProperties;
}

export interface Rejection<Row> {
  row: Row;
  code: string;
  message: string;
}

export interface BatchOutcome<Row> {
  created: number;
  updated: number;
  unchanged: number;
  /** Rows the rules refused, in the order given. */
  rejected: Rejection<Row>[];
}

interface Entry {
  id: string;
  isNew: boolean;
  dirty: boolean;
  revoked: boolean;
  state: IndicatorState;
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

/** Plans the batch in memory against the stored indicators it touches. */
class BatchPlan<Row extends IndicatorCandidate> {
  readonly rejected: Rejection<Row>[] = [];
  readonly counts = { created: 0, updated: 0, unchanged: 0 };
  private readonly entries = new Set<Entry>();
  /** Every key (value, and each hash of a file) of entries planned or loaded. */
  private readonly byKey = new Map<string, Entry>();

  constructor(
    stored: StoredIndicator[],
    private readonly target: BatchTarget,
    private quotaLeft: number,
  ) {
    for (const { id, revoked, state } of stored) this.register({ id, isNew: false, dirty: false, revoked, state });
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

  private reject(row: Row, code: string, message: string) {
    this.rejected.push({ row, code, message });
  }

  /** The one indicator this observable already is, or null; two different ones is a conflict. */
  private match(observable: Observable): Entry | null | 'conflict' {
    const keys = observable.type === 'FILE' ? Object.values(observable.hashes) : [observable.value];
    const found = new Set(keys.map((k) => this.byKey.get(k)).filter((e): e is Entry => !!e));
    if (found.size > 1) return 'conflict';
    return found.values().next().value ?? null;
  }

  add(row: Row) {
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

  private create(row: Row) {
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

function batchKeys(rows: IndicatorCandidate[]): BatchKeys {
  const values: string[] = [];
  const hashes: BatchKeys['hashes'] = { md5: [], sha1: [], sha256: [] };
  for (const { observable } of rows) {
    values.push(observable.value);
    if (observable.type === 'FILE') {
      for (const h of ['md5', 'sha1', 'sha256'] as const)
        if (observable.hashes[h]) hashes[h].push(observable.hashes[h]!);
    }
  }
  return { values, hashes };
}

/** Applies `rows` to the target collection on `client`'s transaction, the community's quota locked first. */
export async function upsertIndicatorBatch<Row extends IndicatorCandidate>(
  client: pg.PoolClient,
  target: BatchTarget,
  rows: Row[],
): Promise<BatchOutcome<Row>> {
  const indicatorCount = await lockCommunityIndicatorCount(client, target.communityId);
  const stored = await lockIndicatorsWithKeys(client, target.collectionId, batchKeys(rows));
  const plan = new BatchPlan<Row>(stored, target, target.quota - indicatorCount);
  for (const row of rows) plan.add(row);

  const created = plan.newEntries;
  if (created.length) {
    await insertIndicators(client, target.collectionId, created);
    await addToCommunityIndicatorCount(client, target.communityId, created.length);
  }
  const changed = plan.changedEntries;
  if (changed.length) await updateIndicatorStates(client, changed);
  return { ...plan.counts, rejected: plan.rejected };
}
