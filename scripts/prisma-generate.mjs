// Runs `prisma generate` on machines that cannot reach Prisma's binary host.
// The Prisma CLI insists that a native schema-engine exists before any command, even
// `generate`, which never runs it. Naming an existing executable satisfies that check
// without a download; a variable the user set is respected.
import { spawnSync } from 'node:child_process';

const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
const result = spawnSync('npx', ['prisma', 'generate'], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
