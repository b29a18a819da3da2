// The administration CLI, run as a child process on the test database; the keys it makes
// are then used against the API in-process.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { parse } from 'graphql';
import pg from 'pg';
import { afterAll, describe, expect, inject, test } from 'vitest';
import { hashApiKey } from '../src/modules/communities/service.ts';
import {
  Client,
  createTenant,
  daysAgo,
  fromGlobalId,
  type IngestAnswer,
  sendEvents,
  startTestApp,
  unique,
} from './kit.ts';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
const REAL_CATALOGUE = fileURLToPath(new URL('../../shared/fixtures/real/threats.json', import.meta.url));
const databaseUrl = inject('databaseUrl');

const app = await startTestApp({}, { workers: false });
const { prisma, pool } = app.services;

const tempDir = mkdtempSync(path.join(tmpdir(), 'ioc-cli-test-'));
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], url = databaseUrl): CliResult {
  const { status, stdout, stderr } = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, DATABASE_URL: url },
    encoding: 'utf8',
  });
  return { status, stdout, stderr };
}

/** Runs a command that must succeed, with --json; on failure the test shows what the CLI said. */
function cliJson<T>(args: string[], url = databaseUrl): T {
  const result = cli([...args, '--json'], url);
  if (result.status !== 0) expect.fail(`cli ${args.join(' ')} exited ${result.status}\n${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/** Runs a command that must fail with `status`; returns what it wrote to stderr. */
function cliFailure(args: string[], status: 1 | 2): string {
  const result = cli(args);
  expect(result, result.stderr).toMatchObject({ status, stdout: '' });
  return result.stderr;
}

const ViewerCommunities: TypedDocumentNode<
  {
    communities: { id: string; name: string }[];
    viewer: { memberships: { role: { name: string }; community: { name: string } }[] };
  },
  Record<string, never>
> = parse(`
  query ViewerCommunities {
    communities { id name }
    viewer { memberships { role { name } community { name } } }
  }
`);

interface Created {
  id: string;
}

interface CommunityNode {
  id: string;
  name: string;
  children: CommunityNode[];
}

async function createUserRow() {
  return prisma.user.create({ data: { name: unique('user'), email: `${randomUUID()}@cli.test.invalid` } });
}

describe('communities, users, members and keys', () => {
  test('builds a community tree, a member and a key that works against the API', { timeout: 180_000 }, async () => {
    const [rootName, childName, leafName] = [unique('cli mssp'), unique('cli client'), unique('cli site')];
    const root = cliJson<Created>(['community', 'create', '--name', rootName]);
    const child = cliJson<Created>(['community', 'create', '--name', childName, '--parent', rootName]);
    const leaf = cliJson<Created>(['community', 'create', '--name', leafName, '--parent', child.id]);

    const tree = cliJson<CommunityNode[]>(['community', 'list']);
    expect(tree.find((node) => node.id === root.id)).toEqual({
      id: root.id,
      name: rootName,
      children: [{ id: child.id, name: childName, children: [{ id: leaf.id, name: leafName, children: [] }] }],
    });
    expect(cli(['community', 'list']).stdout).toContain(`${leaf.id}      ${leafName}\n`);

    const email = `${randomUUID()}@cli.test.invalid`;
    const user = cliJson<Created>(['user', 'create', '--name', 'CLI user', '--email', email]);
    cliJson(['member', 'add', '--user', email, '--community', rootName, '--role', 'viewer']);
    const replaced = cliJson(['member', 'add', '--user', user.id, '--community', root.id, '--role', 'analyst']);
    expect(replaced).toEqual({ userId: user.id, communityId: root.id, role: 'analyst', previousRole: 'viewer' });
    const { key } = cliJson<{ key: string }>(['key', 'create', '--user', email, '--name', 'ci']);

    const data = await new Client(app, key, user.id).gql(ViewerCommunities);
    expect(data.communities.map((c) => fromGlobalId(c.id).id).sort()).toEqual([root.id, child.id, leaf.id].sort());
    expect(data.viewer.memberships).toEqual([{ role: { name: 'analyst' }, community: { name: rootName } }]);
  });

  test('shows a key once, stores only its hash, and a revoked key gets 401', { timeout: 120_000 }, async () => {
    const user = await createUserRow();
    const community = await prisma.community.create({ data: { name: unique('cli keys') } });
    const viewer = await prisma.role.findUniqueOrThrow({ where: { name: 'viewer' } });
    await prisma.membership.create({ data: { userId: user.id, communityId: community.id, roleId: viewer.id } });

    const { status, stdout } = cli(['key', 'create', '--user', user.email]);
    expect(status).toBe(0);
    expect(stdout).toContain('shown only this once');
    expect(stdout.match(/ioc_\S+/g)).toHaveLength(1);
    const key = /ioc_\S+/.exec(stdout)?.[0] ?? expect.fail(`no key in ${stdout}`);

    const { rows } = await pool.query('SELECT * FROM api_keys WHERE user_id = $1', [user.id]);
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows[0])).not.toContain(key);
    expect(rows[0]).toMatchObject({ key_hash: hashApiKey(key), prefix: key.slice(0, 10), name: 'cli' });

    const client = new Client(app, key, user.id);
    expect((await client.execute(ViewerCommunities)).status).toBe(200);

    const listed = cliJson<object[]>(['key', 'list', '--user', user.email]);
    expect(listed).toEqual([expect.objectContaining({ id: rows[0].id, prefix: key.slice(0, 10), revokedAt: null })]);
    expect(cliJson(['key', 'revoke', '--id', rows[0].id])).toMatchObject({ alreadyRevoked: false });
    expect((await client.execute(ViewerCommunities)).status).toBe(401);
    expect(cliJson(['key', 'revoke', '--id', rows[0].id])).toMatchObject({ alreadyRevoked: true });
    expect(cliJson<{ revokedAt: string | null }[]>(['key', 'list', '--user', user.id])[0].revokedAt).not.toBeNull();
  });

  test('creates roles from known permissions only', { timeout: 60_000 }, () => {
    const name = unique('cli role');
    const created = cliJson(['role', 'create', '--name', name, '--permissions', 'view_ioc_collections, VIEW_ALERTS']);
    expect(created).toMatchObject({ name, permissions: ['VIEW_IOC_COLLECTIONS', 'VIEW_ALERTS'], builtIn: false });
    const roles = cliJson<{ name: string; builtIn: boolean }[]>(['role', 'list']);
    expect(roles).toContainEqual(expect.objectContaining({ name: 'admin', builtIn: true }));
    expect(roles).toContainEqual(expect.objectContaining({ name, builtIn: false }));
    expect(cliFailure(['role', 'create', '--name', name, '--permissions', 'VIEW_ALERTS'], 1)).toContain(
      `A role named "${name}" already exists`,
    );
  });

  test('unknown users, communities and roles are clear errors', { timeout: 120_000 }, async () => {
    const user = await createUserRow();
    const community = await prisma.community.create({ data: { name: unique('cli errors') } });
    const member = (overrides: Record<string, string>) => {
      const args = { user: user.email, community: community.id, role: 'viewer', ...overrides };
      return ['member', 'add', ...Object.entries(args).flatMap(([option, value]) => [`--${option}`, value])];
    };

    expect(cliFailure(member({ community: 'no such community' }), 1)).toContain(
      'No community "no such community". See ids and names with `npm run cli -- community list`',
    );
    const unknownRole = cliFailure(member({ role: 'boss' }), 1);
    // Roles are shared by every test file: others' roles may stand between the built-in ones.
    expect(unknownRole).toMatch(/No role "boss"\. Roles: admin, (.+, )?analyst, (.+, )?sensor, (.+, )?viewer\b/);
    expect(unknownRole).toContain('`npm run cli -- role create` adds one');
    expect(cliFailure(member({ user: 'nobody@cli.test.invalid' }), 1)).toContain(
      'No user with email "nobody@cli.test.invalid". Create one with',
    );
    expect(cliFailure(['community', 'create', '--name', community.name], 1)).toContain(
      `A community named "${community.name}" already exists at the top level (id ${community.id})`,
    );

    // Sub-community names are unique per parent only: a name shared across parents needs the id.
    const shared = unique('cli shared');
    for (const parent of [community, await prisma.community.create({ data: { name: unique('cli other') } })]) {
      await prisma.community.create({ data: { name: shared, parentId: parent.id } });
    }
    expect(cliFailure(['community', 'create', '--name', 'x', '--parent', shared], 1)).toContain(
      `Several communities are named "${shared}"`,
    );
  });
});

describe('usage', () => {
  test.each([
    { args: [], message: 'Missing command.' },
    { args: ['community', 'create'], message: 'Missing --name <name>.' },
    { args: ['community', 'create', '--name', 'My', 'Community'], message: 'quote values that contain spaces' },
    { args: ['community', 'move'], message: 'Unknown command "community move".' },
    { args: ['role', 'create', '--name', 'x', '--permissions', 'VIEW_ALERTS,FLY'], message: 'unknown permission FLY' },
    { args: ['key', 'revoke', '--id', '42'], message: '--id: "42" is not a key id' },
    { args: ['key', 'list', '--user', 'a@b.c', '--usr', 'x'], message: 'Unknown option --usr.' },
    // Names are shown to people: no direction overrides, zero-width or control characters.
    {
      args: ['community', 'create', '--name', 'Acme\u202Egnp.exe'],
      message: '--name: the name must not contain invisible or text-direction characters (U+202E).',
    },
    { args: ['user', 'create', '--name', 'Ada\u200B', '--email', 'a@b.c'], message: 'characters (U+200B).' },
    {
      args: ['role', 'create', '--name', 'x\u001b[2J', '--permissions', 'VIEW_ALERTS'],
      message: '--name: the name must not contain control characters (U+001B).',
    },
  ])('$args exits 2: $message', ({ args, message }) => {
    const stderr = cliFailure(args, 2);
    expect(stderr).toContain(message);
    expect(stderr).toContain('Usage: npm run cli --');
  });

  test('--help shows every command, or one command', () => {
    const general = cli(['--help']);
    expect(general.status).toBe(0);
    for (const command of ['community create', 'community list', 'user create', 'role list', 'role create']) {
      expect(general.stdout).toContain(`  ${command}`);
    }
    for (const command of ['member add', 'key create', 'key list', 'key revoke', 'threats import']) {
      expect(general.stdout).toContain(`  ${command}`);
    }
    expect(cli(['key', 'create', '--help'])).toMatchObject({
      status: 0,
      stdout: expect.stringContaining('Usage: npm run cli -- key create --user <email or id> [--name <name>]'),
    });
  });
});

describe('threats import', () => {
  const writeCatalogue = (content: unknown) => {
    const file = path.join(tempDir, `${randomUUID()}.json`);
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
    return file;
  };
  const threatsNamed = (names: string[]) =>
    prisma.threat.findMany({
      where: { name: { in: names } },
      select: { name: true, aliases: true, kind: true, externalId: true },
      orderBy: { name: 'asc' },
    });

  test('a JSON list: created, then updated on re-run, never duplicated', { timeout: 60_000 }, async () => {
    const [withId, withoutId] = [unique('cli threat a'), unique('cli threat b')];
    const externalId = `CLI-${randomUUID()}`;
    const entries = [
      { name: withId, aliases: ['First alias'], type: 'malware', mitre_id: externalId },
      { name: withoutId, aliases: [] as string[] },
    ];
    const file = writeCatalogue(entries);
    const first = cliJson(['threats', 'import', '--file', file, '--kind', 'tool']);
    expect(first).toEqual({ file, entries: 2, created: 2, updated: 0 });

    entries[0].aliases.push('Second alias');
    writeFileSync(file, JSON.stringify(entries));
    expect(cliJson(['threats', 'import', '--file', file, '--kind', 'tool'])).toMatchObject({ created: 0, updated: 2 });
    expect(await threatsNamed([withId, withoutId])).toEqual([
      { name: withId, aliases: ['First alias', 'Second alias'], kind: 'malware', externalId },
      { name: withoutId, aliases: [], kind: 'tool', externalId: null },
    ]);
  });

  test('a MISP galaxy cluster: created, then updated on re-run', { timeout: 60_000 }, async () => {
    const name = unique('cli galaxy');
    const externalId = `CLI-${randomUUID()}`;
    const file = writeCatalogue({
      type: 'mitre-intrusion-set',
      values: [{ value: name, meta: { synonyms: ['Galaxy alias'], external_id: [externalId] } }],
    });
    expect(cliJson(['threats', 'import', '--file', file])).toMatchObject({ entries: 1, created: 1, updated: 0 });
    expect(cli(['threats', 'import', '--file', file]).stdout).toContain('Imported 1 threat from');
    expect(await threatsNamed([name])).toEqual([
      { name, aliases: ['Galaxy alias'], kind: 'intrusion-set', externalId },
    ]);
  });

  test('unreadable catalogues fail before the database is touched', { timeout: 60_000 }, () => {
    expect(cliFailure(['threats', 'import', '--file', path.join(tempDir, 'missing.json')], 1)).toContain('Cannot read');
    expect(cliFailure(['threats', 'import', '--file', writeCatalogue('{ not json')], 1)).toContain('is not JSON');
    expect(cliFailure(['threats', 'import', '--file', writeCatalogue({ threats: [] })], 1)).toContain(
      'expected a JSON list of threats or a MISP galaxy cluster',
    );
  });

  // In a database of its own: the real catalogue renames and re-aliases some entries of the demo
  // catalogue that the other test files share (same ATT&CK ids).
  test.skipIf(!existsSync(REAL_CATALOGUE))(
    'the real ATT&CK catalogue: 500 threats with their aliases, re-run updates them',
    { timeout: 180_000 },
    async () => {
      await withScratchDatabase(async (url, db) => {
        const args = ['threats', 'import', '--file', REAL_CATALOGUE];
        expect(cliJson(args, url)).toMatchObject({ entries: 500, created: 500, updated: 0 });
        expect(cliJson(args, url)).toMatchObject({ entries: 500, created: 0, updated: 500 });

        const { rows: roles } = await db.query<{ name: string }>('SELECT name FROM roles WHERE built_in');
        expect(roles.map((r) => r.name).sort()).toEqual(['admin', 'analyst', 'sensor', 'viewer']);
        const { rows } = await db.query<{ name: string; aliases: string[]; kind: string; external_id: string }>(
          'SELECT name, aliases, kind, external_id FROM threats',
        );
        const stored = new Map(rows.map((row) => [row.external_id, row]));
        const expected = JSON.parse(readFileSync(REAL_CATALOGUE, 'utf8')) as RealThreat[];
        expect(rows).toHaveLength(500);
        for (const threat of expected) {
          expect(stored.get(threat.mitre_id)).toEqual({
            name: threat.name,
            // An alias that only repeats the name is dropped.
            aliases: threat.aliases.filter((alias) => alias.toLowerCase() !== threat.name.toLowerCase()),
            kind: threat.type,
            external_id: threat.mitre_id,
          });
        }
        expect(stored.get('G0007')?.aliases).toContain('Fancy Bear');
        expect(rows.filter((row) => row.aliases.length).length).toBeGreaterThan(250);
      });
    },
  );
});

interface RealThreat {
  name: string;
  aliases: string[];
  type: string;
  mitre_id: string;
}

/** A fresh, empty database on the test server, dropped afterwards. */
async function withScratchDatabase(run: (url: string, db: pg.Client) => Promise<void>): Promise<void> {
  const name = `ioc_cli_${randomUUID().replaceAll('-', '')}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  const db = new pg.Client({ connectionString: url.toString() });
  try {
    await db.connect();
    await run(url.toString(), db);
  } finally {
    await db.end().catch(() => {});
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

describe('events send', () => {
  /** Two events, a line that is not JSON, and an event past the retention. */
  const lines = () => [
    JSON.stringify({ '@timestamp': daysAgo(1), source: { ip: '203.0.113.7' } }),
    'not json',
    JSON.stringify({ '@timestamp': daysAgo(1), 'destination.ip': '198.51.100.7' }),
    JSON.stringify({ '@timestamp': daysAgo(5000), 'source.ip': '203.0.113.8' }),
  ];
  const writeEvents = (content: string | Buffer, extension = 'ndjson') => {
    const file = path.join(tempDir, `${randomUUID()}.${extension}`);
    writeFileSync(file, content);
    return file;
  };
  const storedEvents = async (communityId: string) =>
    (
      await pool.query<{ count: number }>('SELECT count(*)::int AS count FROM events WHERE community_id = $1', [
        communityId,
      ])
    ).rows[0].count;

  test(
    'answers as POST /api/events does for the same lines, and keeps the same events',
    { timeout: 60_000 },
    async () => {
      const [viaCli, viaApi] = [await createTenant(app), await createTenant(app)];
      const community = await prisma.community.findUniqueOrThrow({
        where: { id: viaCli.communityRawId },
        select: { id: true, name: true },
      });
      const file = writeEvents(lines().join('\n'));
      const sent = cliJson<Omit<IngestAnswer, 'status'> & { file: string; community: unknown }>([
        'events',
        'send',
        '--file',
        file,
        '--community',
        community.name,
      ]);
      const { status, ...answered } = await sendEvents(viaApi.client, lines());
      expect(status).toBe(200);
      expect(answered).toMatchObject({ accepted: 2, rejected: 2 });
      expect(sent).toEqual({ file, community, ...answered });
      expect(await storedEvents(viaCli.communityRawId)).toBe(2);
      expect(await storedEvents(viaApi.communityRawId)).toBe(2);
    },
  );

  test('a gzip file, the community given by id, in text', { timeout: 60_000 }, async () => {
    const tenant = await createTenant(app);
    const community = await prisma.community.findUniqueOrThrow({ where: { id: tenant.communityRawId } });
    const file = writeEvents(gzipSync(lines().join('\n')), 'ndjson.gz');
    const { status, stdout } = cli(['events', 'send', '--file', file, '--community', community.id]);
    expect(status).toBe(0);
    const [summary, notJson, tooOld, ...rest] = stdout.trimEnd().split('\n');
    expect(summary).toBe(`Sent ${file} to "${community.name}": 2 accepted, 2 rejected.`);
    expect(notJson).toMatch(/^ {2}line 2: invalid JSON/);
    expect(tooOld).toMatch(/^ {2}line 4: /);
    expect(rest).toEqual([]);
    expect(await storedEvents(tenant.communityRawId)).toBe(2);
  });

  test('a missing file or an unknown community: exit code 1 and what is wrong', { timeout: 60_000 }, () => {
    const missing = path.join(tempDir, 'missing.ndjson');
    expect(cliFailure(['events', 'send', '--file', missing, '--community', 'any'], 1)).toBe(
      `Error: Cannot read ${missing}: no such file.\n`,
    );
    const name = unique('no such community');
    expect(cliFailure(['events', 'send', '--file', writeEvents(lines()[0]), '--community', name], 1)).toBe(
      `Error: No community "${name}". See ids and names with \`npm run cli -- community list\`.\n`,
    );
  });
});
