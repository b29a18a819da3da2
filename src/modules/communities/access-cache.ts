// Who a key belongs to and what it may see, kept per process for open subscriptions, which
// re-check it on every event they deliver. Any change of access (a key revoked, a membership,
// role or community changed) is announced on the `accessChanged` topic by whichever process
// made it, the CLI included; every process then forgets everything (changes are rare) and
// tells the open subscriptions to check again. A change whose announcement is lost (a
// listener reconnecting, a role rewritten by another version's start-up) is caught by
// forgetting everything every ACCESS_RECHECK_MS all the same.
import type { Logger } from 'pino';
import type { Db } from '../../db/prisma.ts';
import type { AppPubSub } from '../../db/pubsub.ts';
import type { Access } from './access.ts';
import { loadAccess, viewerOfKey } from './service.ts';
import type { Viewer } from './store.ts';

/** How stale cached access may get when no change was announced. */
const ACCESS_RECHECK_MS = 60_000;

export interface CurrentAccess {
  viewer: Viewer;
  access: Access;
}

export class AccessCache {
  /** Loads in flight or done, so that concurrent look-ups for one key share one query. */
  private viewers = new Map<string, Promise<Viewer | null>>();
  private accesses = new Map<string, Promise<Access>>();
  private readonly listeners = new Set<() => void>();
  private readonly changes: AsyncGenerator<{ reason: string }>;
  private readonly recheck: NodeJS.Timeout;

  /** Follows `accessChanged` events until `close`. */
  constructor(
    private readonly db: Db,
    pubsub: AppPubSub,
    logger: Logger,
  ) {
    const changes = pubsub.subscribe('accessChanged');
    this.changes = changes;
    void (async () => {
      for await (const change of changes) {
        logger.debug({ reason: change.reason }, 'access changed: cached access forgotten');
        this.invalidate();
      }
    })().catch((error: unknown) => {
      // Without announcements only the periodic re-check below is left: said loudly.
      logger.error({ err: error }, 'access changes no longer followed');
      this.invalidate();
    });
    this.recheck = setInterval(() => this.invalidate(), ACCESS_RECHECK_MS).unref();
  }

  /**
   * The key's viewer and access for a community selection (X-Community-Ids), or null once
   * the key is revoked. Rejects with UnknownCommunitySelectionError when the selection
   * names a community the viewer may no longer see.
   */
  async current(apiKeyId: string, selection: string[] | null): Promise<CurrentAccess | null> {
    const viewer = await this.viewer(apiKeyId);
    if (!viewer) return null;
    const key = `${apiKeyId}|${selection?.join(',') ?? '*'}`;
    const access = await shared(this.accesses, key, () => loadAccess(this.db, viewer.userId, selection));
    return { viewer, access };
  }

  /** The key's viewer, or null once it is revoked. */
  viewer(apiKeyId: string): Promise<Viewer | null> {
    return shared(this.viewers, apiKeyId, () => viewerOfKey(this.db, apiKeyId));
  }

  /** Forgets every entry (loads still in flight are not reused) and tells the listeners. */
  invalidate(): void {
    this.viewers = new Map();
    this.accesses = new Map();
    for (const listener of this.listeners) listener();
  }

  /** Calls `listener` after every invalidation; answers the function that stops it. */
  onInvalidate(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    clearInterval(this.recheck);
    await this.changes.return(undefined);
  }
}

function shared<T>(entries: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let entry = entries.get(key);
  if (!entry) {
    const loading = load();
    entries.set(key, loading);
    // A failed load (the database away) is not kept: the next look-up tries again.
    loading.catch(() => {
      if (entries.get(key) === loading) entries.delete(key);
    });
    entry = loading;
  }
  return entry;
}
