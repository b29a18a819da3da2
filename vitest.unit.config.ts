// The tests of the pure modules: no database, no server. Stryker runs these (stryker.config.mjs);
// `npx vitest run --config vitest.unit.config.ts` runs them alone in seconds.
import { defineConfig } from 'vitest/config';
import { env, resolve } from './vitest.config.ts';

export const UNIT_TEST_FILES = [
  'test/observable.test.ts',
  'test/csv.test.ts',
  'test/mapping.test.ts',
  'test/dates.test.ts',
  'test/threat-matcher.test.ts',
  'test/ecs.test.ts',
  'test/heatmap-svg.test.ts',
];

export default defineConfig({
  resolve,
  // stryker.config.mjs narrows a run to one module's own tests with MUTATION_TEST_FILES.
  // Instrumented by Stryker, the 100 MB CSV test runs several times slower than plain.
  test: { include: process.env.MUTATION_TEST_FILES?.split(',') ?? UNIT_TEST_FILES, env, testTimeout: 60_000 },
});
