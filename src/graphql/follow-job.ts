// "Current state first, then every change, until it ends" for background jobs followed
// over subscriptions (imports, telemetry reports).
import { Repeater } from 'graphql-yoga';
import type { JobStatus } from '../generated/prisma/enums.ts';
import { NotFoundError } from '../errors.ts';

const ENDED: JobStatus[] = ['SUCCEEDED', 'FAILED'];

/**
 * `changes` signals that the job may have changed; `read` loads it (null when missing or
 * hidden). A Repeater, not an async generator, so that a client leaving stops the
 * listener at once instead of at the job's next event.
 */
export function followJob<Job extends { status: JobStatus }>(
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
