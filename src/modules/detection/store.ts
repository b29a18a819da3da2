// Every query of the detection tables: rules, retrohunts, alerts and the ledger of matches.
//
// Matching runs in PostgreSQL, for new events (in the ingest transaction) and for stored
// ones (retrohunts), with one SQL shape. State: there is none outside the database. Every
// batch reads the rules and indicators as committed when its statement starts, so an
// indicator revoked, edited or imported by any process is seen by the next batch of every
// process; nothing can go stale. Idempotence: a match is first recorded in
// `detection_matches` (rule, indicator, event); only new rows count on alerts, so a
// retrohunt over events that live detection already saw (or a second retrohunt) never
// counts an event twice. The event tables are read through the events store's read-only SQL.
import type pg from 'pg';
import type { Listing, Selection } from '../../db/listing.ts';
import type { Db } from '../../db/prisma.ts';
import { inTransaction } from '../../db/transaction.ts';
import type { AlertStatus, Prisma, RetrohuntTrigger } from '../../generated/prisma/client.ts';
import type { EventObservable } from '../events/ecs.ts';
import { eventDocumentSql, storedEventsSpan, storedObservablesSql } from '../events/store.ts';
import { HASH_ALGORITHM_SPECS } from '../indicators/observable.ts';
import { LOCKHEED_MARTIN, MITRE_ATTACK } from '../threats/kill-chain.ts';

/** An IP indicator in the command-and-control phase matches `destination.ip` only. */
const C2_PHASES = [`${LOCKHEED_MARTIN}:command-and-control`, `${MITRE_ATTACK}:command-and-control`];
const C2_ONLY_FIELD = 'destination.ip';
/** Retrohunts look this far around an indicator's validity (IOCs are published after the fact). */
const RETROHUNT_MARGIN_DAYS = 5;

/** What a GraphQL field asks to load with a row (Pothos' `query`). */

// ---- matching

/**
 * Hash columns of FILE indicators, by hash length. SHA-512 needs none: the strongest hash
 * is also `value`, and nothing is stronger than SHA-512.
 */
const HASH_COLUMNS = HASH_ALGORITHM_SPECS.filter((spec) => spec.key !== 'sha512').map((spec) => ({
  column: spec.key,
  length: spec.hexLength,
}));

interface MatchQuery {
  /** Rows (event_id, community_id, ts, field, type, value) to match. */
  observables: string;
  /** Rows (rule_id, collection_id) of the rules to apply. */
  rules: string;
  /** Extra conditions on indicator `i` and observable `o`: validity, scope. */
  indicatorCondition: string;
  /** Look indicators up by index per observable (a batch of new events) rather than join. */
  probe?: boolean;
}

/**
 * Every (rule, indicator, event) match of a query, one field per match. Hashes are looked
 * up in their own column (each indexed) rather than with an OR, which no index serves.
 */
function candidates({ observables, rules, indicatorCondition, probe = false }: MatchQuery): string {
  const common = `
      i.revoked_at IS NULL AND i.type = o.type AND (${indicatorCondition})
      AND NOT (i.type IN ('IPV4', 'IPV6') AND i.kill_chain_phases && '{${C2_PHASES.join(',')}}'::text[]
               AND o.field <> '${C2_ONLY_FIELD}')`;
  const select = `SELECT r.rule_id, i.id AS indicator_id, r.collection_id, o.community_id, o.event_id, o.ts, o.field, o.value
      FROM obs o CROSS JOIN rules r`;
  // A batch probes the index once per observable (OFFSET 0 keeps the planner from pulling
  // the subquery up into a hash of every indicator); a retrohunt's day is large enough to join.
  const indicatorsWhere = (column: string) =>
    probe
      ? `CROSS JOIN LATERAL (SELECT * FROM indicators i
           WHERE i.collection_id = r.collection_id AND i.${column} = o.value OFFSET 0) i`
      : `JOIN indicators i ON i.collection_id = r.collection_id AND i.${column} = o.value`;
  const branches = [
    `${select} ${indicatorsWhere('value')} WHERE ${common}`,
    ...HASH_COLUMNS.map(
      ({ column, length }) =>
        `${select} ${indicatorsWhere(column)}
          WHERE o.type = 'FILE' AND length(o.value) = ${length} AND i.value <> o.value AND ${common}`,
    ),
  ];
  return `obs AS MATERIALIZED (${observables}),
    rules AS MATERIALIZED (${rules}),
    matched AS (${branches.join('\n UNION ALL \n')})`;
}

