// The command line read into a command and its options, and the usage texts.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { communityCommands } from './community.ts';
import { RUN, UsageError, type Command, type Task } from './command.ts';
import { eventCommands } from './events.ts';
import { keyCommands } from './key.ts';
import { memberCommands } from './member.ts';
import { roleCommands } from './role.ts';
import { threatCommands } from './threats.ts';
import { userCommands } from './user.ts';

/** Every command, in the order the usage lists them. */
const COMMANDS: Record<string, Command> = {
  ...communityCommands,
  ...userCommands,
  ...roleCommands,
  ...memberCommands,
  ...keyCommands,
  ...threatCommands,
  ...eventCommands,
};

export type Invocation = { help: string } | { task: Task; json: boolean };

const isHelp = (arg: string | undefined) => arg === '--help' || arg === '-h' || arg === 'help';

export function parseInvocation(argv: string[]): Invocation {
  const [group, action] = argv;
  if (!group) throw new UsageError('Missing command.', generalUsage());
  if (isHelp(group)) return { help: generalUsage() };
  const name = `${group} ${action}`;
  if (COMMANDS[name]) return parseCommand(name, COMMANDS[name], argv.slice(2));
  const groupCommands = Object.keys(COMMANDS).filter((n) => n.startsWith(`${group} `));
  if (!groupCommands.length) throw new UsageError(`Unknown command "${group}".`, generalUsage());
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

export function generalUsage(): string {
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
