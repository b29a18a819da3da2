// Communities, users, roles, memberships and API keys: their rules, for the API and the CLI.
// Any change of access is announced on `accessChanged`, so every API process re-checks the
// open subscriptions (src/modules/communities/access-cache.ts).
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../../db/prisma.ts';
import { ConflictError } from '../../errors.ts';
import type { Permission } from '../../generated/prisma/enums.ts';
import { publishThroughDatabase } from '../../db/pubsub.ts';
import { Access } from './access.ts';
import {
  allCommunities,
  allRoles,
  ancestorIdsOf,
  communityAndDescendantIds,
  effectivePermissions,
  findApiKey,
  findCommunitiesByIdOrName,
  findMembershipRoleName,
  findRoleByName,
  findSiblingCommunity,
  findUserBy,
  insertApiKey,
  insertCommunity,
  insertRole,
  insertUser,
  listApiKeys,
  markApiKeyRevoked,
  upsertBuiltInRole,
  upsertMembership,
  viewerByKeyHash,
  viewerByKeyId,
  type Viewer,
} from './store.ts';

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
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a reference given by a person is an id (else it is a name or an e-mail). */
export const isUuid = (value: string) => UUID.test(value);

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export async function ensureBuiltInRoles(db: Db): Promise<void> {
  for (const role of BUILT_IN_ROLES) await upsertBuiltInRole(db, role);
}

// ---- API keys

/** Creates a key for a user; the key is returned once and only its hash is stored. */
export async function createApiKey(db: Db, userId: string, name: string): Promise<{ id: string; key: string }> {
  const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  const row = await insertApiKey(db, {
    userId,
    name,
    prefix: key.slice(0, KEY_PREFIX.length + 6),
    keyHash: hashApiKey(key),
  });
  return { id: row.id, key };
}

/** The key's user, or null for an unknown or revoked key. */
export const viewerOfApiKey = (db: Db, key: string): Promise<Viewer | null> => viewerByKeyHash(db, hashApiKey(key));

/** The user of a key by the key's id, or null once the key is revoked: what open subscriptions re-check. */
export const viewerOfKey = (db: Db, apiKeyId: string): Promise<Viewer | null> => viewerByKeyId(db, apiKeyId);

/** A user's keys, oldest first, revoked ones included. */
export const apiKeysOf = (db: Db, userId: string) => listApiKeys(db, userId);

/**
 * Revokes a key and tells every API process, whose open subscriptions with it then end
 * (src/graphql/live-access.ts). Null for an unknown key.
 */
export async function revokeApiKey(db: Db, id: string) {
  const key = await findApiKey(db, id);
  if (!key) return null;
  if (key.revokedAt) return { ...key, revokedAt: key.revokedAt, alreadyRevoked: true };
  const { revokedAt } = await markApiKeyRevoked(db, id);
  await publishThroughDatabase(db, 'accessChanged', { reason: 'API key revoked' });
  return { ...key, revokedAt: revokedAt!, alreadyRevoked: false };
}

// ---- access

export class UnknownCommunitySelectionError extends Error {}

/**
 * Effective permissions of a user per community. `selected` (the X-Community-Ids
 * header) narrows them; naming a community the user cannot see is an error that reads
 * the same whether the community exists or not.
 */
export async function loadAccess(db: Db, userId: string, selected: string[] | null): Promise<Access> {
  const rows = await effectivePermissions(db, userId);
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

// ---- communities

/** A community and every community below it. */
export const communityAndDescendants = (db: Db, communityId: string) => communityAndDescendantIds(db, communityId);

/** The communities above one, nearest first: collections they share down apply to it too. */
export const communityAncestors = (db: Db, communityId: string) => ancestorIdsOf(db, communityId);

/** The communities a person's reference names: the one with this id, else those with this name. */
export const communitiesNamed = (db: Db, ref: string) =>
  findCommunitiesByIdOrName(db, isUuid(ref) ? { id: ref } : { name: ref });

/**
 * Creates a community, under `parent` if given. Names are unique among siblings, the top
 * level included (the database only keeps sub-community names unique), so that a community
 * can be found by name.
 */
export async function createCommunity(db: Db, name: string, parent: { id: string; name: string } | null) {
  const sibling = await findSiblingCommunity(db, name, parent?.id ?? null);
  if (sibling) {
    const where = parent ? `under "${parent.name}"` : 'at the top level';
    throw new ConflictError(`A community named "${name}" already exists ${where} (id ${sibling.id}).`);
  }
  const community = await insertCommunity(db, { name, parentId: parent?.id ?? null });
  // The parent's members now act on the new sub-community too.
  if (parent) await publishThroughDatabase(db, 'accessChanged', { reason: 'sub-community created' });
  return community;
}

export interface CommunityNode {
  id: string;
  name: string;
  children: CommunityNode[];
}

/** Every community as a tree, by name at each level. */
export async function communityTree(db: Db): Promise<CommunityNode[]> {
  const rows = await allCommunities(db);
  const childrenOf = new Map<string | null, typeof rows>();
  for (const row of rows) childrenOf.set(row.parentId, [...(childrenOf.get(row.parentId) ?? []), row]);
  const subtree = (parentId: string | null): CommunityNode[] =>
    (childrenOf.get(parentId) ?? []).map(({ id, name }) => ({ id, name, children: subtree(id) }));
  return subtree(null);
}

// ---- users, roles and memberships

/** The user a person's reference names (an id, else an e-mail); null when none. */
export const userNamed = (db: Db, ref: string) => findUserBy(db, isUuid(ref) ? { id: ref } : { email: ref });

export async function createUser(db: Db, name: string, email: string) {
  const existing = await findUserBy(db, { email });
  if (existing) throw new ConflictError(`A user with email ${email} already exists (id ${existing.id}).`);
  return insertUser(db, { name, email });
}

/** Every role by name, built-in ones included. */
export const listRoles = (db: Db) => allRoles(db);

export const findRole = (db: Db, name: string) => findRoleByName(db, name);

export async function createRole(db: Db, name: string, permissions: Permission[]) {
  if (await findRoleByName(db, name)) throw new ConflictError(`A role named "${name}" already exists`);
  return insertRole(db, { name, permissions });
}

/**
 * Gives a user a role in a community, replacing the one held there, and tells every API
 * process (open subscriptions go on with the new access, or end). Answers the previous role's name.
 */
export async function setMembership(
  db: Db,
  membership: { userId: string; communityId: string; roleId: string },
): Promise<string | null> {
  const previous = await findMembershipRoleName(db, membership);
  await upsertMembership(db, membership);
  await publishThroughDatabase(db, 'accessChanged', { reason: 'membership changed' });
  return previous;
}