/** Records new matches and adds them to alerts: one open alert per rule, indicator and community. */
function recordMatches(query: MatchQuery, retrohunt: boolean): string {
  return `WITH ${candidates(query)},
    candidate AS (
      SELECT DISTINCT ON (rule_id, indicator_id, event_id) *
        FROM matched
       ORDER BY rule_id, indicator_id, event_id, field
    ),
    new_match AS (
      INSERT INTO detection_matches (rule_id, indicator_id, event_id, ts)
      SELECT rule_id, indicator_id, event_id, ts FROM candidate
      ON CONFLICT DO NOTHING
      RETURNING rule_id, indicator_id, event_id
    ),
    per_alert AS (
      SELECT c.rule_id, c.indicator_id, c.collection_id, c.community_id,
             count(*)::int AS count, min(c.ts) AS first_seen, max(c.ts) AS last_seen,
             (array_agg(c.event_id ORDER BY c.ts, c.event_id))[1] AS event_id,
             (array_agg(c.ts ORDER BY c.ts, c.event_id))[1] AS event_ts,
             (array_agg(c.field ORDER BY c.ts, c.event_id))[1] AS field,
             (array_agg(c.value ORDER BY c.ts, c.event_id))[1] AS value
        FROM new_match m JOIN candidate c USING (rule_id, indicator_id, event_id)
       GROUP BY c.rule_id, c.indicator_id, c.collection_id, c.community_id
    ),
    upserted AS (
      INSERT INTO alerts (id, rule_id, indicator_id, collection_id, community_id, field, value, excerpt,
                          first_seen, last_seen, count, status, is_open, retrohunt, created_at, updated_at)
      SELECT ioc_uuid_v7(), p.rule_id, p.indicator_id, p.collection_id, p.community_id, p.field, p.value,
             (SELECT CASE WHEN pg_column_size(e.document) <= 16384 THEN e.document
                          ELSE jsonb_build_object('@timestamp', e.document -> '@timestamp', 'truncated', true) END
                FROM (${eventDocumentSql('p.event_ts', 'p.event_id')}) e),
             p.first_seen, p.last_seen, p.count, 'OPEN', true, ${retrohunt}, now(), now()
        FROM per_alert p
       -- One lock order for every writer, so concurrent batches and retrohunts never deadlock.
       ORDER BY p.rule_id, p.indicator_id, p.community_id
      ON CONFLICT (rule_id, indicator_id, community_id, is_open) DO UPDATE
         SET count = alerts.count + EXCLUDED.count,
             first_seen = LEAST(alerts.first_seen, EXCLUDED.first_seen),
             last_seen = GREATEST(alerts.last_seen, EXCLUDED.last_seen),
             updated_at = now()
      RETURNING id, community_id, collection_id, (xmax = 0) AS created
    )
    SELECT (SELECT count(*) FROM new_match)::int AS matches,
           coalesce((SELECT json_agg(u) FROM upserted u), '[]'::json) AS alerts`;
}

export interface AlertChange {
  id: string;
  communityId: string;
  collectionId: string;
  /** A new alert (else an open one was updated). */
  created: boolean;
}

export interface DetectionOutcome {
  /** New (rule, indicator, event) matches. */
  matches: number;
  alerts: AlertChange[];
}

function toOutcome(rows: Array<{ matches: number; alerts: Array<Record<string, unknown>> }>): DetectionOutcome {
  const [{ matches, alerts }] = rows;
  return {
    matches,
    alerts: alerts.map((a) => ({
      id: a.id as string,
      communityId: a.community_id as string,
      collectionId: a.collection_id as string,
      created: a.created as boolean,
    })),
  };
}

// ---- new events

/** The enabled rules of the community's own collections and of those shared down by an MSSP above it. */
const rulesOfCommunity = (community: string, ancestors: string) =>
  `SELECT r.id AS rule_id, r.collection_id
     FROM detection_rules r JOIN collections c ON c.id = r.collection_id
    WHERE r.enabled
      AND (c.community_id = ${community}::uuid
           OR (c.available_for_sub_communities AND c.community_id = ANY(${ancestors}::uuid[])))`;

const ANY_RULE = `SELECT EXISTS (${rulesOfCommunity('$1', '$2')}) AS any`;

const LIVE = recordMatches(
  {
    observables: `SELECT o.event_id, $1::uuid AS community_id, o.ts, o.field, o.type, o.value
                    FROM unnest($2::uuid[], $3::timestamptz[], $4::text[], $5::"ObservableType"[], $6::text[])
                         AS o(event_id, ts, field, type, value)`,
    rules: rulesOfCommunity('$1', '$7'),
    // Valid at the event's time: from validFrom (included) until validUntil (excluded).
    indicatorCondition: 'i.valid_from <= o.ts AND (i.valid_until IS NULL OR o.ts < i.valid_until)',
    probe: true,
  },
  false,
);

