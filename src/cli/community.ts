// `community create` and `community list`.
import type { Db } from '../db/prisma.ts';
import { communityTree, createCommunity, type CommunityNode } from '../modules/communities/service.ts';
import { command, nameOption, RUN, type Command, type Output } from './command.ts';
import { findCommunity } from './lookup.ts';

async function create(db: Db, name: string, parentRef: string | undefined): Promise<Output> {
  const parent = parentRef ? await findCommunity(db, parentRef) : null;
  const community = await createCommunity(db, name, parent);
  const where = parent ? `under "${parent.name}"` : 'at the top level';
  return {
    text: `Created community "${name}" ${where}: ${community.id}`,
    json: { id: community.id, name, parentId: community.parentId },
  };
}

async function list(db: Db): Promise<Output> {
  const tree = await communityTree(db);
  const text = tree.length
    ? treeLines(tree, 0).join('\n')
    : `No communities yet; create one with \`${RUN} community create --name <name>\`.`;
  return { text, json: tree };
}

/** One line per community, the id first so that the names line up as a tree. */
function treeLines(nodes: CommunityNode[], depth: number): string[] {
  return nodes.flatMap((node) => [
    `${node.id}  ${'  '.repeat(depth)}${node.name}`,
    ...treeLines(node.children, depth + 1),
  ]);
}

export const communityCommands: Record<string, Command> = {
  'community create': command({
    summary: 'Create a community (a sub-community with --parent); prints its id.',
    required: { name: 'name' },
    optional: { parent: 'community id or name' },
    prepare: (args) => {
      const name = nameOption('name', args.name);
      return (db) => create(db, name, args.parent);
    },
  }),
  'community list': command({
    summary: 'Show the community tree with ids.',
    required: {},
    prepare: () => list,
  }),
};
