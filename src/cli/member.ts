// `member add`.
import type { Db } from '../db/prisma.ts';
import { findRole, listRoles, setMembership } from '../modules/communities/service.ts';
import { command, RUN, type Command, type Output } from './command.ts';
import { findCommunity, findUser } from './lookup.ts';

async function findRoleNamed(db: Db, name: string): Promise<{ id: string; name: string }> {
  const role = await findRole(db, name);
  if (role) return role;
  const known = await listRoles(db);
  throw new Error(
    `No role "${name}". Roles: ${known.map((r) => r.name).join(', ')} ` +
      `(\`${RUN} role list\` shows them; \`${RUN} role create\` adds one).`,
  );
}

async function add(db: Db, args: { user: string; community: string; role: string }): Promise<Output> {
  const user = await findUser(db, args.user);
  const community = await findCommunity(db, args.community);
  const role = await findRoleNamed(db, args.role);
  const key = { userId: user.id, communityId: community.id };
  const previousRole = await setMembership(db, { ...key, roleId: role.id });
  const was = previousRole ? ` (was ${previousRole})` : '';
  return {
    text: `${user.email} is now ${role.name} in "${community.name}"${was}.`,
    json: { ...key, role: role.name, previousRole },
  };
}

export const memberCommands: Record<string, Command> = {
  'member add': command({
    summary: 'Give a user a role in a community (and its sub-communities); replaces an existing role there.',
    required: { user: 'email or id', community: 'community id or name', role: 'role name' },
    prepare: (args) => (db) => add(db, args),
  }),
};