/** An observable of a new event. */
export interface ObservedRow extends EventObservable {
  eventId: string;
  ts: Date;
}

/** Matches a batch of new events of one community; runs in the batch's transaction. */
export async function detectInBatch(
  client: pg.PoolClient,
  { communityId, ancestorIds }: { communityId: string; ancestorIds: readonly string[] },
  observables: ObservedRow[],
): Promise<DetectionOutcome> {
  const none = { matches: 0, alerts: [] };
  if (!observables.length) return none;
  // Most communities have no rule: one index lookup instead of the matching statement.
  const { rows: rules } = await client.query(ANY_RULE, [communityId, ancestorIds]);
  if (!rules[0].any) return none;
  const { rows } = await client.query(LIVE, [
    communityId,
    observables.map((o) => o.eventId),
    observables.map((o) => o.ts.toISOString()),
    observables.map((o) => o.field),
    observables.map((o) => o.type),
    observables.map((o) => o.value),
    ancestorIds,
  ]);
  return toOutcome(rows);
}

/** Forgets the matches of events before `before`: no scan can reach an expired event again. */
export async function deleteMatchesBefore(pool: pg.Pool, before: Date): Promise<void> {
  await pool.query('DELETE FROM detection_matches WHERE ts < $1', [before]);
}

// ---- stored events (retrohunts)

const RETRO = recordMatches(
  {
    observables: storedObservablesSql('$2', '$3', '$4'),
    rules: `SELECT id AS rule_id, collection_id FROM detection_rules WHERE id = $1 AND enabled`,
    indicatorCondition: `o.ts >= i.valid_from - interval '${RETROHUNT_MARGIN_DAYS} days'
      AND (i.valid_until IS NULL OR o.ts < i.valid_until + interval '${RETROHUNT_MARGIN_DAYS} days')
      AND ($5::timestamptz IS NULL OR i.created_at >= $5::timestamptz)`,
  },
  true,
);

/**
 * The event times worth scanning for a collection's indicators (those created since
 * `since`, or all): stored events within the indicators' windows (plus margin).
 */
export async function retrohuntScanRange(
  pool: pg.Pool,
  collectionId: string,
  since: Date | null,
): Promise<{ from: Date; to: Date } | null> {
  const stored = await storedEventsSpan(pool);
  const { rows } = await pool.query<{ from: Date | null; to: Date | null }>(
    `WITH windows AS (
       SELECT min(valid_from) - interval '${RETROHUNT_MARGIN_DAYS} days' AS from,
              CASE WHEN bool_or(valid_until IS NULL) THEN 'infinity'::timestamptz
                   ELSE max(valid_until) + interval '${RETROHUNT_MARGIN_DAYS} days' END AS to
         FROM indicators
        WHERE collection_id = $1 AND revoked_at IS NULL AND ($2::timestamptz IS NULL OR created_at >= $2)
     )
     SELECT greatest(windows.from, $3::timestamptz) AS from, least(windows.to, $4::timestamptz) AS to FROM windows`,
    [collectionId, since, stored.from, stored.to],
  );
  const { from, to } = rows[0];
  return from && to && from < to ? { from, to } : null;
}

export interface RetrohuntDay {
  retrohuntId: string;
  ruleId: string;
  /** Event times [from, to) of one day at most. */
  from: Date;
  to: Date;
  communityIds: string[];
  indicatorsSince: Date | null;
}

/**
 * Matches the stored events of `communityIds` in [from, to) against one rule and records
 * the retrohunt's progress, in one transaction.
 */
export async function scanRetrohuntDay(pool: pg.Pool, scan: RetrohuntDay): Promise<DetectionOutcome> {
  return inTransaction(pool, async (client) => {
    // The day's join hashes the collection's indicators: in memory rather than spilled to disk.
    await client.query("SET LOCAL work_mem = '64MB'");
    const { rows } = await client.query(RETRO, [
      scan.ruleId,
      scan.from.toISOString(),
      scan.to.toISOString(),
      scan.communityIds,
      scan.indicatorsSince?.toISOString() ?? null,
    ]);
    const found = toOutcome(rows);
    await client.query(
      `UPDATE retrohunts SET scanned_until = $2, matches = matches + $3, alerts_created = alerts_created + $4
        WHERE id = $1`,
      [scan.retrohuntId, scan.to, found.matches, found.alerts.filter((a) => a.created).length],
    );
    return found;
  });
}

// ---- rules

export const createRule = (
  tx: Prisma.TransactionClient,
  data: { collectionId: string; name: string; enabled: boolean; createdById: string },
) => tx.detectionRule.create({ data });

