// Detection rules, retrohunts and alert triage. Matching itself is SQL, in store.ts; new
// events are matched by the event pipeline's hook (live-detection.ts).
import { DateTime } from 'luxon';
import { fromPrisma } from 'pg-boss';
import type { AlertStatus, DetectionRule, Prisma, Retrohunt, RetrohuntTrigger } from '../../generated/prisma/client.ts';
import { ConflictError, NotFoundError } from '../../errors.ts';
import type { Db } from '../../db/prisma.ts';
import { awaitBatchesInFlight } from '../../db/detection-lock.ts';
import { Queue, type RetrohuntJobData } from '../../jobs/queues.ts';
import type { RequestContext, Services } from '../../services.ts';
import {
  cleanName,
  findManageableCollection,
  isUniqueViolation,
  requireCommunityPermission,
} from '../collections/service.ts';
import { communityAndDescendants } from '../communities/service.ts';
import { alertFilter, detectionRuleFilter } from '../communities/visibility.ts';
import { publishNewAlerts } from './alerts.ts';
import {
  createRetrohunt,
  createRule,
  enabledRulesOf,
  findAlert,
  findRetrohunt,
  findRule,
  finishRetrohunt,
  isRuleEnabled,
  lockRule,
  markRetrohuntFailed,
  resumeRetrohunt,
  retrohuntScanRange,
  scanRetrohuntDay,
  startRetrohunt,
  updateAlertStatus,
  updateRule,
} from './store.ts';

type DetectionContext = RequestContext & Pick<Services, 'boss'>;

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
  const retrohunt = await createRetrohunt(tx, { ruleId, trigger, indicatorsSince });
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
/**
 * The rule a collection created with `createDetectionRule: true` gets, in the transaction
 * that creates it: enabled at once, with no retrohunt (an empty collection has nothing to look back on).
 */
export const ruleOfNewCollection =
  (createdById: string) => (tx: Prisma.TransactionClient, collection: { id: string; name: string }) =>
    createRule(tx, { collectionId: collection.id, name: collection.name, enabled: true, createdById });

export async function createDetectionRule(ctx: DetectionContext, input: CreateRuleInput): Promise<DetectionRule> {
  const collection = await findManageableCollection(ctx, input.collectionId, 'MANAGE_DETECTION_RULES');
  const name = cleanName(input.name ?? collection.name);
  const enabled = input.enabled ?? true;
  try {
    return await ctx.prisma.$transaction(async (tx) => {
      const rule = await createRule(tx, { collectionId: collection.id, name, enabled, createdById: ctx.viewer.userId });
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
  const rule = await findRule(ctx.prisma, input.id, detectionRuleFilter(ctx.access));
  if (!rule) throw new NotFoundError('DetectionRule');
  await findManageableCollection(ctx, rule.collectionId, 'MANAGE_DETECTION_RULES');
  const name = input.name == null ? undefined : cleanName(input.name);
  try {
    return await ctx.prisma.$transaction(async (tx) => {
      // A disabled rule matches nothing from the next event batch on.
      await awaitBatchesInFlight(tx, rule.collectionId);
      const before = await lockRule(tx, rule.id);
      const updated = await updateRule(tx, rule.id, { name, enabled: input.enabled ?? undefined });
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
  const rules = await enabledRulesOf(tx, collectionId);
  for (const rule of rules) await queueRetrohunt(tx, boss, rule, 'INDICATORS_ADDED', since);
}

// ---- running a retrohunt

type RetrohuntServices = Pick<Services, 'prisma' | 'pool' | 'pubsub' | 'metrics'>;

const publishRetrohunt = (services: RetrohuntServices, id: string) =>
  services.pubsub.publish('retrohuntUpdated', id, { id });

/**
 * Scans the stored events of the communities that see the rule's collection, a day at a
 * time: each day commits its matches and progress, so a retried job resumes where it was,
 * and subscribers see the scanned range grow. Stops early when the rule is disabled.
 */
export async function runRetrohunt(services: RetrohuntServices, retrohuntId: string): Promise<void> {
  const { prisma, pool } = services;
  let hunt = await findRetrohunt(prisma, retrohuntId);
  if (!hunt || hunt.status === 'SUCCEEDED' || hunt.status === 'FAILED') return;
  const { rule } = hunt;
  if (hunt.rangeStart === null) {
    const range = rule.enabled ? await retrohuntScanRange(pool, rule.collectionId, hunt.indicatorsSince) : null;
    hunt = await startRetrohunt(prisma, hunt.id, range);
  } else {
    await resumeRetrohunt(prisma, hunt.id);
  }
  publishRetrohunt(services, hunt.id);

  const { collection } = rule;
  const communityIds = collection.availableForSubCommunities
    ? await communityAndDescendants(prisma, collection.communityId)
    : [collection.communityId];
  const end = hunt.rangeEnd;
  let from = hunt.scannedUntil ?? hunt.rangeStart;
  while (from && end && from < end) {
    if (!(await isRuleEnabled(prisma, rule.id))) break;
    const scan = {
      from,
      to: new Date(
        Math.min(DateTime.fromJSDate(from).toUTC().startOf('day').plus({ days: 1 }).toMillis(), end.getTime()),
      ),
    };
    const outcome = await scanRetrohuntDay(pool, {
      retrohuntId: hunt.id,
      ruleId: rule.id,
      ...scan,
      communityIds,
      indicatorsSince: hunt.indicatorsSince,
    });
    publishNewAlerts(services, outcome.alerts);
    publishRetrohunt(services, hunt.id);
    from = scan.to;
  }
  await finishRetrohunt(prisma, hunt.id);
  publishRetrohunt(services, hunt.id);
}

export async function failRetrohunt(services: RetrohuntServices, retrohuntId: string, message: string) {
  if (await markRetrohuntFailed(services.prisma, retrohuntId, message)) publishRetrohunt(services, retrohuntId);
}

// ---- alerts

/** Triage: acknowledging keeps counting on the alert; closing it lets the next match open a new one. */
export async function setAlertStatus(ctx: RequestContext, id: string, status: AlertStatus) {
  const alert = await findAlert(ctx.prisma, id, alertFilter(ctx.access));
  if (!alert) throw new NotFoundError('Alert');
  requireCommunityPermission(ctx, alert.communityId, 'MANAGE_DETECTION_RULES');
  if (alert.status === 'CLOSED') {
    if (status === 'CLOSED') return alert;
    throw new ConflictError('A closed alert stays closed: new matches open a new alert');
  }
  return updateAlertStatus(ctx.prisma, id, status);
}
