// `role list` and `role create`.
import type { Db } from '../db/prisma.ts';
import { ConflictError } from '../errors.ts';
import type { Permission } from '../generated/prisma/enums.ts';
import { ALL_PERMISSIONS, createRole, listRoles } from '../modules/communities/service.ts';
import { command, nameOption, RUN, table, UsageError, type Command, type Output } from './command.ts';

function parsePermissions(list: string): Permission[] {
  const names = [...new Set(list.split(',').map((p) => p.trim().toUpperCase()))].filter(Boolean);
  const unknown = names.filter((p) => !ALL_PERMISSIONS.includes(p as Permission));
  if (unknown.length || !names.length) {
    const problem = unknown.length ? `unknown permission ${unknown.join(', ')}` : 'no permission given';
    throw new UsageError(`--permissions: ${problem}. Choose from ${ALL_PERMISSIONS.join(', ')}.`);
  }
  return names as Permission[];
}

async function list(db: Db): Promise<Output> {
  const roles = await listRoles(db);
  const rows = roles.map((r) => [r.name, r.builtIn ? 'built-in' : 'custom', r.permissions.join(',')]);
  return { text: table(['NAME', 'KIND', 'PERMISSIONS'], rows), json: roles };
}

async function create(db: Db, name: string, permissions: Permission[]): Promise<Output> {
  let role;
  try {
    role = await createRole(db, name, permissions);
  } catch (error) {
    if (error instanceof ConflictError) throw new Error(`${error.message}; see them with \`${RUN} role list\`.`);
    throw error;
  }
  return {
    text: `Created role "${name}" with ${permissions.join(', ')}.`,
    json: { id: role.id, name, permissions, builtIn: false },
  };
}

export const roleCommands: Record<string, Command> = {
  'role list': command({
    summary: 'Show the roles and their permissions.',
    required: {},
    prepare: () => list,
  }),
  'role create': command({
    summary: `Create a role. Permissions: ${ALL_PERMISSIONS.join(', ')}.`,
    required: { name: 'name', permissions: 'P1,P2,...' },
    prepare: ({ name, permissions }) => {
      const granted = parsePermissions(permissions);
      const roleName = nameOption('name', name);
      return (db) => create(db, roleName, granted);
    },
  }),
};
