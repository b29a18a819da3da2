// The per-key limit on open subscriptions (SUBSCRIPTIONS_MAX_PER_KEY), over every socket,
// SSE stream and API process. Each open subscription holds a lease in PostgreSQL; this
// process beats while it holds any, and a process that stops beating (killed, cut off)
// is taken for dead by the others, which delete it and its leases.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from 'pino';
import { SubscriptionLimitError } from '../../errors.ts';
import { beat, dropLease, removeProcess, takeLease } from './store.ts';

const HEARTBEAT_SECONDS = 10;
/** Three missed heartbeats. */
const STALE_SECONDS = 3 * HEARTBEAT_SECONDS;

export interface SubscriptionLease {
  /** Gives the lease back; later calls do nothing. */
  release(): Promise<void>;
}

export class SubscriptionLeases {
  private readonly processId = randomUUID();
  private heartbeat?: NodeJS.Timeout;

  constructor(
    private readonly pool: pg.Pool,
    private readonly limitPerKey: number,
    private readonly logger: Logger,
  ) {}

  /** A lease for one more subscription of the key; SubscriptionLimitError when it holds the most allowed. */
  async acquire(apiKeyId: string): Promise<SubscriptionLease> {
    const id = randomUUID();
    const limits = { limit: this.limitPerKey, staleSeconds: STALE_SECONDS };
    if (!(await takeLease(this.pool, { id, processId: this.processId, apiKeyId }, limits))) {
      throw new SubscriptionLimitError(
        `Subscription limit reached: an API key may hold at most ${this.limitPerKey} open subscriptions ` +
          'over all its connections (SUBSCRIPTIONS_MAX_PER_KEY); end one before starting another',
      );
    }
    this.heartbeat ??= setInterval(() => void this.beat(), HEARTBEAT_SECONDS * 1000).unref();
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        // A lease that cannot be dropped now goes with this process when it stops or dies.
        await dropLease(this.pool, id).catch((error: unknown) =>
          this.logger.warn({ err: error }, 'subscription lease not released'),
        );
      },
    };
  }

  private async beat(): Promise<void> {
    try {
      await beat(this.pool, this.processId, STALE_SECONDS);
    } catch (error) {
      this.logger.warn({ err: error }, 'subscription heartbeat failed');
    }
  }

  /** Stops beating and gives back every lease of this process. */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    await removeProcess(this.pool, this.processId);
  }
}
