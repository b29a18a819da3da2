// Detection rules, retrohunts and alert triage. Matching itself is in matching.ts.
import { DateTime } from 'luxon';
import { fromPrisma } from 'pg-boss';
import type { AlertStatus, DetectionRule, Retrohunt, RetrohuntTrigger } from '../../generated/prisma/client.ts';
import { ConflictError, NotFoundError } from '../../errors.ts';
import type { Db } from '../../db/prisma.ts';
import { inTransaction } from '../../db/transaction.ts';
import { Queue, type RetrohuntJobData } from '../../jobs/queues.ts';
import type { RequestContext, Services } from '../../services.ts';
import {
  cleanName,
  findManageableCollection,
  isUniqueViolation,
  requireCommunityPermission,
} from '../collections/service.ts';
import type { Access } from '../communities/access.ts';
import { communityAndDescendants } from '../communities/service.ts';
import { alertFilter, publishNewAlerts } from './alerts.ts';
import { awaitBatchesInFlight, detectInStoredEvents, RETROHUNT_MARGIN_DAYS } from './matching.ts';

type DetectionContext = RequestContext & Pick<Services, 'boss'>;

/** Rules are visible with their collection. */
export const detectionRuleFilter = (access: Access) => ({ collection: access.collectionFilter() });
/**
 * Retrohunts are seen from the collection's own community only, like import jobs: a shared
 * collection's retrohunt counts the events of every sub-community (matches, alertsCreated),
 * which no sub-community may learn about another. (It was `rule: detectionRuleFilter(access)`,
 * which showed them, and their counts, to every sub-community.)
 */
export const retrohuntFilter = (access: Access) => ({
  rule: { collection: { communityId: { in: access.communitiesWith('VIEW_IOC_COLLECTIONS') } } },
});

/** Stores a retrohunt and queues its job, in the caller's transaction. */
async function queueRetrohunt(
  tx: Db,
  boss: Services['boss'],
  rule: { id: string; collectionId: string },
  trigger: RetrohuntTrigger,
  indicatorsSince: Date | null = null,
): Promise<Retrohunt> {
  await awaitBatchesInFlight(tx, rule.collectionId);
  const ruleId = rule.id;
  const retrohunt = await tx.retrohunt.create({ data: { ruleId, trigger, indicatorsSince } });
  const data: RetrohuntJobData = { retrohuntId: retrohunt.id };
  await boss.send(Queue.retrohunt, data, { db: fromPrisma(tx) });
  return retrohunt;
}

export interface CreateRuleInput {
  collectionId: string;
  name?: string | null;
  enabled?: boolean | null;
}

