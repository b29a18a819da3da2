// Communities, users, roles and API keys: authentication and the rules of tenancy.
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../../db/prisma.ts';
import type { Permission } from '../../generated/prisma/enums.ts';
import { publishThroughDatabase } from '../../pubsub.ts';
import { Access } from './access.ts';

export const ALL_PERMISSIONS: Permission[] = [
  'VIEW_IOC_COLLECTIONS',
  'VIEW_IOC_COLLECTIONS_TELEMETRY',
  'MANAGE_IOC_COLLECTIONS',
  'INGEST_EVENTS',
  'MANAGE_DETECTION_RULES',
  'VIEW_ALERTS',
];

export const BUILT_IN_ROLES: { name: string; description: string; permissions: Permission[] }[] = [
  { name: 'admin', description: 'Everything in the community', permissions: ALL_PERMISSIONS },
  {
    name: 'analyst',
    description: 'Manage collections and detection, see telemetry and alerts',
    permissions: [
      'VIEW_IOC_COLLECTIONS',
      'VIEW_IOC_COLLECTIONS_TELEMETRY',
      'MANAGE_IOC_COLLECTIONS',
      'MANAGE_DETECTION_RULES',
      'VIEW_ALERTS',
    ],
  },
  { name: 'viewer', description: 'Read collections and alerts', permissions: ['VIEW_IOC_COLLECTIONS', 'VIEW_ALERTS'] },
  { name: 'sensor', description: 'Send events for detection and telemetry', permissions: ['INGEST_EVENTS'] },
];

const KEY_PREFIX = 'ioc_';

export interface Viewer {
  userId: string;
  name: string;
  apiKeyId: string;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export async function ensureBuiltInRoles(db: Db): Promise<void> {
  for (const role of BUILT_IN_ROLES) {
    await db.role.upsert({
      where: { name: role.name },
      create: { ...role, builtIn: true },
      update: { permissions: role.permissions, description: role.description, builtIn: true },
    });
  }
}

/** Creates a key for a user; the key is returned once and only its hash is stored. */
export async function createApiKey(db: Db, userId: string, name: string): Promise<{ id: string; key: string }> {
  const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  const row = await db.apiKey.create({
    data: { userId, name, prefix: key.slice(0, KEY_PREFIX.length + 6), keyHash: hashApiKey(key) },
  });
  return { id: row.id, key };
}

/** The key's user, or null for an unknown or revoked key. One statement: it runs on every request. */
export async function authenticate(db: Db, key: string): Promise<Viewer | null> {
  const [row] = await db.$queryRaw<Viewer[]>`
    SELECT k.id AS "apiKeyId", u.id AS "userId", u.name
      FROM api_keys k JOIN users u ON u.id = k.user_id
     WHERE k.key_hash = ${hashApiKey(key)} AND k.revoked_at IS NULL`;
  return row ?? null;
}

/** The user of a key by the key's id, or null once the key is revoked: what open subscriptions re-check. */
export async function viewerOfKey(db: Db, apiKeyId: string): Promise<Viewer | null> {
  const key = await db.apiKey.findFirst({
    where: { id: apiKeyId, revokedAt: null },
    select: { user: { select: { id: true, name: true } } },
  });
  return key && { apiKeyId, userId: key.user.id, name: key.user.name };
}

/**
 * Revokes a key and tells every API process, whose open subscriptions with it then end
 * (src/graphql/live-access.ts). Null for an unknown key.
 */
export async function revokeApiKey(db: Db, id: string) {
  const key = await db.apiKey.findUnique({ where: { id }, select: { prefix: true, name: true, revokedAt: true } });
  if (!key) return null;
  if (key.revokedAt) return { ...key, revokedAt: key.revokedAt, alreadyRevoked: true };
  const { revokedAt } = await db.apiKey.update({ where: { id }, data: { revokedAt: new Date() } });
  await publishThroughDatabase(db, 'accessChanged', { reason: 'API key revoked' });
  return { ...key, revokedAt: revokedAt!, alreadyRevoked: false };
}

/**
 * Gives a user a role in a community, replacing the one held there, and tells every API
 * process (open subscriptions go on with the new access, or end). Answers the previous role's name.
 */
export async function setMembership(
  db: Db,
  membership: { userId: string; communityId: string; roleId: string },
): Promise<string | null> {
  const { userId, communityId, roleId } = membership;
  const key = { userId_communityId: { userId, communityId } };
  const previous = await db.membership.findUnique({ where: key, select: { role: { select: { name: true } } } });
  await db.membership.upsert({ where: key, create: membership, update: { roleId } });
  await publishThroughDatabase(db, 'accessChanged', { reason: 'membership changed' });
  return previous?.role.name ?? null;
}

/** Bearer token from an `Authorization` value; tolerant of a missing scheme for widgets. */
export function apiKeyFromAuthorization(value: string | null | undefined): string | null {
  if (!value) return null;
  const match = /^\s*(?:Bearer\s+)?(\S+)\s*$/i.exec(value);
  return match ? match[1] : null;
}

export class UnknownCommunitySelectionError extends Error {}

/**
 * Effective permissions of a user per community. `selected` (the X-Community-Ids
 * header) narrows them; naming a community the user cannot see is an error that reads
 * the same whether the community exists or not.
 */
export async function loadAccess(db: Db, userId: string, selected: string[] | null): Promise<Access> {
  const rows = await db.$queryRaw<{ id: string; permissions: Permission[]; ancestors: string[] }[]>`
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
  const wanted = selected ? new Set(selected) : null;
  if (wanted) {
    const known = new Set(rows.map((r) => r.id));
    const unknown = [...wanted].filter((id) => !known.has(id));
    if (unknown.length)
      throw new UnknownCommunitySelectionError(`X-Community-Ids: unknown community ${unknown.join(', ')}`);
  }
  const kept = rows.filter((r) => !wanted || wanted.has(r.id));
  return new Access(
    userId,
    new Map(kept.map((r) => [r.id, new Set(r.permissions)])),
    new Map(kept.map((r) => [r.id, r.ancestors])),
  );
}

/** A community and every community below it. */
export async function communityAndDescendants(db: Db, communityId: string): Promise<string[]> {
  const rows = await db.$queryRaw<{ id: string }[]>`
    WITH RECURSIVE tree AS (
      SELECT id FROM communities WHERE id = ${communityId}::uuid
      UNION ALL
      SELECT c.id FROM communities c JOIN tree ON c.parent_id = tree.id
    )
    SELECT id::text FROM tree`;
  return rows.map((r) => r.id);
}
