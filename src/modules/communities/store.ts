// Every query of the tenancy tables: communities (with their indicator count, the quota), users,
// memberships, roles and API keys.
import type pg from 'pg';
import type { Selection } from '../../db/listing.ts';
import type { Db } from '../../db/prisma.ts';
import type { Prisma } from '../../generated/prisma/client.ts';
import type { Permission } from '../../generated/prisma/enums.ts';

/** The key's holder as a request sees it. */
export interface Viewer {
  userId: string;
  name: string;
  apiKeyId: string;
}

/** What a GraphQL field asks to load with a row (Pothos' `query`). */

// ---- communities

export const findCommunitiesByIdOrName = (db: Db, where: { id: string } | { name: string }) =>
  db.community.findMany({ where, select: { id: true, name: true } });

/** A community of this name directly under `parentId` (at the top level for null). */
export const findSiblingCommunity = (db: Db, name: string, parentId: string | null) =>
  db.community.findFirst({ where: { name, parentId }, select: { id: true } });

export const insertCommunity = (db: Db, data: { name: string; parentId: string | null }) =>
  db.community.create({ data });

export const countCommunities = (db: Db) => db.community.count();

export const allCommunities = (db: Db) =>
  db.community.findMany({ select: { id: true, name: true, parentId: true }, orderBy: { name: 'asc' } });

/** The oldest top-level community of this name. */
export const findTopCommunity = (db: Db, name: string) =>
  db.community.findFirst({ where: { name, parentId: null }, select: { id: true }, orderBy: { createdAt: 'asc' } });

/** Communities by name, for a GraphQL list. */
export const listCommunities = (
  db: Db,
  where: Prisma.CommunityWhereInput,
  query: Selection<Prisma.CommunitySelect, Prisma.CommunityInclude>,
) => db.community.findMany({ ...query, where, orderBy: { name: 'asc' } });

/** A community and every community below it. */
export async function communityAndDescendantIds(db: Db, communityId: string): Promise<string[]> {
  const rows = await db.$queryRaw<{ id: string }[]>`
    WITH RECURSIVE tree AS (
      SELECT id FROM communities WHERE id = ${communityId}::uuid
      UNION ALL
      SELECT c.id FROM communities c JOIN tree ON c.parent_id = tree.id
    )
    SELECT id::text FROM tree`;
  return rows.map((r) => r.id);
}

/** The communities above one, nearest first. */
export async function ancestorIdsOf(db: Db, communityId: string): Promise<string[]> {
  const rows = await db.$queryRaw<{ id: string }[]>`
    WITH RECURSIVE up AS (
      SELECT parent_id AS id, 1 AS depth FROM communities WHERE id = ${communityId}::uuid
      UNION ALL
      SELECT c.parent_id, up.depth + 1 FROM communities c JOIN up ON c.id = up.id
    )
    SELECT id::text FROM up WHERE id IS NOT NULL ORDER BY depth`;
  return rows.map((r) => r.id);
}

/**
 * Effective permissions of a user in every community reached through a membership (its
 * community and all below it), with the ancestors of each, nearest first.
 */
export function effectivePermissions(db: Db, userId: string) {
  return db.$queryRaw<{ id: string; permissions: Permission[]; ancestors: string[] }[]>`
    WITH RECURSIVE reach AS (
      SELECT m.community_id AS id, r.permissions
        FROM memberships m JOIN roles r ON r.id = m.role_id
       WHERE m.user_id = ${userId}::uuid
      UNION ALL
      SELECT c.id, reach.permissions FROM communities c JOIN reach ON c.parent_id = reach.id
    ), effective AS (
      SELECT reach.id, array_agg(DISTINCT p) AS permissions
        FROM reach CROSS JOIN LATERAL unnest(reach.permissions) AS p
       GROUP BY reach.id
    ), up AS (
      SELECT e.id AS origin, c.parent_id AS id, 1 AS depth FROM effective e JOIN communities c ON c.id = e.id
      UNION ALL
      SELECT up.origin, c.parent_id, up.depth + 1 FROM up JOIN communities c ON c.id = up.id WHERE up.id IS NOT NULL
    )
    SELECT e.id::text, e.permissions::text[] AS permissions,
           COALESCE((SELECT array_agg(up.id::text ORDER BY up.depth) FROM up WHERE up.origin = e.id AND up.id IS NOT NULL), '{}') AS ancestors
      FROM effective e`;
}

// ---- users

export const findUserBy = (db: Db, where: { id: string } | { email: string }) =>
  db.user.findFirst({ where, select: { id: true, email: true } });

