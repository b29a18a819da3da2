// Indicators: listing, edits and revocation. Imports add and merge them through batch-upsert.ts.
import { awaitBatchesInFlight } from '../../db/detection-lock.ts';
import type { Collection, Indicator } from '../../generated/prisma/client.ts';
import type { Db } from '../../db/prisma.ts';
import type { ObservableType } from '../../generated/prisma/enums.ts';
import { IndicatorRevokedError, NotFoundError, ValidationError } from '../../errors.ts';
import type { RequestContext } from '../../services.ts';
import { searchText } from '../../stored-text.ts';
import { findManageableCollection } from '../collections/service.ts';
import { phaseKey, resolveKillChainPhase } from '../threats/kill-chain.ts';
import { parseObservable, refang } from './observable.ts';
import { checkValidity, parseIndicatorProperties, type IndicatorPropertiesInput } from './properties.ts';
import {
  countIndicators,
  findIndicator,
  findVisibleIndicator,
  markIndicatorRevoked,
  updateIndicatorProperties,
  type IndicatorCriteria,
} from './store.ts';

export interface IndicatorFilter {
  search?: string | null;
  types?: ObservableType[] | null;
  threatIds?: string[] | null;
  killChainPhases?: { killChainName?: string | null; phaseName: string }[] | null;
  includeRevoked?: boolean | null;
  revoked?: boolean | null;
}

/** The listing's filter checked and resolved (kill-chain phases to keys, the search refanged). */
export function indicatorCriteria(filter: IndicatorFilter): IndicatorCriteria {
  // `revoked` picks one state; otherwise revoked indicators show only when asked for.
  const criteria: IndicatorCriteria = {
    revoked: filter.revoked ?? (filter.includeRevoked ? null : false),
    types: filter.types ?? undefined,
    threatIds: filter.threatIds ?? undefined,
  };
  if (filter.killChainPhases?.length) {
    criteria.killChainPhases = filter.killChainPhases.map((p, i) => {
      const result = resolveKillChainPhase(p.phaseName, p.killChainName);
      if (!result.ok) throw new ValidationError(`killChainPhases.${i}`, result.message);
      return phaseKey(result.phase);
    });
  }
  const search = searchText('search', filter.search);
  if (search) {
    // Searches are refanged, so a pasted `evil[.]com` finds `evil.com`.
    const text = refang(search);
    // A whole value pasted as it was imported (`münchen.example`, `2001:0DB8::5`,
    // `evil.com.`) finds the indicator by its canonical form.
    const parsed = parseObservable(search);
    criteria.search = { text, hash: text.toLowerCase(), value: parsed.ok ? parsed.observable.value : undefined };
  }
  return criteria;
}

/**
 * How many indicators a listing holds. Unless a search or filter narrows it, the collection's
 * counters answer (kept by triggers): counting 500,000 rows on every page costs 150 ms.
 */
export function indicatorTotal(
  db: Db,
  collection: Pick<Collection, 'id' | 'activeIndicators' | 'revokedIndicators'>,
  filter: IndicatorFilter,
): number | Promise<number> {
  const narrowed =
    filter.search?.trim() || filter.types?.length || filter.threatIds?.length || filter.killChainPhases?.length;
  if (narrowed) return countIndicators(db, collection.id, indicatorCriteria(filter));
  if (filter.revoked != null) return filter.revoked ? collection.revokedIndicators : collection.activeIndicators;
  return collection.activeIndicators + (filter.includeRevoked ? collection.revokedIndicators : 0);
}

async function findManageableIndicator(ctx: RequestContext, id: string): Promise<Indicator> {
  const indicator = await findVisibleIndicator(ctx.prisma, ctx.access, id);
  if (!indicator) throw new NotFoundError('Indicator');
  await findManageableCollection(ctx, indicator.collectionId);
  return indicator;
}

export async function updateIndicator(
  ctx: RequestContext,
  input: IndicatorPropertiesInput & { id: string },
): Promise<Indicator> {
  const indicator = await findManageableIndicator(ctx, input.id);
  if (indicator.revokedAt) throw new IndicatorRevokedError();
  const properties = await parseIndicatorProperties(ctx.prisma, input, 'input');
  const validFrom = properties.validFrom ?? indicator.validFrom;
  const validUntil = properties.validUntil === undefined ? indicator.validUntil : properties.validUntil;
  const problem = checkValidity(validFrom, validUntil);
  if (problem)
    throw new ValidationError(properties.validUntil !== undefined ? 'input.validUntil' : 'input.validFrom', problem);
  // Detection sees the new validity from the next event batch on (see awaitBatchesInFlight).
  return ctx.prisma.$transaction(async (tx) => {
    await awaitBatchesInFlight(tx, indicator.collectionId);
    return updateIndicatorProperties(tx, indicator.id, properties);
  });
}

/** Irreversible; revoking a revoked indicator changes nothing. */
export async function revokeIndicator(ctx: RequestContext, id: string): Promise<Indicator> {
  const indicator = await findManageableIndicator(ctx, id);
  if (indicator.revokedAt) return indicator;
  // Once this answers, no event batch can still match the indicator (see awaitBatchesInFlight).
  const revoked = await ctx.prisma.$transaction(async (tx) => {
    await awaitBatchesInFlight(tx, indicator.collectionId);
    return markIndicatorRevoked(tx, indicator.id, ctx.viewer.userId);
  });
  return revoked ?? findIndicator(ctx.prisma, indicator.id);
}
