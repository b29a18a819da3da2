// `events send`: a file of events through the same pipeline as POST /api/events.
import { createReadStream, statSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { PgBoss } from 'pg-boss';
import pino from 'pino';
import type { Db } from '../db/prisma.ts';
import { eventPipeline } from '../event-pipeline.ts';
import type { IngestResult } from '../modules/events/ingest.ts';
import { communityAncestors } from '../modules/communities/service.ts';
import { createMetrics } from '../observability/metrics.ts';
import { createPostgresPubSub } from '../db/pubsub.ts';
import { command, messageOf, type Command, type Connection, type Output } from './command.ts';
import { findCommunity } from './lookup.ts';

/** Reasons shown in the text output; --json lists as many as the API answers. */
const SHOWN_REASONS = 10;

function checkReadable(file: string): void {
  try {
    if (!statSync(file).isFile()) throw new Error('not a file');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : messageOf(error);
    throw new Error(`Cannot read ${file}: ${reason}.`);
  }
}

async function send(db: Db, { env, url, pool }: Connection, file: string, communityRef: string): Promise<Output> {
  const community = await findCommunity(db, communityRef);
  const ancestorIds = await communityAncestors(db, community.id);
  // Alerts raised by these events reach the service's subscribers, as from an API process.
  const pubsub = await createPostgresPubSub(url, (error) => console.error(`Event publisher: ${messageOf(error)}`));
  // The pipeline counts what it does; here into a registry of this process that nobody scrapes
  // (the job queue it is given is never started).
  const metrics = createMetrics(new PgBoss(url), pino({ level: 'silent' }));
  const body = file.endsWith('.gz') ? createReadStream(file).pipe(createGunzip()) : createReadStream(file);
  let result: IngestResult;
  try {
    result = await eventPipeline({ env, pool, pubsub, metrics }).ingest(body, {
      communityId: community.id,
      ancestorIds,
    });
  } finally {
    await pubsub.close();
  }
  const { accepted, rejected, errors, truncated } = result;
  const reasons = errors.slice(0, SHOWN_REASONS).map(({ line, reason }) => `  line ${line}: ${reason}`);
  if (rejected > reasons.length)
    reasons.push(`  … ${rejected - reasons.length} more (--json lists the first ${errors.length})`);
  const text = [
    `Sent ${file} to "${community.name}": ${accepted} accepted, ${rejected} rejected.`,
    ...reasons,
    ...(truncated ? [truncated.reason] : []),
  ].join('\n');
  return { text, json: { file, community, ...result }, incomplete: Boolean(truncated) };
}

export const eventCommands: Record<string, Command> = {
  'events send': command({
    summary:
      'Send events to a community as POST /api/events does: newline-delimited ECS JSON (gzip when the name ends ' +
      'in .gz). Prints the accepted and rejected counts and the first reasons.',
    required: { file: 'path.ndjson', community: 'community id or name' },
    prepare: ({ file, community }) => {
      checkReadable(file);
      return (db, connection) => send(db, connection, file, community);
    },
  }),
};