export const insertUser = (db: Db, data: { name: string; email: string }) => db.user.create({ data });

export const findUser = (db: Db, id: string, query: Selection<Prisma.UserSelect, Prisma.UserInclude>) =>
  db.user.findUniqueOrThrow({ ...query, where: { id } });

/** A user named by another row (who revoked an indicator); null if the account is gone. */
export const findUserIfAny = (db: Db, id: string, query: Selection<Prisma.UserSelect, Prisma.UserInclude>) =>
  db.user.findUnique({ ...query, where: { id } });

// ---- roles and memberships

export const upsertBuiltInRole = (db: Db, role: { name: string; description: string; permissions: Permission[] }) =>
  db.role.upsert({
    where: { name: role.name },
    create: { ...role, builtIn: true },
    update: { permissions: role.permissions, description: role.description, builtIn: true },
  });

export const findRoleByName = (db: Db, name: string) =>
  db.role.findUnique({ where: { name }, select: { id: true, name: true } });

export const allRoles = (db: Db) =>
  db.role.findMany({
    select: { name: true, description: true, permissions: true, builtIn: true },
    orderBy: { name: 'asc' },
  });

export const insertRole = (db: Db, data: { name: string; permissions: Permission[] }) => db.role.create({ data });

type MembershipKey = { userId: string; communityId: string };

export const findMembershipRoleName = async (db: Db, { userId, communityId }: MembershipKey) =>
  (
    await db.membership.findUnique({
      where: { userId_communityId: { userId, communityId } },
      select: { role: { select: { name: true } } },
    })
  )?.role.name ?? null;

/** Gives the user the role in the community, replacing the one held there. */
export const upsertMembership = (db: Db, membership: MembershipKey & { roleId: string }) =>
  db.membership.upsert({
    where: { userId_communityId: { userId: membership.userId, communityId: membership.communityId } },
    create: membership,
    update: { roleId: membership.roleId },
  });

export const listMemberships = (
  db: Db,
  userId: string,
  query: Selection<Prisma.MembershipSelect, Prisma.MembershipInclude>,
) => db.membership.findMany({ ...query, where: { userId }, orderBy: { createdAt: 'asc' } });

// ---- API keys

export const insertApiKey = (db: Db, data: { userId: string; name: string; prefix: string; keyHash: string }) =>
  db.apiKey.create({ data, select: { id: true } });

/** The holder of an unrevoked key by its hash. One statement: it runs on every request. */
export async function viewerByKeyHash(db: Db, keyHash: string): Promise<Viewer | null> {
  const [row] = await db.$queryRaw<Viewer[]>`
    SELECT k.id AS "apiKeyId", u.id AS "userId", u.name
      FROM api_keys k JOIN users u ON u.id = k.user_id
     WHERE k.key_hash = ${keyHash} AND k.revoked_at IS NULL`;
  return row ?? null;
}

/** The holder of an unrevoked key by the key's id. */
export async function viewerByKeyId(db: Db, apiKeyId: string): Promise<Viewer | null> {
  const key = await db.apiKey.findFirst({
    where: { id: apiKeyId, revokedAt: null },
    select: { user: { select: { id: true, name: true } } },
  });
  return key && { apiKeyId, userId: key.user.id, name: key.user.name };
}

export const findApiKey = (db: Db, id: string) =>
  db.apiKey.findUnique({ where: { id }, select: { prefix: true, name: true, revokedAt: true } });

export const markApiKeyRevoked = (db: Db, id: string) =>
  db.apiKey.update({ where: { id }, data: { revokedAt: new Date() }, select: { revokedAt: true } });

export const listApiKeys = (db: Db, userId: string) =>
  db.apiKey.findMany({
    where: { userId },
    select: { id: true, prefix: true, name: true, createdAt: true, revokedAt: true },
    orderBy: { createdAt: 'asc' },
  });

// ---- the indicator quota (counted by the indicators module's batch writes)

/**
 * The community's indicator count, locked until the transaction ends: writers of one
 * community are serialised, so the quota holds under concurrent imports.
 */
export async function lockCommunityIndicatorCount(client: pg.PoolClient, communityId: string): Promise<number> {
  const { rows } = await client.query<{ indicator_count: number }>(
    'SELECT indicator_count FROM communities WHERE id = $1 FOR UPDATE',
    [communityId],
  );
  return rows[0].indicator_count;
}

export async function addToCommunityIndicatorCount(
  client: pg.PoolClient,
  communityId: string,
  created: number,
): Promise<void> {
  await client.query('UPDATE communities SET indicator_count = indicator_count + $2 WHERE id = $1', [
    communityId,
    created,
  ]);
}
