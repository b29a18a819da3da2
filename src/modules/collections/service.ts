// Collections: named sets of indicators owned by one community.
import type { RequestContext } from '../../services.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../errors.ts';
import { Prisma, type Collection } from '../../generated/prisma/client.ts';
import type { Permission } from '../../generated/prisma/enums.ts';
import { searchText, storedText } from '../../stored-text.ts';
import type { Access } from '../communities/access.ts';
import { collectionFilter } from '../communities/visibility.ts';
import { findCollection, insertCollection, updateCollectionRow } from './store.ts';

const NAME_MAX = 200;
const DESCRIPTION_MAX = 2000;

export interface CreateCollectionInput {
  communityId: string;
  name: string;
  description?: string | null;
  availableForSubCommunities?: boolean | null;
  createDetectionRule?: boolean | null;
}

export interface UpdateCollectionInput {
  id: string;
  name?: string | null;
  description?: string | null;
  availableForSubCommunities?: boolean | null;
}

export function cleanName(name: string): string {
  const text = storedText('input.name', name);
  if (!text) throw new ValidationError('input.name', 'Name must not be empty');
  if (text.length > NAME_MAX) throw new ValidationError('input.name', `Name is longer than ${NAME_MAX} characters`);
  return text;
}

function cleanDescription(description: string | null | undefined): string | null | undefined {
  if (description === undefined) return undefined;
  const text = description === null ? null : storedText('input.description', description, { multiline: true }) || null;
  if (text && text.length > DESCRIPTION_MAX) {
    throw new ValidationError('input.description', `Description is longer than ${DESCRIPTION_MAX} characters`);
  }
  return text;
}

/** The collections a list shows: those the viewer may read, narrowed by the list's arguments. */
export function collectionsWhere(
  access: Access,
  args: { search?: string | null; communityId?: { id: string } | null },
): Prisma.CollectionWhereInput {
  const search = searchText('search', args.search);
  return {
    AND: [
      collectionFilter(access),
      search ? { name: { contains: search, mode: 'insensitive' as const } } : {},
      args.communityId ? { communityId: args.communityId.id } : {},
    ],
  };
}

/** The viewer must hold `permission` in the community itself; an unknown community reads as missing. */
export function requireCommunityPermission(ctx: RequestContext, communityId: string, permission: Permission): void {
  if (!ctx.access.communityIds.includes(communityId)) throw new NotFoundError('Community');
  if (!ctx.access.can(permission, communityId)) {
    throw new ForbiddenError(`${permission} is needed in this community`, permission);
  }
}

/** A collection the viewer may read; foreign and missing ids answer alike. */
export async function findReadableCollection(
  ctx: RequestContext,
  id: string,
  permission: Permission = 'VIEW_IOC_COLLECTIONS',
): Promise<Collection> {
  const collection = await findCollection(ctx.prisma, { id, ...collectionFilter(ctx.access, permission) });
  if (!collection) throw new NotFoundError('Collection');
  return collection;
}

/**
 * A collection the viewer may change (or, with MANAGE_DETECTION_RULES, set detection on):
 * it must be managed from its own community.
 */
export async function findManageableCollection(
  ctx: RequestContext,
  id: string,
  permission: Permission = 'MANAGE_IOC_COLLECTIONS',
): Promise<Collection> {
  const collection = await findReadableCollection(ctx, id);
  if (!ctx.access.communityIds.includes(collection.communityId)) {
    throw new ForbiddenError(
      'This collection is shared with your community; it can only be changed from the community that owns it',
      permission,
    );
  }
  requireCommunityPermission(ctx, collection.communityId, permission);
  return collection;
}

export const isUniqueViolation = (error: unknown) =>
  error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';

const nameTaken = (name: string) => new ConflictError(`A collection named "${name}" already exists in this community`);

/**
 * Work another module does on a new collection inside the transaction that creates it
 * (detection: the rule asked for with `createDetectionRule`), so that neither exists alone.
 */
export type NewCollectionStep = (tx: Prisma.TransactionClient, collection: Collection) => Promise<unknown>;

export async function createCollection(
  ctx: RequestContext,
  input: CreateCollectionInput,
  withTheCollection?: NewCollectionStep,
): Promise<Collection> {
  requireCommunityPermission(ctx, input.communityId, 'MANAGE_IOC_COLLECTIONS');
  const withRule = input.createDetectionRule ?? false;
  if (withRule) requireCommunityPermission(ctx, input.communityId, 'MANAGE_DETECTION_RULES');
  const name = cleanName(input.name);
  try {
    return await ctx.prisma.$transaction(async (tx) => {
      const collection = await insertCollection(tx, {
        communityId: input.communityId,
        name,
        description: cleanDescription(input.description) ?? null,
        availableForSubCommunities: input.availableForSubCommunities ?? false,
        createDetectionRule: withRule,
        createdById: ctx.viewer.userId,
      });
      await withTheCollection?.(tx, collection);
      return collection;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken(name);
    throw error;
  }
}

export async function updateCollection(ctx: RequestContext, input: UpdateCollectionInput): Promise<Collection> {
  const collection = await findManageableCollection(ctx, input.id);
  const name = input.name == null ? undefined : cleanName(input.name);
  try {
    return await updateCollectionRow(ctx.prisma, collection.id, {
      name,
      description: cleanDescription(input.description),
      availableForSubCommunities: input.availableForSubCommunities ?? undefined,
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken(name ?? collection.name);
    throw error;
  }
}
