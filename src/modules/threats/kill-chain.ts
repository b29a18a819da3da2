// Kill-chain phases: the Lockheed Martin Cyber Kill Chain and the MITRE ATT&CK tactics,
// with names matched loosely (`c2`, `Command and Control`, `command-and-control`).

export const LOCKHEED_MARTIN = 'lockheed-martin-cyber-kill-chain';
export const MITRE_ATTACK = 'mitre-attack';

export interface KillChainPhase {
  killChainName: string;
  phaseName: string;
}

export const KILL_CHAINS: Record<string, readonly string[]> = {
  [LOCKHEED_MARTIN]: [
    'reconnaissance',
    'weaponization',
    'delivery',
    'exploitation',
    'installation',
    'command-and-control',
    'actions-on-objectives',
  ],
  [MITRE_ATTACK]: [
    'reconnaissance',
    'resource-development',
    'initial-access',
    'execution',
    'persistence',
    'privilege-escalation',
    'defense-evasion',
    'credential-access',
    'discovery',
    'lateral-movement',
    'collection',
    'command-and-control',
    'exfiltration',
    'impact',
  ],
};

export const ALL_KILL_CHAIN_PHASES: KillChainPhase[] = Object.entries(KILL_CHAINS).flatMap(([killChainName, phases]) =>
  phases.map((phaseName) => ({ killChainName, phaseName })),
);

const CHAIN_ALIASES: Record<string, string> = {
  lm: LOCKHEED_MARTIN,
  lockheed: LOCKHEED_MARTIN,
  'lockheed-martin': LOCKHEED_MARTIN,
  'lockheed-martin-kill-chain': LOCKHEED_MARTIN,
  'cyber-kill-chain': LOCKHEED_MARTIN,
  'kill-chain': LOCKHEED_MARTIN,
  mitre: MITRE_ATTACK,
  attack: MITRE_ATTACK,
  'mitre-att-ck': MITRE_ATTACK,
  'mitre-att-and-ck': MITRE_ATTACK,
  'mitre-attack-enterprise': MITRE_ATTACK,
  'enterprise-attack': MITRE_ATTACK,
};

const PHASE_ALIASES: Record<string, string> = {
  c2: 'command-and-control',
  cnc: 'command-and-control',
  'c-c': 'command-and-control',
  'c-and-c': 'command-and-control',
  'command-control': 'command-and-control',
  recon: 'reconnaissance',
  weaponisation: 'weaponization',
  weaponize: 'weaponization',
  exploit: 'exploitation',
  install: 'installation',
  'actions-on-objective': 'actions-on-objectives',
  'actions-on-target': 'actions-on-objectives',
  exfil: 'exfiltration',
  'priv-esc': 'privilege-escalation',
  privesc: 'privilege-escalation',
  'defence-evasion': 'defense-evasion',
};

/** `Command & Control` → `command-and-control`. */
function slug(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/&/g, '-and-')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

export type KillChainPhaseResult = { ok: true; phase: KillChainPhase } | { ok: false; message: string };

/** Resolves a phase given by a person; without a chain, Lockheed Martin is preferred. */
export function resolveKillChainPhase(phaseName: string, killChainName?: string | null): KillChainPhaseResult {
  const phaseSlug = slug(phaseName);
  const phase = PHASE_ALIASES[phaseSlug] ?? phaseSlug;
  let chains = Object.keys(KILL_CHAINS);
  if (killChainName?.trim()) {
    const chainSlug = slug(killChainName);
    const chain = CHAIN_ALIASES[chainSlug] ?? chainSlug;
    if (!KILL_CHAINS[chain]) {
      return {
        ok: false,
        message: `unknown kill chain "${killChainName}" (use ${LOCKHEED_MARTIN} or ${MITRE_ATTACK})`,
      };
    }
    chains = [chain];
  }
  const chain = chains.find((c) => KILL_CHAINS[c].includes(phase));
  if (!chain) return { ok: false, message: `unknown kill-chain phase "${phaseName}"` };
  return { ok: true, phase: { killChainName: chain, phaseName: phase } };
}

/** Accepts `phase` or `chain:phase` (as STIX and many CSV exports write it). */
export function resolveKillChainPhaseText(text: string): KillChainPhaseResult {
  const separator = text.lastIndexOf(':');
  return separator > 0
    ? resolveKillChainPhase(text.slice(separator + 1), text.slice(0, separator))
    : resolveKillChainPhase(text);
}

export const phaseKey = (phase: KillChainPhase) => `${phase.killChainName}:${phase.phaseName}`;

export function phaseFromKey(key: string): KillChainPhase {
  const separator = key.indexOf(':');
  return { killChainName: key.slice(0, separator), phaseName: key.slice(separator + 1) };
}

export const isCommandAndControl = (key: string) => key.endsWith(':command-and-control');
