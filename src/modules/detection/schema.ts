import { Repeater, filter, pipe } from 'graphql-yoga';
import { builder } from '../../graphql/builder.ts';
import { countedConnection } from '../../graphql/counted-connection.ts';
import { addJobSubscription, JobStatusEnum } from '../../graphql/job-subscription.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../errors.ts';
import { AlertStatus, RetrohuntTrigger } from '../../generated/prisma/enums.ts';
import { Collection } from '../collections/schema.ts';
import { Community } from '../communities/schema.ts';
import { Indicator } from '../indicators/schema.ts';
import { nodeAccess, visibleNode } from '../../graphql/visible-nodes.ts';
import { alertFilter, detectionRuleFilter, retrohuntFilter } from '../communities/visibility.ts';
import { alertsWhere } from './alerts.ts';
import { createDetectionRule, setAlertStatus, updateDetectionRule } from './service.ts';
import { alertListing, findLatestRetrohunt, loadAlert } from './store.ts';

const AlertStatusEnum = builder.enumType(AlertStatus, {
  name: 'AlertStatus',
  description: 'OPEN and ACKNOWLEDGED alerts keep counting new matches; a CLOSED one does not.',
});
const RetrohuntTriggerEnum = builder.enumType(RetrohuntTrigger, { name: 'RetrohuntTrigger' });

