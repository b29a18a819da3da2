import { builder } from '../../graphql/builder.ts';
import { countedConnection } from '../../graphql/counted-connection.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../errors.ts';
import { Community } from '../communities/schema.ts';
import { nodeAccess, visibleNode } from '../../graphql/visible-nodes.ts';
import { collectionFilter } from '../communities/visibility.ts';
import { ruleOfNewCollection } from '../detection/service.ts';
import { collectionsWhere, createCollection, updateCollection } from './service.ts';
import { collectionListing } from './store.ts';

export const Collection = builder.prismaNode('Collection', {
  id: { field: 'id' },
  // node(id) and nodes(ids) answer null for a missing or hidden id, never an error.
  nullable: true,
  description: 'A named set of indicators, owned by one community.',
  findUnique: nodeAccess('Collection', 'collection', (ctx) => collectionFilter(ctx.access)),
  fields: (t) => ({
    name: t.exposeString('name'),
    description: t.exposeString('description', { nullable: true }),
    community: t.field({ type: Community, resolve: visibleNode('Community', (c) => c.communityId) }),
    availableForSubCommunities: t.exposeBoolean('availableForSubCommunities', {
      description: 'Readable from every sub-community; managed only from its own community.',
    }),
    createDetectionRule: t.exposeBoolean('createDetectionRule', {
      description: 'A detection rule was asked for when the collection was created.',
    }),
    viewerCanManage: t.boolean({
      resolve: (collection, _, ctx) => ctx.access.can('MANAGE_IOC_COLLECTIONS', collection.communityId),
    }),
    indicatorCount: t.exposeInt('activeIndicators', { description: 'Indicators that are not revoked.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.queryField('collections', (t) =>
  t.prismaConnection(
    {
      type: 'Collection',
      cursor: 'id',
      description: 'Collections the viewer may read, newest first; `search` matches the name.',
      authScopes: { permission: 'VIEW_IOC_COLLECTIONS' },
      args: {
        search: t.arg.string(),
        communityId: t.arg.globalID({ for: Community, description: 'Only collections owned by this community.' }),
      },
      ...countedConnection(collectionListing, (ctx, args: Parameters<typeof collectionsWhere>[1]) =>
        collectionsWhere(ctx.access, args),
      ),
    },
    { name: 'CollectionConnection' },
    { name: 'CollectionEdge' },
  ),
);

const CreateCollectionInput = builder.inputType('CreateCollectionInput', {
  fields: (t) => ({
    communityId: t.globalID({ for: Community, required: true }),
    name: t.string({ required: true }),
    description: t.string(),
    availableForSubCommunities: t.boolean({ defaultValue: false }),
    createDetectionRule: t.boolean({
      defaultValue: false,
      description: 'Also create a detection rule that uses the collection.',
    }),
  }),
});

const UpdateCollectionInput = builder.inputType('UpdateCollectionInput', {
  description: 'Fields left out are unchanged; `description: null` clears it.',
  fields: (t) => ({
    id: t.globalID({ for: Collection, required: true }),
    name: t.string(),
    description: t.string(),
    availableForSubCommunities: t.boolean(),
  }),
});

const collectionErrors = [ValidationError, NotFoundError, ForbiddenError, ConflictError];

builder.mutationField('createCollection', (t) =>
  t.field({
    authScopes: { permission: 'MANAGE_IOC_COLLECTIONS' },
    type: Collection,
    args: { input: t.arg({ type: CreateCollectionInput, required: true }) },
    errors: { types: collectionErrors, dataField: { name: 'collection' } },
    resolve: (_, { input }, ctx) =>
      createCollection(
        ctx,
        { ...input, communityId: input.communityId.id },
        input.createDetectionRule ? ruleOfNewCollection(ctx.viewer.userId) : undefined,
      ),
  }),
);

builder.mutationField('updateCollection', (t) =>
  t.field({
    authScopes: { permission: 'MANAGE_IOC_COLLECTIONS' },
    type: Collection,
    args: { input: t.arg({ type: UpdateCollectionInput, required: true }) },
    errors: { types: collectionErrors, dataField: { name: 'collection' } },
    resolve: (_, { input }, ctx) => updateCollection(ctx, { ...input, id: input.id.id }),
  }),
);
