// Fails on an import cycle, between files or between modules, and on a domain file that
// imports GraphQL. Type-only imports count: a cycle of types still ties two modules together.
//
// Modules: each top-level folder or file of src/ is one; each folder of src/modules is two,
// its domain (services, stores, jobs, pure code) and its GraphQL edge (schema.ts and the
// HTTP endpoints), because the edge sits above src/graphql and the domain below it.
// src/graphql/schema.ts, which gathers every module's types, is the root above them all.
import madge from 'madge';

const EDGE_FILE = /^modules\/[^/]+\/(schema|[\w-]*endpoint)\.ts$/;

function moduleOf(file: string): string {
  const parts = file.split('/');
  if (file === 'graphql/schema.ts') return 'graphql/schema.ts';
  if (parts[0] === 'modules') return `modules/${parts[1]}${EDGE_FILE.test(file) ? ' (GraphQL/HTTP edge)' : ''}`;
  return parts.length > 1 ? parts[0] : file;
}

/** Strongly connected components of more than one node (Tarjan). */
function cyclesOf(graph: Map<string, Set<string>>): string[][] {
  let index = 0;
  const indexOf = new Map<string, number>();
  const lowOf = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (node: string) => {
    indexOf.set(node, index);
    lowOf.set(node, index++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indexOf.has(next)) {
        visit(next);
        lowOf.set(node, Math.min(lowOf.get(node)!, lowOf.get(next)!));
      } else if (onStack.has(next)) lowOf.set(node, Math.min(lowOf.get(node)!, indexOf.get(next)!));
    }
    if (lowOf.get(node) === indexOf.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!indexOf.has(node)) visit(node);
  return components;
}

const result = await madge('src', {
  fileExtensions: ['ts'],
  tsConfig: 'tsconfig.json',
  excludeRegExp: [/^generated\//],
});
const files = result.obj();
const problems: string[] = [];

for (const cycle of result.circular()) problems.push(`file cycle: ${cycle.join(' → ')} → ${cycle[0]}`);

const modules = new Map<string, Set<string>>();
const why = new Map<string, string>();
for (const [file, imports] of Object.entries(files)) {
  const from = moduleOf(file);
  if (!modules.has(from)) modules.set(from, new Set());
  for (const imported of imports) {
    const to = moduleOf(imported);
    if (to === from) continue;
    modules.get(from)!.add(to);
    why.set(`${from}|${to}`, `${file} → ${imported}`);
    if (from.startsWith('modules/') && !from.endsWith('edge)') && to.startsWith('graphql')) {
      problems.push(`domain file imports GraphQL: ${file} → ${imported}`);
    }
  }
}
for (const component of cyclesOf(modules)) {
  const members = new Set(component);
  const links = component.flatMap((from) =>
    [...modules.get(from)!].filter((to) => members.has(to)).map((to) => `    ${why.get(`${from}|${to}`)}`),
  );
  problems.push(`module cycle: ${component.join(', ')}\n${links.join('\n')}`);
}

if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`no cycles: ${Object.keys(files).length} files in ${modules.size} modules`);
