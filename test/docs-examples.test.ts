// The shell examples of the README and docs: every shell block is an example file shown
// verbatim (so what the reader copies is what the tests run) or says why it is not run,
// and every example file runs with bash against a real service and exits 0.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createTenant, startTestApp } from './kit.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLES_DIR = 'examples/shell';
const EXAMPLE_MARK = /^<!-- example: (examples\/shell\/[\w.-]+\.sh) -->$/;
const NOT_RUN_MARK = /^<!-- not run: \S.* -->$/;
const SHELL_FENCE = /^(\s*)```(?:sh|bash|shell|console)\s*$/;

const app = await startTestApp();
const read = (file: string) => readFileSync(`${ROOT}/${file}`, 'utf8');
const exampleFiles = readdirSync(`${ROOT}/${EXAMPLES_DIR}`)
  .filter((name) => name.endsWith('.sh'))
  .sort()
  .map((name) => `${EXAMPLES_DIR}/${name}`);
const documents = [
  'README.md',
  'examples/notification-widget/README.md',
  ...readdirSync(`${ROOT}/docs`)
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`),
];

interface ShellBlock {
  document: string;
  line: number;
  /** The line before the block (blank lines skipped): its mark. */
  mark: string;
  /** The block's text, its fence's indentation removed, ending with a line break. */
  text: string;
}

function shellBlocks(document: string): ShellBlock[] {
  const lines = read(document).split('\n');
  const blocks: ShellBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = lines[i].match(/^(\s*)```/);
    if (!fence) continue;
    const end = lines.findIndex((line, j) => j > i && line.trim() === '```');
    if (end < 0) throw new Error(`${document}:${i + 1}: unclosed code block`);
    const shell = SHELL_FENCE.exec(lines[i]);
    if (shell) {
      let before = i - 1;
      while (before >= 0 && lines[before].trim() === '') before--;
      const indent = shell[1].length;
      blocks.push({
        document,
        line: i + 1,
        mark: before >= 0 ? lines[before].trim() : '',
        text:
          lines
            .slice(i + 1, end)
            .map((line) => line.slice(indent))
            .join('\n') + '\n',
      });
    }
    i = end;
  }
  return blocks;
}

describe('shell blocks of the README and docs', () => {
  const blocks = documents.flatMap(shellBlocks);

  it('finds the documents and their shell blocks', () => {
    expect(documents).toContain('docs/api-guide.md');
    expect(blocks.length).toBeGreaterThan(5);
  });

  it.each(blocks.map((block) => [`${block.document}:${block.line}`, block] as const))(
    '%s is an example file shown verbatim, or says why it is not run',
    (_, block) => {
      const example = EXAMPLE_MARK.exec(block.mark);
      if (example) {
        expect(exampleFiles, `${example[1]} is not an example file`).toContain(example[1]);
        expect(block.text, `the block differs from ${example[1]}`).toBe(read(example[1]));
      } else {
        expect(
          block.mark,
          'the line before the block: <!-- example: examples/shell/x.sh --> or <!-- not run: why -->',
        ).toMatch(NOT_RUN_MARK);
      }
    },
  );

  it('shows every example file somewhere', () => {
    const shown = new Set(blocks.map((block) => EXAMPLE_MARK.exec(block.mark)?.[1]));
    expect(exampleFiles.filter((file) => !shown.has(file))).toEqual([]);
  });
});

describe('the example files', () => {
  it.each(exampleFiles)('%s runs against a fresh service and exits 0', { timeout: 600_000 }, async (file) => {
    const { url } = await app.http();
    // Like the demo's admin key: an MSSP with two clients, so events must name their community.
    const tenant = await createTenant(app, { children: 2 });
    const community = await app.services.prisma.community.findUniqueOrThrow({ where: { id: tenant.communityRawId } });
    const tmp = mkdtempSync(path.join(tmpdir(), 'docs-example-'));
    onTestFinished(() => rmSync(tmp, { recursive: true, force: true }));
    // DATABASE_URL: the CLI example uses the service's database, as beside `npm start`.
    const run = await runBash(file, {
      URL: url,
      KEY: tenant.client.key,
      COMMUNITY: community.name,
      TMPDIR: tmp,
      DATABASE_URL: app.env.DATABASE_URL!,
    });
    expect(run.code, `${file} failed\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`).toBe(0);
  });
});

/** Runs an example as a reader would (bash, from the repository's root) without blocking the in-process server. */
function runBash(file: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      [file],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 540_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
