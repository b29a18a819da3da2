// Indicators: listing, edits and revocation. Imports write through src/modules/imports.
import { awaitBatchesInFlight } from '../detection/matching.ts';
import type { Collection, Indicator, Prisma } from '../../generated/prisma/client.ts';
import type { Db } from '../../db/prisma.ts';
import type { ObservableType } from '../../generated/prisma/enums.ts';
import { IndicatorRevokedError, NotFoundError, ValidationError } from '../../errors.ts';
import type { RequestContext } from '../../services.ts';
import { searchText } from '../../stored-text.ts';
import { findManageableCollection } from '../collections/service.ts';
import { phaseKey, resolveKillChainPhase } from '../threats/kill-chain.ts';
import { parseObservable, refang } from './observable.ts';
import { checkValidity, parseIndicatorProperties, type IndicatorPropertiesInput } from './properties.ts';

export interface IndicatorFilter {
  search?: string | null;
  types?: ObservableType[] | null;
  threatIds?: string[] | null;
  killChainPhases?: { killChainName?: string | null; phaseName: string }[] | null;
  includeRevoked?: boolean | null;
  revoked?: boolean | null;
}

export function indicatorWhere(filter: IndicatorFilter): Prisma.IndicatorWhereInput {
  const and: Prisma.IndicatorWhereInput[] = [];
  // `revoked` picks one state; otherwise revoked indicators show only when asked for.
  if (filter.revoked != null) and.push({ revokedAt: filter.revoked ? { not: null } : null });
  else if (!filter.includeRevoked) and.push({ revokedAt: null });
  if (filter.types?.length) and.push({ type: { in: filter.types } });
  if (filter.threatIds?.length) and.push({ threatIds: { hasSome: filter.threatIds } });
  if (filter.killChainPhases?.length) {
    const keys = filter.killChainPhases.map((p, i) => {
      const result = resolveKillChainPhase(p.phaseName, p.killChainName);
      if (!result.ok) throw new ValidationError(`killChainPhases.${i}`, result.message);
      return phaseKey(result.phase);
    });
    and.push({ killChainPhases: { hasSome: keys } });
  }
  const search = searchText('search', filter.search);
  if (search) {
    // Searches are refanged, so a pasted `evil[.]com` finds `evil.com`; the trigram
    // index serves the case-insensitive substring match.
    const term = refang(search);
    const hash = term.toLowerCase();
    // `%` and `_` in the term are literal characters, not LIKE wildcards.
    const literal = term.replace(/[\\%_]/g, (c) => `\\${c}`);
    const or: Prisma.IndicatorWhereInput[] = [
      { value: { contains: literal, mode: 'insensitive' } },
      { md5: hash },
      { sha1: hash },
      { sha256: hash },
    ];
    // A whole value pasted as it was imported (`münchen.example`, `2001:0DB8::5`,
    // `evil.com.`) finds the indicator by its canonical form.
    const parsed = parseObservable(search);
    if (parsed.ok) or.push({ value: parsed.observable.value });
    and.push({ OR: or });
  }
  return { AND: and };
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
  if (narrowed) return db.indicator.count({ where: { collectionId: collection.id, ...indicatorWhere(filter) } });
  if (filter.revoked != null) return filter.revoked ? collection.revokedIndicators : collection.activeIndicators;
  return collection.activeIndicators + (filter.includeRevoked ? collection.revokedIndicators : 0);
}

async function findManageableIndicator(ctx: RequestContext, id: string): Promise<Indicator> {
  const indicator = await ctx.prisma.indicator.findFirst({
    where: { id, collection: ctx.access.collectionFilter() },
  });
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
    return tx.indicator.update({ where: { id: indicator.id }, data: { ...properties, updatedAt: new Date() } });
  });
}

/** Irreversible; revoking a revoked indicator changes nothing. */
export async function revokeIndicator(ctx: RequestContext, id: string): Promise<Indicator> {
  const indicator = await findManageableIndicator(ctx, id);
  if (indicator.revokedAt) return indicator;
  // Once this answers, no event batch can still match the indicator (see awaitBatchesInFlight).
  const [revoked] = await ctx.prisma.$transaction(async (tx) => {
    await awaitBatchesInFlight(tx, indicator.collectionId);
    return tx.indicator.updateManyAndReturn({
      where: { id: indicator.id, revokedAt: null },
      data: { revokedAt: new Date(), revokedById: ctx.viewer.userId, updatedAt: new Date() },
    });
  });
  return revoked ?? ctx.prisma.indicator.findUniqueOrThrow({ where: { id: indicator.id } });
}
