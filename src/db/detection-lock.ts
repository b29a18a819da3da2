// The lock that orders event batches against the changes detection must see at once.
//
// Event batches hold, shared, a lock per community whose collections' rules apply to them
// (their own and the MSSPs' above); a change that new batches must see at once (a rule
// enabled or disabled, indicators added, edited or revoked) takes the lock of the
// collection's community exclusively before it commits. So no batch that began before the
// change can commit after it: once the change has answered, every batch still to come sees
// it, and a retrohunt queued with it finds every event stored before it. Other tenants'
// batches hold other locks and never wait.
import type pg from 'pg';
import type { Db } from './prisma.ts';

/** The lock of the community whose id (text) the SQL expression `communityId` gives. */
const lockKey = (communityId: string) => `hashtextextended('detection:' || ${communityId}, 0)`;

const HOLD_SHARED = `SELECT pg_advisory_xact_lock_shared(${lockKey('c.id')}) FROM unnest($1::text[]) AS c(id)`;

const TAKE_EXCLUSIVE = `SELECT 1 AS held FROM collections c,
    LATERAL pg_advisory_xact_lock(${lockKey('c.community_id::text')})
    WHERE c.id = $1::uuid`;

/** In an event batch's transaction, first. */
export async function holdDetectionShared(client: pg.PoolClient, communityIds: readonly string[]): Promise<void> {
  await client.query(HOLD_SHARED, [communityIds]);
}

/** In the transaction of a change to a collection that detection must see from now on. */
export async function awaitBatchesInFlight(
  tx: { $queryRawUnsafe: Db['$queryRawUnsafe'] },
  collectionId: string,
): Promise<void> {
  await tx.$queryRawUnsafe(TAKE_EXCLUSIVE, collectionId);
}
