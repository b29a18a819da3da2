// `npm run test:mutation [module ...]`: mutation testing of the pure modules, one Stryker run per
// module against its own unit tests (stryker.config.mjs), then each module's score. Not in CI:
// the whole run takes about half an hour on two cores. Fails when a module scores under 90%.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';

// Stryker reads its config as plain JavaScript, which has no types: the one export used here is typed below.
const { MUTATION_MODULES } = (await import(new URL('../stryker.config.mjs', import.meta.url).href)) as {
  MUTATION_MODULES: Record<string, { mutate: string[]; testFiles: string[] }>;
};

const MINIMUM_SCORE = 90;
const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);

const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !(name in MUTATION_MODULES));
if (unknown.length > 0) {
  console.error(`unknown module ${unknown.join(', ')}; known: ${Object.keys(MUTATION_MODULES).join(', ')}`);
  process.exit(2);
}
const names = requested.length > 0 ? requested : Object.keys(MUTATION_MODULES);

/** Killed (or timed out) among the valid mutants of one run's report, in percent. */
function scoreOf(reportFile: string): { score: number; undetected: number } {
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as {
    files: Record<string, { mutants: { status: string }[] }>;
  };
  let detected = 0;
  let undetected = 0;
  for (const file of Object.values(report.files)) {
    for (const { status } of file.mutants) {
      if (DETECTED.has(status)) detected++;
      else if (UNDETECTED.has(status)) undetected++;
    }
  }
  return { score: (100 * detected) / (detected + undetected), undetected };
}

const results: string[] = [];
let failed = false;
for (const name of names) {
  const report = `reports/mutation/${name}.json`;
  rmSync(report, { force: true });
  const started = Date.now();
  const run = spawnSync('npx', ['stryker', 'run'], {
    stdio: 'inherit',
    env: { ...process.env, MUTATION_MODULE: name },
  });
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  // Stryker exits with 1 both when it fails and when the score is under its break threshold.
  if (!existsSync(report)) {
    failed = true;
    results.push(`${name}: Stryker failed (exit ${run.status ?? run.signal}) after ${minutes} min`);
    continue;
  }
  const { score, undetected } = scoreOf(report);
  failed ||= score < MINIMUM_SCORE;
  results.push(`${name}: ${score.toFixed(2)}% (${undetected} undetected) in ${minutes} min`);
}
console.log(`\nMutation scores (minimum ${MINIMUM_SCORE}%; reports in reports/mutation/):\n${results.join('\n')}`);
process.exit(failed ? 1 : 0);
