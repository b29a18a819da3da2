import { builder } from '../../graphql/builder.ts';
import { ALL_KILL_CHAIN_PHASES, type KillChainPhase as Phase } from './kill-chain.ts';
import { nodeAccess } from '../../graphql/visible-nodes.ts';
import { searchThreatIds } from './service.ts';
import { countThreats, listThreats } from './store.ts';

export const Threat = builder.prismaNode('Threat', {
  id: { field: 'id' },
  // node(id) and nodes(ids) answer null for a missing or hidden id, never an error.
  nullable: true,
  // The catalogue is shared by every community.
  findUnique: nodeAccess('Threat', 'threat', () => ({})),
  description: 'A threat of the catalogue: an intrusion set, malware or tool.',
  fields: (t) => ({
    name: t.exposeString('name'),
    aliases: t.exposeStringList('aliases'),
    kind: t.exposeString('kind', { description: 'intrusion-set, malware, tool, …' }),
    externalId: t.exposeString('externalId', {
      nullable: true,
      description: 'Id in the source catalogue, e.g. MITRE ATT&CK G0007.',
    }),
  }),
});

builder.queryField('threats', (t) =>
  t.prismaConnection(
    {
      type: 'Threat',
      cursor: 'id',
      description: 'The threat catalogue, by name; `search` matches names and aliases.',
      authScopes: { permission: 'VIEW_IOC_COLLECTIONS' },
      args: { search: t.arg.string() },
      resolve: async (query, _, { search }, ctx) => {
        const ids = search?.trim() ? await searchThreatIds(ctx.prisma, search.trim()) : null;
        return listThreats(ctx.prisma, query, ids);
      },
      totalCount: async (_, { search }, ctx) =>
        search?.trim() ? (await searchThreatIds(ctx.prisma, search.trim())).length : countThreats(ctx.prisma),
    },
    { name: 'ThreatConnection' },
    { name: 'ThreatEdge' },
  ),
);

export const KillChainPhase = builder.objectRef<Phase>('KillChainPhase').implement({
  description: 'A phase of the Lockheed Martin Cyber Kill Chain or a MITRE ATT&CK tactic.',
  fields: (t) => ({
    killChainName: t.exposeString('killChainName', { description: `lockheed-martin-cyber-kill-chain or mitre-attack` }),
    phaseName: t.exposeString('phaseName'),
  }),
});

export const KillChainPhaseInput = builder.inputType('KillChainPhaseInput', {
  description:
    'Names are matched loosely: `c2`, `Command and Control` and `command-and-control` are one phase. Without a chain, Lockheed Martin is preferred.',
  fields: (t) => ({
    killChainName: t.string(),
    phaseName: t.string({ required: true }),
  }),
});

builder.queryField('killChainPhases', (t) =>
  t.field({
    type: [KillChainPhase],
    authScopes: { permission: 'VIEW_IOC_COLLECTIONS' },
    resolve: () => ALL_KILL_CHAIN_PHASES,
  }),
);
