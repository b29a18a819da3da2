// After `npm install`: generate the Prisma client and the typed test documents.
import { spawnSync } from 'node:child_process';

const env = { ...process.env };
// The Prisma CLI insists that a native schema-engine exists before any command, even
// `generate`, which never runs it. Naming an existing executable satisfies that check
// without a download (air-gapped machines cannot fetch one); a variable the user set wins.
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;

for (const command of [
  ['prisma', 'generate'],
  ['graphql-codegen', '--config', 'codegen.ts', '--silent'],
]) {
  const result = spawnSync('npx', ['--no-install', ...command], { stdio: 'inherit', env });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