/** The rule among those `visible`; null when missing or hidden. */
export const findRule = (db: Db, id: string, visible: Prisma.DetectionRuleWhereInput) =>
  db.detectionRule.findFirst({ where: { id, ...visible } });

/**
 * The rule as it is, locked until the transaction ends: "was it disabled?" and the change
 * are one step under concurrent toggles.
 */
export async function lockRule(tx: Prisma.TransactionClient, id: string) {
  await tx.$queryRaw`SELECT 1 FROM detection_rules WHERE id = ${id}::uuid FOR UPDATE`;
  return tx.detectionRule.findUniqueOrThrow({ where: { id } });
}

export const updateRule = (
  tx: Prisma.TransactionClient,
  id: string,
  data: { name: string | undefined; enabled: boolean | undefined },
) => tx.detectionRule.update({ where: { id }, data });

export const enabledRulesOf = (db: Db, collectionId: string) =>
  db.detectionRule.findMany({ where: { collectionId, enabled: true }, select: { id: true, collectionId: true } });

export async function isRuleEnabled(db: Db, id: string): Promise<boolean> {
  const rule = await db.detectionRule.findUnique({ where: { id }, select: { enabled: true } });
  return rule?.enabled ?? false;
}

// ---- retrohunts

export const createRetrohunt = (
  tx: Db,
  data: { ruleId: string; trigger: RetrohuntTrigger; indicatorsSince: Date | null },
) => tx.retrohunt.create({ data });

const WITH_RULE = { rule: { include: { collection: true } } } satisfies Prisma.RetrohuntInclude;

/** A retrohunt with its rule and the rule's collection. */
export const findRetrohunt = (db: Db, id: string) => db.retrohunt.findUnique({ where: { id }, include: WITH_RULE });

/** A retrohunt's first start: RUNNING over `range` (null: nothing to scan). */
export const startRetrohunt = (db: Db, id: string, range: { from: Date; to: Date } | null) =>
  db.retrohunt.update({
    where: { id },
    data: { status: 'RUNNING', startedAt: new Date(), rangeStart: range?.from, rangeEnd: range?.to },
    include: WITH_RULE,
  });

/** A retried retrohunt: RUNNING again, from where it was. */
export const resumeRetrohunt = (db: Db, id: string) =>
  db.retrohunt.update({ where: { id }, data: { status: 'RUNNING' } });

export const finishRetrohunt = (db: Db, id: string) =>
  db.retrohunt.update({ where: { id }, data: { status: 'SUCCEEDED', finishedAt: new Date() } });

/** Marks a retrohunt that has not ended failed; false when it had ended. */
export async function markRetrohuntFailed(db: Db, id: string, message: string): Promise<boolean> {
  const { count } = await db.retrohunt.updateMany({
    where: { id, status: { in: ['QUEUED', 'RUNNING'] } },
    data: { status: 'FAILED', failureMessage: message, finishedAt: new Date() },
  });
  return count > 0;
}

/** The newest retrohunt of a rule among those `visible`. */
export const findLatestRetrohunt = (
  db: Db,
  query: Selection<Prisma.RetrohuntSelect, Prisma.RetrohuntInclude>,
  ruleId: string,
  visible: Prisma.RetrohuntWhereInput,
) => db.retrohunt.findFirst({ ...query, where: { ruleId, ...visible }, orderBy: { id: 'desc' } });

// ---- alerts

/** What a GraphQL connection asks to load (Pothos' `query`): the selection and the page. */
type AlertPage = Pick<Prisma.AlertFindManyArgs, 'select' | 'include' | 'take' | 'skip' | 'cursor'>;

/** Alerts, newest first. */
export const alertListing: Listing<Prisma.AlertWhereInput, AlertPage> = {
  page: (db, where, query) => db.alert.findMany({ ...query, where, orderBy: { id: 'desc' } }),
  count: (db, where) => db.alert.count({ where }),
};

/** The alert among those `visible`; null when missing or hidden. */
export const findAlert = (db: Db, id: string, visible: Prisma.AlertWhereInput) =>
  db.alert.findFirst({ where: { id, ...visible } });

/** The alert among those `visible`, loaded as a GraphQL field asks; throws when missing or hidden. */
export const loadAlert = (
  db: Db,
  query: Selection<Prisma.AlertSelect, Prisma.AlertInclude>,
  id: string,
  visible: Prisma.AlertWhereInput,
) => db.alert.findFirstOrThrow({ ...query, where: { id, ...visible } });

/** Closing an alert frees its slot (is_open NULL): the next match opens a new one. */
export const updateAlertStatus = (db: Db, id: string, status: AlertStatus) =>
  db.alert.update({
    where: { id },
    data: { status, isOpen: status === 'CLOSED' ? null : true, updatedAt: new Date() },
  });
