// Mutation testing of the pure modules: `npm run test:mutation [module ...]` (scripts/mutation.ts).
// Not in CI: it takes long. Each module is mutated against its own unit tests only, one Stryker
// run per module (`MUTATION_MODULE=csv npx stryker run` runs one), so a module's score says how
// well its own tests guard it, not how much other modules' tests happen to exercise it.

/** Module name → the files mutated and the unit tests that must kill their mutants. */
export const MUTATION_MODULES = {
  observable: { mutate: ['src/modules/indicators/observable.ts'], testFiles: ['test/observable.test.ts'] },
  csv: { mutate: ['src/modules/imports/tabular/csv.ts'], testFiles: ['test/csv.test.ts'] },
  mapping: {
    mutate: [
      'src/modules/imports/column-mapping.ts',
      'src/modules/imports/column-sniffing.ts',
      'src/modules/imports/row-mapping.ts',
    ],
    testFiles: ['test/mapping.test.ts'],
  },
  dates: { mutate: ['src/dates.ts'], testFiles: ['test/dates.test.ts'] },
  'threat-matcher': { mutate: ['src/modules/threats/matcher.ts'], testFiles: ['test/threat-matcher.test.ts'] },
  ecs: { mutate: ['src/modules/events/ecs.ts'], testFiles: ['test/ecs.test.ts'] },
  'heatmap-svg': { mutate: ['src/modules/telemetry/heatmap-svg.ts'], testFiles: ['test/heatmap-svg.test.ts'] },
};

const name = process.env.MUTATION_MODULE;
const selected = MUTATION_MODULES[name];

// Not Stryker's `testFiles` option: with it, Stryker 9.6 activates static mutants (module-level
// constants such as the URL scheme set) only after the module is loaded, and reports them all as
// survivors (stryker-js#6144). The unit test config reads this instead; Stryker's workers inherit it.
if (selected) process.env.MUTATION_TEST_FILES = selected.testFiles.join(',');

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  // A getter, so that scripts/mutation.ts can import MUTATION_MODULES without choosing one.
  get mutate() {
    if (!selected) throw new Error(`set MUTATION_MODULE to one of: ${Object.keys(MUTATION_MODULES).join(', ')}`);
    return selected.mutate;
  },
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  // No database: the unit tests alone, in the same time zone as the full suite.
  vitest: { configFile: 'vitest.unit.config.ts', related: false },
  coverageAnalysis: 'perTest',
  // Two cores at most on the machines this runs on.
  concurrency: 2,
  timeoutMS: 10_000,
  reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  thresholds: { high: 95, low: 90, break: 90 },
  // The sandbox gets only what the unit tests load.
  ignorePatterns: ['/*', '!/src', '!/test', '!/package.json', '!/tsconfig.json', '!/vitest*.config.ts'],
  tempDirName: '.stryker-tmp',
};
