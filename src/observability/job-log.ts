// One log line per job attempt (queue, job id, attempt, duration, outcome), and the same
// in the ioc_job_duration_seconds histogram. Job data stays out: it holds tenants' ids.
import type { Job } from 'pg-boss';
import type { Logger } from 'pino';
import type { Metrics } from './metrics.ts';

/** A pg-boss work handler (one job per call) that runs `run` and reports how it went. */
export function observed<J extends Job<unknown>>(
  { logger, metrics }: { logger: Logger; metrics: Metrics },
  run: (job: J) => Promise<unknown>,
): (jobs: J[]) => Promise<void> {
  return async ([job]) => {
    const startedAt = performance.now();
    let outcome = 'failed';
    try {
      await run(job);
      outcome = 'completed';
    } finally {
      const seconds = (performance.now() - startedAt) / 1000;
      metrics.jobDuration.observe({ queue: job.name, outcome }, seconds);
      const line = {
        queue: job.name,
        jobId: job.id,
        attempt: job.retryCount,
        durationMs: Math.round(seconds * 1e4) / 10,
        outcome,
      };
      if (outcome === 'completed') logger.info(line, 'job');
      else logger.warn(line, 'job');
    }
  };
}
