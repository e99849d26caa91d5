import type pg from 'pg';
import type { Logger } from '../observability/logger';
import type { Db } from './pool';

export type Listener = {
  /** Runs on the listening connection itself (session state such as advisory locks lives there). */
  query(sql: string, params: unknown[]): Promise<void>;
  close(): Promise<void>;
};

const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5_000;

/**
 * One connection of the pool kept for LISTEN: `onNotification` gets each payload of the channels. A lost
 * connection is replaced (250 ms, doubling to 5 s apart) and `onConnect` runs on each new one before any
 * notification, so the caller can take again the session state it had (advisory locks).
 */
export async function startListener(o: {
  db: Db;
  channels: string[];
  log: Logger;
  onNotification(channel: string, payload: string): void;
  onConnect?(client: pg.PoolClient): Promise<void>;
}): Promise<Listener> {
  let client: pg.PoolClient | undefined;
  let closed = false;
  let delayMs = RECONNECT_MIN_MS;
  let timer: NodeJS.Timeout | undefined;

  async function connect(): Promise<void> {
    const c = await o.db.connect();
    c.on('notification', (n) => o.onNotification(n.channel, n.payload ?? ''));
    c.on('error', (err) => lost(c, err));
    try {
      for (const channel of o.channels) await c.query(`LISTEN ${channel}`);
      await o.onConnect?.(c);
    } catch (err) {
      c.release(true);
      throw err;
    }
    client = c;
    delayMs = RECONNECT_MIN_MS;
  }

  function lost(c: pg.PoolClient, err: Error): void {
    if (client !== c) return;
    client = undefined;
    c.release(err);
    if (closed) return;
    o.log.warn({ err, channels: o.channels }, 'lost the Postgres connection that listens for notifications; reconnecting');
    retry();
  }

  function retry(): void {
    timer = setTimeout(() => {
      connect().catch((err: unknown) => {
        o.log.warn({ err }, 'could not reconnect the listening Postgres connection');
        delayMs = Math.min(delayMs * 2, RECONNECT_MAX_MS);
        if (!closed) retry();
      });
    }, delayMs);
  }

  await connect();
  // One statement at a time on the connection, in the order asked (pg stops queueing them itself in pg@9).
  let queue: Promise<unknown> = Promise.resolve();
  return {
    query(sql, params) {
      // Without a connection there is no session state to change: onConnect takes it again on the next one.
      const run = queue.then(() => client?.query(sql, params));
      queue = run.catch(() => undefined);
      return run.then(() => undefined);
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      const c = client;
      client = undefined;
      if (c) {
        await c.query(`UNLISTEN *`).catch(() => undefined);
        // Destroyed, not returned: the session's advisory locks go with it.
        c.release(true);
      }
    },
  };
}