/** A rule on a collection; an enabled one also scans the stored events (retrohunt). */
export async function createDetectionRule(ctx: DetectionContext, input: CreateRuleInput): Promise<DetectionRule> {
  const collection = await findManageableCollection(ctx, input.collectionId, 'MANAGE_DETECTION_RULES');
  const name = cleanName(input.name ?? collection.name);
  const enabled = input.enabled ?? true;
  try {
    return await ctx.prisma.$transaction(async (tx) => {
      const rule = await tx.detectionRule.create({
        data: { collectionId: collection.id, name, enabled, createdById: ctx.viewer.userId },
      });
      if (enabled) await queueRetrohunt(tx as Db, ctx.boss, rule, 'RULE_CREATED');
      return rule;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new ConflictError(`This collection already has a rule named "${name}"`);
    throw error;
  }
}

export interface UpdateRuleInput {
  id: string;
  name?: string | null;
  enabled?: boolean | null;
}

/** Renames, enables or disables a rule; enabling it scans the events stored meanwhile. */
export async function updateDetectionRule(ctx: DetectionContext, input: UpdateRuleInput): Promise<DetectionRule> {
  const rule = await ctx.prisma.detectionRule.findFirst({
    where: { id: input.id, ...detectionRuleFilter(ctx.access) },
  });
  if (!rule) throw new NotFoundError('DetectionRule');
  await findManageableCollection(ctx, rule.collectionId, 'MANAGE_DETECTION_RULES');
  const name = input.name == null ? undefined : cleanName(input.name);
  try {
    return await ctx.prisma.$transaction(async (tx) => {
      // A disabled rule matches nothing from the next event batch on.
      await awaitBatchesInFlight(tx, rule.collectionId);
      // The row lock makes "was it disabled?" and the change one step under concurrent toggles.
      await tx.$queryRaw`SELECT 1 FROM detection_rules WHERE id = ${rule.id}::uuid FOR UPDATE`;
      const before = await tx.detectionRule.findUniqueOrThrow({ where: { id: rule.id } });
      const updated = await tx.detectionRule.update({
        where: { id: rule.id },
        data: { name, enabled: input.enabled ?? undefined },
      });
      if (!before.enabled && updated.enabled) await queueRetrohunt(tx as Db, ctx.boss, rule, 'RULE_ENABLED');
      return updated;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new ConflictError(`This collection already has a rule named "${name}"`);
    throw error;
  }
}

/**
 * After an import added indicators: each enabled rule of the collection scans the stored
 * events for the indicators created since the import was requested. Runs in the
 * transaction that ends the import, so a crash cannot end one without the other.
 */
export async function queueRetrohuntsForNewIndicators(
  tx: Db,
  boss: Services['boss'],
  collectionId: string,
  since: Date,
): Promise<void> {
  const rules = await tx.detectionRule.findMany({
    where: { collectionId, enabled: true },
    select: { id: true, collectionId: true },
  });
  for (const rule of rules) await queueRetrohunt(tx, boss, rule, 'INDICATORS_ADDED', since);
}

// ---- running a retrohunt

type RetrohuntServices = Pick<Services, 'prisma' | 'pool' | 'pubsub' | 'metrics'>;

const publishRetrohunt = (services: RetrohuntServices, id: string) =>
  services.pubsub.publish('retrohuntUpdated', id, { id });

/** The event times worth scanning: stored events within the indicators' windows (plus margin). */
async function scanRange(services: RetrohuntServices, collectionId: string, since: Date | null) {
  const { rows } = await services.pool.query<{ from: Date | null; to: Date | null }>(
    `WITH windows AS (
       SELECT min(valid_from) - interval '${RETROHUNT_MARGIN_DAYS} days' AS from,
              CASE WHEN bool_or(valid_until IS NULL) THEN 'infinity'::timestamptz
                   ELSE max(valid_until) + interval '${RETROHUNT_MARGIN_DAYS} days' END AS to
         FROM indicators
        WHERE collection_id = $1 AND revoked_at IS NULL AND ($2::timestamptz IS NULL OR created_at >= $2)
     ), stored AS (SELECT min(ts) AS from, max(ts) + interval '1 millisecond' AS to FROM events)
     SELECT greatest(windows.from, stored.from) AS from, least(windows.to, stored.to) AS to FROM windows, stored`,
    [collectionId, since],
  );
  const { from, to } = rows[0];
  return from && to && from < to ? { from, to } : null;
}

/**
 * Scans the stored events of the communities that see the rule's collection, a day at a
 * time: each day commits its matches and progress, so a retried job resumes where it was,
 * and subscribers see the scanned range grow. Stops early when the rule is disabled.
 */
export async function runRetrohunt(services: RetrohuntServices, retrohuntId: string): Promise<void> {
  const { prisma, pool } = services;
  let hunt = await prisma.retrohunt.findUnique({
    where: { id: retrohuntId },
    include: { rule: { include: { collection: true } } },
  });
  if (!hunt || hunt.status === 'SUCCEEDED' || hunt.status === 'FAILED') return;
  const { rule } = hunt;
  if (hunt.rangeStart === null) {
    const range = rule.enabled ? await scanRange(services, rule.collectionId, hunt.indicatorsSince) : null;
    hunt = await prisma.retrohunt.update({
      where: { id: hunt.id },
      data: { status: 'RUNNING', startedAt: new Date(), rangeStart: range?.from, rangeEnd: range?.to },
      include: { rule: { include: { collection: true } } },
    });
  } else {
    await prisma.retrohunt.update({ where: { id: hunt.id }, data: { status: 'RUNNING' } });
  }
  publishRetrohunt(services, hunt.id);

  const { collection } = rule;
  const communityIds = collection.availableForSubCommunities
    ? await communityAndDescendants(prisma, collection.communityId)
    : [collection.communityId];
  const end = hunt.rangeEnd;
  let from = hunt.scannedUntil ?? hunt.rangeStart;
  while (from && end && from < end) {
    const current = await prisma.detectionRule.findUnique({ where: { id: rule.id }, select: { enabled: true } });
    if (!current?.enabled) break;
    const scan = {
      from,
      to: new Date(
        Math.min(DateTime.fromJSDate(from).toUTC().startOf('day').plus({ days: 1 }).toMillis(), end.getTime()),
      ),
    };
    const outcome = await inTransaction(pool, async (client) => {
      const found = await detectInStoredEvents(client, {
        ruleId: rule.id,
        ...scan,
        communityIds,
        indicatorsSince: hunt.indicatorsSince,
      });
      await client.query(
        `UPDATE retrohunts SET scanned_until = $2, matches = matches + $3, alerts_created = alerts_created + $4
          WHERE id = $1`,
        [hunt.id, scan.to, found.matches, found.alerts.filter((a) => a.created).length],
      );
      return found;
    });
    publishNewAlerts(services, outcome.alerts);
    publishRetrohunt(services, hunt.id);
    from = scan.to;
  }
  await prisma.retrohunt.update({ where: { id: hunt.id }, data: { status: 'SUCCEEDED', finishedAt: new Date() } });
  publishRetrohunt(services, hunt.id);
}

export async function failRetrohunt(services: RetrohuntServices, retrohuntId: string, message: string) {
  const { count } = await services.prisma.retrohunt.updateMany({
    where: { id: retrohuntId, status: { in: ['QUEUED', 'RUNNING'] } },
    data: { status: 'FAILED', failureMessage: message, finishedAt: new Date() },
  });
  if (count) publishRetrohunt(services, retrohuntId);
}

// ---- alerts

/** Triage: acknowledging keeps counting on the alert; closing it lets the next match open a new one. */
export async function setAlertStatus(ctx: RequestContext, id: string, status: AlertStatus) {
  const alert = await ctx.prisma.alert.findFirst({ where: { id, ...alertFilter(ctx.access) } });
  if (!alert) throw new NotFoundError('Alert');
  requireCommunityPermission(ctx, alert.communityId, 'MANAGE_DETECTION_RULES');
  if (alert.status === 'CLOSED') {
    if (status === 'CLOSED') return alert;
    throw new ConflictError('A closed alert stays closed: new matches open a new alert');
  }
  return ctx.prisma.alert.update({
    where: { id },
    data: { status, isOpen: status === 'CLOSED' ? null : true, updatedAt: new Date() },
  });
}
