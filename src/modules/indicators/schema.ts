import { builder } from '../../graphql/builder.ts';
import { ForbiddenError, IndicatorRevokedError, NotFoundError, ValidationError } from '../../errors.ts';
import { ObservableType } from '../../generated/prisma/enums.ts';
import { Collection } from '../collections/schema.ts';
import { phaseFromKey } from '../threats/kill-chain.ts';
import { KillChainPhase, KillChainPhaseInput, Threat } from '../threats/schema.ts';
import { fileHashList, type HashAlgorithm } from './observable.ts';
import { nodeAccess, visibleNode } from '../../graphql/visible-nodes.ts';
import { indicatorFilter } from '../communities/visibility.ts';
import { findUserIfAny } from '../communities/store.ts';
import {
  indicatorCriteria,
  indicatorTotal,
  revokeIndicator,
  updateIndicator,
  type IndicatorFilter,
} from './service.ts';
import { listIndicators } from './store.ts';

export const ObservableTypeEnum = builder.enumType(ObservableType, { name: 'ObservableType' });
const HashAlgorithmEnum = builder.enumType('HashAlgorithm', { values: ['MD5', 'SHA1', 'SHA256', 'SHA512'] as const });

const FileHash = builder.objectRef<{ algorithm: HashAlgorithm; value: string }>('FileHash').implement({
  fields: (t) => ({
    algorithm: t.field({ type: HashAlgorithmEnum, resolve: (h) => h.algorithm }),
    value: t.exposeString('value'),
  }),
});

export const Indicator = builder.prismaNode('Indicator', {
  id: { field: 'id' },
  // node(id) and nodes(ids) answer null for a missing or hidden id, never an error.
  nullable: true,
  description: 'An observable (IP, domain, URL, email or file) with its properties, in one collection.',
  findUnique: nodeAccess('Indicator', 'indicator', (ctx) => indicatorFilter(ctx.access)),
  fields: (t) => ({
    collection: t.field({ type: Collection, resolve: visibleNode('Collection', (i) => i.collectionId) }),
    type: t.field({ type: ObservableTypeEnum, resolve: (i) => i.type }),
    value: t.exposeString('value', { description: 'Canonical form; for FILE the strongest hash.' }),
    hashes: t.field({
      type: [FileHash],
      description: 'FILE only: every known hash of the file.',
      resolve: (i) => (i.type === 'FILE' ? fileHashList(i) : []),
    }),
    threats: t.field({
      type: [Threat],
      resolve: async (i, _, ctx) =>
        (await ctx.loaders.threat.loadMany(i.threatIds)).filter((x) => x && !(x instanceof Error)) as never,
    }),
    validFrom: t.expose('validFrom', { type: 'DateTime' }),
    validUntil: t.expose('validUntil', { type: 'DateTime', nullable: true }),
    killChainPhases: t.field({ type: [KillChainPhase], resolve: (i) => i.killChainPhases.map(phaseFromKey) }),
    description: t.exposeString('description', { nullable: true }),
    revoked: t.boolean({ resolve: (i) => i.revokedAt !== null }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    revokedBy: t.prismaField({
      type: 'User',
      nullable: true,
      resolve: (query, i, _, ctx) => (i.revokedById ? findUserIfAny(ctx.prisma, i.revokedById, query) : null),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.prismaObjectField(Collection, 'indicators', (t) =>
  t.prismaConnection(
    {
      type: Indicator,
      cursor: 'id',
      description: 'Newest first. `search` matches part of the value (defanged input is accepted) or a whole hash.',
      args: {
        search: t.arg.string(),
        types: t.arg({ type: [ObservableTypeEnum] }),
        threatIds: t.arg.globalIDList({ for: Threat }),
        killChainPhases: t.arg({ type: [KillChainPhaseInput] }),
        includeRevoked: t.arg.boolean({ defaultValue: false }),
        revoked: t.arg.boolean({ description: 'true: only revoked; false: only active. Overrides includeRevoked.' }),
      },
      resolve: (query, collection, args, ctx) =>
        listIndicators(ctx.prisma, query, collection.id, indicatorCriteria(filterOf(args))),
      totalCount: (collection, args, ctx) => indicatorTotal(ctx.prisma, collection, filterOf(args)),
    },
    { name: 'IndicatorConnection' },
    { name: 'IndicatorEdge' },
  ),
);

/** The listing's arguments as the service's filter (raw threat ids). */
const filterOf = (
  args: Omit<IndicatorFilter, 'threatIds'> & { threatIds?: { id: string }[] | null },
): IndicatorFilter => ({
  ...args,
  threatIds: args.threatIds?.map((threat) => threat.id),
});

export const IndicatorPropertiesInput = builder.inputType('IndicatorPropertiesInput', {
  description: 'Properties shared by the imported indicators. Threats must exist in the catalogue.',
  fields: (t) => ({
    threatIds: t.globalIDList({ for: Threat }),
    validFrom: t.field({ type: 'DateTime', description: 'Default: the time of the import.' }),
    validUntil: t.field({ type: 'DateTime', description: 'Must be after validFrom.' }),
    killChainPhases: t.field({ type: [KillChainPhaseInput] }),
    description: t.string({ description: 'At most 500 characters.' }),
  }),
});

const UpdateIndicatorInput = builder.inputType('UpdateIndicatorInput', {
  description: 'Fields left out are unchanged; lists replace what is stored. The observable cannot be edited.',
  fields: (t) => ({
    id: t.globalID({ for: Indicator, required: true }),
    threatIds: t.globalIDList({ for: Threat }),
    validFrom: t.field({ type: 'DateTime' }),
    validUntil: t.field({ type: 'DateTime', description: 'null removes the end of validity.' }),
    killChainPhases: t.field({ type: [KillChainPhaseInput] }),
    description: t.string(),
  }),
});

const RevokeIndicatorInput = builder.inputType('RevokeIndicatorInput', {
  fields: (t) => ({ id: t.globalID({ for: Indicator, required: true }) }),
});

builder.mutationField('updateIndicator', (t) =>
  t.field({
    authScopes: { permission: 'MANAGE_IOC_COLLECTIONS' },
    type: Indicator,
    args: { input: t.arg({ type: UpdateIndicatorInput, required: true }) },
    errors: {
      types: [ValidationError, NotFoundError, ForbiddenError, IndicatorRevokedError],
      dataField: { name: 'indicator' },
    },
    resolve: (_, { input }, ctx) =>
      updateIndicator(ctx, { ...input, id: input.id.id, threatIds: input.threatIds?.map((threat) => threat.id) }),
  }),
);

builder.mutationField('revokeIndicator', (t) =>
  t.field({
    authScopes: { permission: 'MANAGE_IOC_COLLECTIONS' },
    type: Indicator,
    description: 'Removes the indicator from detection for good; it is kept for audit.',
    args: { input: t.arg({ type: RevokeIndicatorInput, required: true }) },
    errors: { types: [NotFoundError, ForbiddenError], dataField: { name: 'indicator' } },
    resolve: (_, { input }, ctx) => revokeIndicator(ctx, input.id.id),
  }),
);
