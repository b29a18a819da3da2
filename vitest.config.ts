import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

// Dates must not depend on the machine's zone: the tests run in one that is neither UTC nor a
// whole number of hours from it, so a parse or format that silently uses local time fails here
// instead of only on a server outside UTC. Set before workers and the test database start, so
// every process (and PostgreSQL's default TimeZone) inherits it.
export const TEST_TIME_ZONE = 'Asia/Kolkata';
process.env.TZ = TEST_TIME_ZONE;

export const resolve = {
  // graphql@16 has no "exports" map: Node loads its CommonJS build (as Yoga does),
  // while Vite would pick the ESM build for our sources. Two copies of GraphQLError
  // break `instanceof`; point Vite at the one Node loads.
  alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
};

// Tests poll: a limit high enough never to bite, but the limiter still runs on every request.
export const env = { NODE_ENV: 'test', LOG_LEVEL: 'silent', RATE_LIMIT_PER_MINUTE: '1000000', TZ: TEST_TIME_ZONE };

export default defineConfig({
  resolve,
  test: {
    globalSetup: ['test/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // Two cores: more forks only queue for the CPU and the database.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    env,
  },
});
