// Every tenancy rule in one place: which rows of each model a caller may see, as the Prisma
// where-clause node(id), lists, counts and relations all use. A rule here is the only one:
// a list never shows what node(id) would hide.
import type { Prisma } from '../../generated/prisma/client.ts';
import type { Permission } from '../../generated/prisma/enums.ts';
import type { Access } from './access.ts';

/** Communities the viewer acts on (all theirs, or those of X-Community-Ids). */
export const actedOnCommunityFilter = (access: Access) =>
  ({ id: { in: access.communityIds } }) satisfies Prisma.CommunityWhereInput;

/**
 * Communities the viewer may see by name: those it acts on and the MSSP communities above
 * them. Under AND, so that it keeps its meaning beside an `id` of the caller's.
 */
export const visibleCommunityFilter = (access: Access) =>
  ({ AND: [{ id: { in: access.visibleCommunityIds } }] }) satisfies Prisma.CommunityWhereInput;

/** Collections readable with `permission`: the community's own, and those shared down by an ancestor. */
export function collectionFilter(
  access: Access,
  permission: Permission = 'VIEW_IOC_COLLECTIONS',
): { OR: Prisma.CollectionWhereInput[] } {
  return {
    OR: [
      { communityId: { in: access.communitiesWith(permission) } },
      { availableForSubCommunities: true, communityId: { in: access.sharingAncestors(permission) } },
    ],
  };
}

/**
 * Collections of the viewer's own communities, never those shared down to them: what is
 * done with a shared collection (imports, retrohunts) counts the work of every
 * sub-community, which no sub-community may learn about another.
 */
const ownCollectionFilter = (access: Access, permission: Permission) =>
  ({ communityId: { in: access.communitiesWith(permission) } }) satisfies Prisma.CollectionWhereInput;

/** Indicators are visible with their collection. */
export const indicatorFilter = (access: Access) =>
  ({ collection: collectionFilter(access) }) satisfies Prisma.IndicatorWhereInput;

/** Rules are visible with their collection. */
export const detectionRuleFilter = (access: Access) =>
  ({ collection: collectionFilter(access) }) satisfies Prisma.DetectionRuleWhereInput;

/**
 * Retrohunts are seen from the collection's own community only, like import jobs: a shared
 * collection's retrohunt counts the events of every sub-community (matches, alertsCreated).
 * (It was `rule: detectionRuleFilter(access)`, which showed them, and their counts, to every
 * sub-community.)
 */
export const retrohuntFilter = (access: Access) =>
  ({
    rule: { collection: ownCollectionFilter(access, 'VIEW_IOC_COLLECTIONS') },
  }) satisfies Prisma.RetrohuntWhereInput;

/** Alerts of the communities where the viewer may see alerts (an MSSP sees its clients'). */
export const alertFilter = (access: Access) =>
  ({ communityId: { in: access.communitiesWith('VIEW_ALERTS') } }) satisfies Prisma.AlertWhereInput;

/**
 * Reports the viewer may read: of a readable collection, and only over communities whose
 * telemetry the viewer may see, every one of them (a report mixes their sightings).
 */
export const telemetryReportFilter = (access: Access) =>
  ({
    collection: collectionFilter(access),
    communities: { every: { communityId: { in: access.communitiesWith('VIEW_IOC_COLLECTIONS_TELEMETRY') } } },
  }) satisfies Prisma.TelemetryReportWhereInput;

/** Import jobs are seen from the collection's own community, not from sub-communities it is shared with. */
export const importJobFilter = (access: Access) =>
  ({ collection: ownCollectionFilter(access, 'VIEW_IOC_COLLECTIONS') }) satisfies Prisma.ImportJobWhereInput;

/** Uploaded files are seen, until they expire, by those who may import them: managers of their collection's community. */
export const uploadedFileFilter = (access: Access) =>
  ({
    kind: 'FILE' as const,
    expiresAt: { gt: new Date() },
    collection: ownCollectionFilter(access, 'MANAGE_IOC_COLLECTIONS'),
  }) satisfies Prisma.ImportSourceWhereInput;

/** The viewer's own notifications, in the communities the request acts on. */
export const notificationFilter = (access: Access) =>
  ({ userId: access.userId, communityId: { in: access.communityIds } }) satisfies Prisma.NotificationWhereInput;
