import { builder } from '../../graphql/builder.ts';
import { Permission } from '../../generated/prisma/enums.ts';
import { nodeAccess } from '../../graphql/visible-nodes.ts';
import { personShownTo } from './access.ts';
import { findUser, listCommunities, listMemberships } from './store.ts';
import { actedOnCommunityFilter, visibleCommunityFilter } from './visibility.ts';

export const PermissionEnum = builder.enumType(Permission, { name: 'Permission' });

export const Community = builder.prismaNode('Community', {
  id: { field: 'id' },
  // node(id) and nodes(ids) answer null for a missing or hidden id, never an error.
  nullable: true,
  description: 'A tenant. MSSP communities have sub-communities.',
  // Only communities the viewer acts on, or sees above them, resolve; any other id
  // answers like a missing one.
  findUnique: nodeAccess('Community', 'community', (ctx) => visibleCommunityFilter(ctx.access)),
  fields: (t) => ({
    name: t.exposeString('name'),
    parent: t.relation('parent', {
      nullable: true,
      description: 'The MSSP community above.',
      query: (_, ctx) => ({ where: visibleCommunityFilter(ctx.access) }),
    }),
    children: t.relation('children', {
      query: (_, ctx) => ({ where: actedOnCommunityFilter(ctx.access), orderBy: { name: 'asc' } }),
    }),
    permissions: t.field({
      type: [PermissionEnum],
      description: "The viewer's permissions in this community.",
      resolve: (community, _, ctx) => Object.values(Permission).filter((p) => ctx.access.can(p, community.id)),
    }),
  }),
});

builder.queryField('communities', (t) =>
  t.prismaField({
    type: ['Community'],
    description: "Communities the request acts on (all the viewer's, or those named in X-Community-Ids).",
    resolve: (query, _, __, ctx) => listCommunities(ctx.prisma, actedOnCommunityFilter(ctx.access), query),
  }),
);

const ViewerRef = builder.objectRef<{ userId: string }>('Viewer').implement({
  description: 'The user behind the API key.',
  fields: (t) => ({
    id: t.id({ resolve: (viewer) => viewer.userId }),
    user: t.prismaField({
      type: 'User',
      resolve: (query, viewer, _, ctx) => findUser(ctx.prisma, viewer.userId, query),
    }),
    memberships: t.prismaField({
      type: ['Membership'],
      resolve: (query, viewer, _, ctx) => listMemberships(ctx.prisma, viewer.userId, query),
    }),
    communities: t.prismaField({
      type: ['Community'],
      description: 'Every community the request acts on, with the permissions the viewer has there.',
      resolve: (query, _, __, ctx) => listCommunities(ctx.prisma, actedOnCommunityFilter(ctx.access), query),
    }),
  }),
});

const personSelect = {
  id: true,
  name: true,
  email: true,
  memberships: { select: { communityId: true, role: { select: { name: true } } } },
} as const;

builder.prismaObject('User', {
  description: "A person. Staff of a community above the viewer's are shown by role only (e.g. `MSSP analyst`).",
  select: { id: true },
  fields: (t) => ({
    name: t.string({ select: personSelect, resolve: (user, _, ctx) => personShownTo(ctx.access, user).name }),
    email: t.string({
      nullable: true,
      description: 'null for people shown by role only.',
      select: personSelect,
      resolve: (user, _, ctx) => personShownTo(ctx.access, user).email,
    }),
  }),
});

builder.prismaObject('Membership', {
  description: 'A role held in a community (and, through it, in its sub-communities).',
  fields: (t) => ({ community: t.relation('community'), role: t.relation('role') }),
});

builder.prismaObject('Role', {
  fields: (t) => ({
    name: t.exposeString('name'),
    description: t.exposeString('description', { nullable: true }),
    permissions: t.field({ type: [PermissionEnum], resolve: (role) => role.permissions }),
    builtIn: t.exposeBoolean('builtIn'),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({ type: ViewerRef, resolve: (_, __, ctx) => ({ userId: ctx.viewer.userId }) }),
);
