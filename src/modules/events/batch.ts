// Writes one batch of parsed events in one transaction: the events and their observables,
// then the hooks' rows (detection's matches, telemetry's sightings). A batch PostgreSQL
// refuses because of a value in it is stored without the lines at fault, which are
// reported (see storeEvents).
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { inTransaction } from '../../db/transaction.ts';
import type { ParsedEvent } from './ecs.ts';
import type { BatchSteps, EventHook } from './hooks.ts';
import { copyEventRows, ensureEventPartitions, eventRows, findRefusedDocuments } from './store.ts';

export interface IncomingEvent {
  /** Its line in the body, to report it if PostgreSQL refuses it. */
  line: number;
  event: ParsedEvent;
  /** The line as received (valid JSON): stored as is, cheaper than serialising again. */
  json: string;
}

export interface StoreEventsOptions {
  communityId: string;
  /** The communities above it, nearest first: their shared collections' rules apply too. */
  ancestorIds: readonly string[];
  /** Events older than this are counted and matched but not kept (past the event retention). */
  keepEventsFrom: Date;
}

/** Lines PostgreSQL refused, with why; every other event of the batch is stored. */
export type RefusedLines = Array<{ line: number; reason: string }>;

/**
 * A failure caused by a value in the rows, which the same rows would meet again and the
 * others would not: a data exception (class 22, such as a number jsonb cannot hold) or a
 * program limit (class 54, such as nesting past max_stack_depth). Any other failure (the
 * connection, a deadlock) is the database's and is thrown.
 */
const refusesValue = (error: unknown): error is pg.DatabaseError =>
  error instanceof pg.DatabaseError && /^(22|54)/.test(error.code ?? '');

const refusal = (message: string) => `the database cannot store this event: ${message}`;

/**
 * Stores a batch (see writeBatch). When PostgreSQL refuses a value of it, the lines whose
 * document it refuses are set aside and the rest is stored; should that still be refused
 * (a value outside the document), it is halved and each half stored on its own, down to
 * single lines. Lines refused alone are reported and every other line is stored, counted
 * and matched, so a bad line can neither fail the request nor hide the events around it
 * from detection. Only a batch that fails pays for this.
 */
export async function storeEvents(
  pool: pg.Pool,
  hooks: readonly EventHook[],
  batch: IncomingEvent[],
  options: StoreEventsOptions,
): Promise<RefusedLines> {
  try {
    await writeBatch(pool, hooks, batch, options);
    return [];
  } catch (error) {
    if (!refusesValue(error)) throw error;
  }
  const refusedDocuments = await findRefusedDocuments(
    pool,
    batch.map((event) => event.json),
  );
  const refused: RefusedLines = [];
  const rest: IncomingEvent[] = [];
  batch.forEach((event, index) => {
    const reason = refusedDocuments.get(index);
    if (reason === undefined) rest.push(event);
    else refused.push({ line: event.line, reason: refusal(reason) });
  });
  const store = async (events: IncomingEvent[]): Promise<void> => {
    try {
      await writeBatch(pool, hooks, events, options);
    } catch (error) {
      if (!refusesValue(error)) throw error;
      if (events.length === 1) {
        refused.push({ line: events[0].line, reason: refusal(error.message) });
        return;
      }
      // In line order, one after the other, as batches are written.
      const half = Math.ceil(events.length / 2);
      await store(events.slice(0, half));
      await store(events.slice(half));
    }
  };
  if (rest.length) await store(rest);
  return refused;
}

/**
 * Stores events and runs the hooks on them, all in one transaction: they are either wholly
 * in (events, matches, sightings) or not at all; the hooks publish once it has committed.
 */
async function writeBatch(
  pool: pg.Pool,
  hooks: readonly EventHook[],
  incoming: IncomingEvent[],
  { communityId, ancestorIds, keepEventsFrom }: StoreEventsOptions,
): Promise<void> {
  const events = incoming.map(({ event, json }) => ({ id: uuidv7(), event, json }));
  const rows = eventRows(communityId, events, keepEventsFrom);
  await ensureEventPartitions(pool, rows);
  const steps: BatchSteps[] = [];
  for (const hook of hooks) steps.push(await hook.batch({ communityId, ancestorIds, events }));

  await inTransaction(pool, async (client) => {
    for (const step of steps) await step.lock?.(client);
    await copyEventRows(client, rows);
    for (const step of steps) await step.write?.(client);
  });
  for (const step of steps) step.publish?.();
}
