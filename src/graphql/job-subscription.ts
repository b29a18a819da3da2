// Background jobs followed over subscriptions (imports, telemetry reports, retrohunts):
// "current state first, then every change, until it ends", written once.
import type { ObjectRef } from '@pothos/core';
import { Repeater } from 'graphql-yoga';
import { JobStatus } from '../generated/prisma/enums.ts';
import { NotFoundError } from '../errors.ts';
import type { PubSubTopics } from '../db/pubsub.ts';
import { builder } from './builder.ts';
import { readVisibleNode } from './visible-nodes.ts';

export const JobStatusEnum = builder.enumType(JobStatus, { name: 'JobStatus' });

const ENDED: JobStatus[] = ['SUCCEEDED', 'FAILED'];

/**
 * `changes` signals that the job may have changed; `read` loads it (null when missing or
 * hidden). A Repeater, not an async generator, so that a client leaving stops the
 * listener at once instead of at the job's next event.
 */
function followJob<Job extends { status: JobStatus }>(
  changes: AsyncIterable<unknown>,
  read: () => Promise<Job | null>,
  typename: string,
): Repeater<Job> {
  return new Repeater(async (push, stop) => {
    // Listen before reading, so no change between the two is missed.
    const events = changes[Symbol.asyncIterator]();
    const stopped = stop.then(() => ({ done: true as const, value: undefined }));
    let next = events.next();
    try {
      let job = await read();
      if (!job) throw new NotFoundError(typename);
      await push(job);
      while (!ENDED.includes(job.status)) {
        if ((await Promise.race([next, stopped])).done) return;
        next = events.next();
        job = (await read())!;
        await push(job);
      }
    } finally {
      stop();
      await events.return?.();
    }
  });
}

type BuilderTypes = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer Types> ? Types : never;

type JobTopic = {
  [Topic in keyof PubSubTopics]: PubSubTopics[Topic] extends [string, { id: string }] ? Topic : never;
}[keyof PubSubTopics];

/**
 * The subscription `topic(id:)` to one job of the node type `job`: read with the node's own
 * access rule (src/graphql/visible-nodes.ts) before each delivery, so a job the caller may
 * not see answers NOT_FOUND like node(id).
 */
export function addJobSubscription<Job extends { status: JobStatus }>(
  topic: JobTopic,
  job: ObjectRef<BuilderTypes, Job>,
  description: string,
): void {
  const typename = job.name;
  builder.subscriptionField(topic, (t) =>
    t.field({
      type: job,
      description,
      args: { id: t.arg.globalID({ for: job, required: true }) },
      subscribe: (_, { id }, ctx) =>
        followJob(ctx.pubsub.subscribe(topic, id.id), () => readVisibleNode<Job>(ctx, typename, id.id), typename),
      // The row that decided whether the job has ended is the one delivered: a second read
      // here could already see the end, which would then be sent twice. Relations the
      // client selects are loaded from it. (`never`: the generic row type defeats Pothos' result inference.)
      resolve: (row: Job) => row as never,
    }),
  );
}
