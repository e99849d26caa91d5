import type { Db } from '../db/pool';
import type { Logger } from '../observability/logger';
import { idleQueuesOf, passTurn, queuesBlockedBy, queuesOfMessage, stalledQueues, type QueueRef, type Turn } from '../db/queues';
import { forgetUnrouted } from '../db/routing';

/** Starts the delivery workflow of a delivery that holds its queue's turn (src/temporal/delivery-starter.ts). */
export type StartDelivery = (turn: Turn) => Promise<void>;

/** FIFO queues hand their turns on this many at a time when one step touches several (a fan-out, a recovery). */
const CONCURRENCY = 8;

/**
 * Ordered delivery's moves, for the activities, the API and the reconciler: hand a queue's turn on and
 * start the delivery that gets it. The turn is passed in Postgres first (src/db/queues.ts); the start is
 * best effort, because a head that holds the turn without a run is started again by `resume` (and by any
 * later step on its queue), and a start twice is refused by Temporal as already started.
 */
export function createTurns({ db, start, log }: { db: Db; start?: StartDelivery; log: Logger }) {
  async function handOn(q: QueueRef, o: { ensure?: boolean } = {}): Promise<void> {
    const turn = await passTurn(db, q, o);
    if (!turn || !start) return;
    try {
      await start(turn);
    } catch (err) {
      log.warn({ err, ...turn }, "could not start the delivery that holds its queue's turn; the reconciler starts it");
    }
  }

  async function handOnAll(queues: QueueRef[], o: { ensure?: boolean } = {}): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(CONCURRENCY, queues.length) }, async () => {
        while (next < queues.length) await handOn(queues[next++]!, o);
      }),
    );
  }

  return {
    handOn,
    handOnAll,

    /** An endpoint was enabled again: its held queues resume (up to `limit` now; the sweep resumes any others). */
    async resumeEndpoint(endpointId: string, limit: number): Promise<void> {
      await handOnAll(await idleQueuesOf(db, endpointId, limit));
    },

    /** A message's last page was routed: the queues that waited for it look at their next delivery again. */
    async routed(messageId: string): Promise<void> {
      await handOnAll(await queuesBlockedBy(db, messageId));
    },

    /**
     * For the reconciler: a message workflow run ended (terminated, timed out, failed) and will route no more.
     * Its message stops holding back the queues that waited for it, and the queues its FIFO deliveries were
     * recorded in move on. Safe to call again.
     */
    async routingEnded(messageId: string): Promise<void> {
      await forgetUnrouted(db, messageId);
      await handOnAll([...(await queuesBlockedBy(db, messageId)), ...(await queuesOfMessage(db, messageId))]);
    },

    /**
     * For the reconciler's every pass: queues that should move and do not (a start lost to a crash, an endpoint
     * enabled again, a message whose workflow never started) are moved on. Returns how many it looked at.
     */
    async resume(limit = 500): Promise<number> {
      const queues = await stalledQueues(db, limit);
      await handOnAll(queues, { ensure: true });
      return queues.length;
    },
  };
}

export type Turns = ReturnType<typeof createTurns>;