export const DetectionRule = builder.prismaNode('DetectionRule', {
  id: { field: 'id' },
  nullable: true,
  description: 'Detection on a collection: while enabled, new events are matched against its indicators.',
  findUnique: nodeAccess('DetectionRule', 'detectionRule', (ctx) => detectionRuleFilter(ctx.access)),
  fields: (t) => ({
    name: t.exposeString('name'),
    enabled: t.exposeBoolean('enabled'),
    collection: t.field({ type: Collection, resolve: visibleNode('Collection', (rule) => rule.collectionId) }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    latestRetrohunt: t.prismaField({
      type: 'Retrohunt',
      nullable: true,
      description: 'The newest scan of stored events for this rule, if any.',
      resolve: (query, rule, _, ctx) =>
        // Filtered like Retrohunt nodes: a sub-community sees a shared collection's rule, not its retrohunts.
        findLatestRetrohunt(ctx.prisma, query, rule.id, retrohuntFilter(ctx.access)),
    }),
    retrohunts: t.relatedConnection(
      'retrohunts',
      {
        cursor: 'id',
        description: 'Newest first.',
        query: (_, ctx) => ({ where: retrohuntFilter(ctx.access), orderBy: { id: 'desc' } }),
        totalCount: true,
      },
      { name: 'RetrohuntConnection' },
      { name: 'RetrohuntEdge' },
    ),
  }),
});

export const Retrohunt = builder.prismaNode('Retrohunt', {
  id: { field: 'id' },
  nullable: true,
  description:
    "A scan of the stored events for a rule, over each indicator's validity plus 5 days on either side; its alerts are marked retrohunt.",
  findUnique: nodeAccess('Retrohunt', 'retrohunt', (ctx) => retrohuntFilter(ctx.access)),
  fields: (t) => ({
    rule: t.field({ type: DetectionRule, resolve: visibleNode('DetectionRule', (r) => r.ruleId) }),
    trigger: t.field({ type: RetrohuntTriggerEnum, resolve: (r) => r.trigger }),
    status: t.field({ type: JobStatusEnum, resolve: (r) => r.status }),
    indicatorsSince: t.expose('indicatorsSince', {
      type: 'DateTime',
      nullable: true,
      description: 'Only indicators added since then (after an import); null: all of them.',
    }),
    rangeStart: t.expose('rangeStart', { type: 'DateTime', nullable: true, description: 'Oldest event time to scan.' }),
    rangeEnd: t.expose('rangeEnd', { type: 'DateTime', nullable: true, description: 'Newest event time to scan.' }),
    scannedUntil: t.expose('scannedUntil', {
      type: 'DateTime',
      nullable: true,
      description: 'Progress: events from rangeStart up to this time have been scanned.',
    }),
    matches: t.exposeInt('matches', { description: 'Events newly matched (each counted once per indicator).' }),
    alertsCreated: t.exposeInt('alertsCreated'),
    failureMessage: t.exposeString('failureMessage', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
  }),
});

export const Alert = builder.prismaNode('Alert', {
  id: { field: 'id' },
  nullable: true,
  description: "Matches of one rule's indicator in one community's events.",
  findUnique: nodeAccess('Alert', 'alert', (ctx) => alertFilter(ctx.access)),
  fields: (t) => ({
    // Seeing an alert (VIEW_ALERTS) does not grant reading its collection: these are null
    // for a viewer who may not see them as node(id), who still sees `value` and `field`.
    rule: t.field({
      type: DetectionRule,
      nullable: true,
      resolve: visibleNode('DetectionRule', (alert) => alert.ruleId),
    }),
    indicator: t.field({
      type: Indicator,
      nullable: true,
      resolve: visibleNode('Indicator', (alert) => alert.indicatorId),
    }),
    collection: t.field({
      type: Collection,
      nullable: true,
      resolve: visibleNode('Collection', (alert) => alert.collectionId),
    }),
    community: t.field({
      type: Community,
      description: 'The community whose events matched.',
      resolve: visibleNode('Community', (alert) => alert.communityId),
    }),
    field: t.exposeString('field', { description: 'The ECS field of the first match, e.g. `destination.ip`.' }),
    value: t.exposeString('value', { description: 'The normalised value that matched.' }),
    excerpt: t.expose('excerpt', {
      type: 'JSON',
      nullable: true,
      description: 'The first matching event as sent (very large events are cut short; null when no longer stored).',
    }),
    firstSeen: t.expose('firstSeen', { type: 'DateTime' }),
    lastSeen: t.expose('lastSeen', { type: 'DateTime' }),
    count: t.exposeInt('count', { description: 'Matching events while the alert was open.' }),
    status: t.field({ type: AlertStatusEnum, resolve: (a) => a.status }),
    retrohunt: t.exposeBoolean('retrohunt', { description: 'Raised by a retrohunt (a stored event).' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.prismaObjectField(Collection, 'detectionRules', (t) =>
  t.relation('detectionRules', { query: { orderBy: { id: 'asc' } } }),
);

builder.queryField('alerts', (t) =>
  t.prismaConnection(
    {
      type: 'Alert',
      cursor: 'id',
      description: 'Alerts of the communities where the viewer may see alerts, newest first.',
      authScopes: { permission: 'VIEW_ALERTS' },
      args: {
        collectionId: t.arg.globalID({ for: Collection }),
        ruleId: t.arg.globalID({ for: DetectionRule }),
        status: t.arg({ type: AlertStatusEnum }),
        retrohunt: t.arg.boolean(),
      },
      ...countedConnection(alertListing, (ctx, args: Parameters<typeof alertsWhere>[1]) =>
        alertsWhere(ctx.access, args),
      ),
    },
    { name: 'AlertConnection' },
    { name: 'AlertEdge' },
  ),
);

const ruleErrors = [ValidationError, NotFoundError, ForbiddenError, ConflictError];

const CreateDetectionRuleInput = builder.inputType('CreateDetectionRuleInput', {
  fields: (t) => ({
    collectionId: t.globalID({ for: Collection, required: true }),
    name: t.string({ description: "Defaults to the collection's name." }),
    enabled: t.boolean({ defaultValue: true, description: 'An enabled rule also scans the stored events at once.' }),
  }),
});

builder.mutationField('createDetectionRule', (t) =>
  t.field({
    type: DetectionRule,
    nullable: false,
    authScopes: { permission: 'MANAGE_DETECTION_RULES' },
    args: { input: t.arg({ type: CreateDetectionRuleInput, required: true }) },
    errors: { types: ruleErrors, dataField: { name: 'detectionRule' } },
    resolve: (_, { input }, ctx) => createDetectionRule(ctx, { ...input, collectionId: input.collectionId.id }),
  }),
);

const UpdateDetectionRuleInput = builder.inputType('UpdateDetectionRuleInput', {
  description: 'Fields left out are unchanged. Enabling a rule scans the events stored while it was off.',
  fields: (t) => ({
    id: t.globalID({ for: DetectionRule, required: true }),
    name: t.string(),
    enabled: t.boolean(),
  }),
});

builder.mutationField('updateDetectionRule', (t) =>
  t.field({
    type: DetectionRule,
    nullable: false,
    authScopes: { permission: 'MANAGE_DETECTION_RULES' },
    args: { input: t.arg({ type: UpdateDetectionRuleInput, required: true }) },
    errors: { types: ruleErrors, dataField: { name: 'detectionRule' } },
    resolve: (_, { input }, ctx) => updateDetectionRule(ctx, { ...input, id: input.id.id }),
  }),
);

const UpdateAlertStatusInput = builder.inputType('UpdateAlertStatusInput', {
  fields: (t) => ({
    id: t.globalID({ for: Alert, required: true }),
    status: t.field({ type: AlertStatusEnum, required: true }),
  }),
});

builder.mutationField('updateAlertStatus', (t) =>
  t.field({
    type: Alert,
    nullable: false,
    authScopes: { permission: 'MANAGE_DETECTION_RULES' },
    args: { input: t.arg({ type: UpdateAlertStatusInput, required: true }) },
    errors: { types: [NotFoundError, ForbiddenError, ConflictError], dataField: { name: 'alert' } },
    resolve: (_, { input }, ctx) => setAlertStatus(ctx, input.id.id, input.status),
  }),
);

builder.subscriptionField('alertCreated', (t) =>
  t.prismaField({
    type: 'Alert',
    description: "New alerts in the communities where the viewer may see alerts (an MSSP sees its clients').",
    authScopes: { permission: 'VIEW_ALERTS' },
    args: { collectionId: t.arg.globalID({ for: Collection, description: 'Only alerts of this collection.' }) },
    subscribe: (_, { collectionId }, ctx) =>
      pipe(
        Repeater.merge(
          ctx.access.communitiesWith('VIEW_ALERTS').map((communityId) =>
            pipe(
              ctx.pubsub.subscribe('alertCreated', communityId),
              // The access of now (src/graphql/live-access.ts): a community lost since is skipped.
              filter(() => ctx.access.can('VIEW_ALERTS', communityId)),
            ),
          ),
        ),
        filter((event) => !collectionId || event.collectionId === collectionId.id),
      ),
    resolve: (query, event: { id: string }, _, ctx) => loadAlert(ctx.prisma, query, event.id, alertFilter(ctx.access)),
  }),
);

addJobSubscription(
  'retrohuntUpdated',
  Retrohunt,
  'The retrohunt as it is now, then after every scanned day; completes when it has ended.',
);
