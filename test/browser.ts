// Debian's chromium, headless, driven by playwright-core, for the browser tests.
//
// Without /usr/bin/chromium a browser test file is skipped with a warning, unless
// REQUIRE_BROWSER is set (as in CI), where a missing browser fails it.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const requireBrowser = !!process.env.REQUIRE_BROWSER && process.env.REQUIRE_BROWSER !== '0';

/** Whether the browser tests of `file` are skipped (no chromium, none required); says so when they are. */
export function skipBrowserTests(file: string): boolean {
  if (hasChromium || requireBrowser) return false;
  console.warn(
    `${file}: the browser test was skipped because Debian's chromium is not installed ` +
      `(${CHROMIUM}; apt-get install chromium). Set REQUIRE_BROWSER=1 to make that a failure.`,
  );
  return true;
}

const BROWSER_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Headless chromium with `extraArgs`; fails when it is missing (reached only when required). */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  if (!hasChromium) throw new Error(`REQUIRE_BROWSER is set but ${CHROMIUM} is missing: apt-get install chromium`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...BROWSER_ARGS, ...extraArgs] });
}
