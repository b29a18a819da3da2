// The communities and users a command names (by id, else by name or e-mail), or an error
// that says how to find the right one.
import type { Db } from '../db/prisma.ts';
import { communitiesNamed, isUuid, userNamed } from '../modules/communities/service.ts';
import { RUN } from './command.ts';

export async function findCommunity(db: Db, ref: string): Promise<{ id: string; name: string }> {
  const matches = await communitiesNamed(db, ref);
  if (matches.length === 1) return matches[0];
  if (!matches.length) throw new Error(`No community "${ref}". See ids and names with \`${RUN} community list\`.`);
  const ids = matches.map((c) => c.id).join(', ');
  throw new Error(`Several communities are named "${ref}" (${ids}); pass the id instead.`);
}

export async function findUser(db: Db, ref: string): Promise<{ id: string; email: string }> {
  const user = await userNamed(db, ref);
  if (user) return user;
  throw new Error(
    `No user with ${isUuid(ref) ? 'id' : 'email'} "${ref}". Create one with \`${RUN} user create --name <name> --email <email>\`.`,
  );
}
