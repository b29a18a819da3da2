// `user create`.
import type { Db } from '../db/prisma.ts';
import { createUser } from '../modules/communities/service.ts';
import { command, nameOption, UsageError, type Command, type Output } from './command.ts';

async function create(db: Db, name: string, email: string): Promise<Output> {
  const user = await createUser(db, name, email);
  return { text: `Created user "${name}" <${email}>: ${user.id}`, json: { id: user.id, name, email } };
}

export const userCommands: Record<string, Command> = {
  'user create': command({
    summary: 'Create a user; prints its id.',
    required: { name: 'name', email: 'email' },
    prepare: ({ name, email }) => {
      if (!/^[^\s@]+@[^\s@]+$/.test(email)) throw new UsageError(`--email: "${email}" is not an email address.`);
      const shown = nameOption('name', name);
      return (db) => create(db, shown, email);
    },
  }),
};
