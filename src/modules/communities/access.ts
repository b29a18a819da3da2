// What a viewer may see and do, resolved once per request from the database (the where-clauses
// built from it are in visibility.ts).
// A membership applies to its community and every community below it (an MSSP
// analyst works on the clients' sub-communities with the same role).
import type { Permission } from '../../generated/prisma/enums.ts';

export class Access {
  constructor(
    readonly userId: string,
    /** Effective permissions per community, narrowed to the request's selected communities. */
    private readonly permissions: ReadonlyMap<string, ReadonlySet<Permission>>,
    /** Ancestors of each of those communities, nearest first. */
    private readonly ancestors: ReadonlyMap<string, readonly string[]>,
  ) {}

  /** Equal for two requests that may see and do exactly the same things. */
  get fingerprint(): string {
    const entries = [...this.permissions].map(([id, set]) => `${id}=${[...set].sort().join('+')}`).sort();
    return `${this.userId}|${entries.join(',')}`;
  }

  get communityIds(): string[] {
    return [...this.permissions.keys()];
  }

  /**
   * Communities the viewer may see by name: those it acts on and the MSSP communities
   * above them (the owners of collections shared down to it). Seeing a community grants
   * nothing in it.
   */
  get visibleCommunityIds(): string[] {
    const ids = new Set(this.permissions.keys());
    for (const ancestors of this.ancestors.values()) for (const id of ancestors) ids.add(id);
    return [...ids];
  }

  /** The communities above one the viewer acts on, nearest first. */
  ancestorsOf(communityId: string): readonly string[] {
    return this.ancestors.get(communityId) ?? [];
  }

  can(permission: Permission, communityId: string): boolean {
    return this.permissions.get(communityId)?.has(permission) ?? false;
  }

  hasAnywhere(permission: Permission): boolean {
    for (const set of this.permissions.values()) if (set.has(permission)) return true;
    return false;
  }

  communitiesWith(permission: Permission): string[] {
    return this.communityIds.filter((id) => this.can(permission, id));
  }

  /** Communities whose "available for sub-communities" collections the viewer may read with `permission`. */
  sharingAncestors(permission: Permission): string[] {
    const result = new Set<string>();
    for (const id of this.communitiesWith(permission)) for (const a of this.ancestors.get(id) ?? []) result.add(a);
    return [...result];
  }
}

/** A person as a viewer may see them: by name only within the communities the viewer acts on. */
export interface PersonShown {
  name: string;
  email: string | null;
}

/**
 * Staff of a community above the viewer's (an MSSP working on its clients' collections)
 * are shown to the sub-community by their role there ("MSSP analyst"), never by name or
 * e-mail: a client learns what was done, not who on the provider's side did it.
 */
export function personShownTo(
  access: Access,
  person: { id: string; name: string; email: string; memberships: { communityId: string; role: { name: string } }[] },
): PersonShown {
  const actsOn = new Set(access.communityIds);
  if (person.id === access.userId || person.memberships.some((m) => actsOn.has(m.communityId))) {
    return { name: person.name, email: person.email };
  }
  const visible = new Set(access.visibleCommunityIds);
  const role = person.memberships.find((m) => visible.has(m.communityId))?.role.name;
  return { name: role ? `MSSP ${role}` : 'Member of another community', email: null };
}
