// `key create`, `key list` and `key revoke`.
import type { Db } from '../db/prisma.ts';
import { apiKeysOf, createApiKey, isUuid, revokeApiKey } from '../modules/communities/service.ts';
import { command, nameOption, RUN, table, UsageError, type Command, type Output } from './command.ts';
import { findUser } from './lookup.ts';

async function create(db: Db, userRef: string, name: string): Promise<Output> {
  const user = await findUser(db, userRef);
  const { id, key } = await createApiKey(db, user.id, name);
  const text = [
    `API key "${name}" for ${user.email} (id ${id}):`,
    '',
    `  ${key}`,
    '',
    'Copy it now: it is shown only this once, and only its hash is stored.',
    `Revoke it with \`${RUN} key revoke --id ${id}\`.`,
  ].join('\n');
  return { text, json: { id, name, userId: user.id, key } };
}

async function list(db: Db, userRef: string): Promise<Output> {
  const user = await findUser(db, userRef);
  const keys = await apiKeysOf(db, user.id);
  const rows = keys.map((k) => [k.id, k.prefix, k.name, k.createdAt.toISOString(), k.revokedAt?.toISOString() ?? '-']);
  const text = keys.length
    ? table(['ID', 'PREFIX', 'NAME', 'CREATED', 'REVOKED'], rows)
    : `${user.email} has no API keys; create one with \`${RUN} key create --user ${user.email}\`.`;
  return { text, json: keys };
}

async function revoke(db: Db, id: string): Promise<Output> {
  const key = await revokeApiKey(db, id);
  if (!key) throw new Error(`No API key with id ${id}; see them with \`${RUN} key list --user <email>\`.`);
  const { revokedAt, alreadyRevoked } = key;
  const text = alreadyRevoked
    ? `Key ${key.prefix}… ("${key.name}") was already revoked on ${revokedAt.toISOString()}.`
    : `Revoked key ${key.prefix}… ("${key.name}").`;
  return { text, json: { id, revokedAt, alreadyRevoked } };
}

export const keyCommands: Record<string, Command> = {
  'key create': command({
    summary: 'Create an API key for a user; prints the key once (only its hash is stored).',
    required: { user: 'email or id' },
    optional: { name: 'name' },
    prepare: (args) => {
      const name = nameOption('name', args.name ?? 'cli');
      return (db) => create(db, args.user, name);
    },
  }),
  'key list': command({
    summary: "Show a user's API keys (prefix, name, created, revoked).",
    required: { user: 'email or id' },
    prepare: (args) => (db) => list(db, args.user),
  }),
  'key revoke': command({
    summary: 'Revoke an API key; it stops working at once.',
    required: { id: 'key id' },
    prepare: ({ id }) => {
      if (!isUuid(id))
        throw new UsageError(`--id: "${id}" is not a key id; see them with \`${RUN} key list --user <email>\`.`);
      return (db) => revoke(db, id);
    },
  }),
};
