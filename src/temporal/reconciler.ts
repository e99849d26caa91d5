import type pg from 'pg';
import { Client, Connection, WorkflowNotFoundError, type WorkflowExecutionInfo } from '@temporalio/client';
// CommonJS: its namespaces are properties of the default export under Node's ESM loader.
import proto from '@temporalio/proto';
import {
  failOrphans, pendingDeliveries, quietDeliveries, unclaimedDeliveries, type DeliveryTarget, type PendingDelivery, type QuietCursor,
} from '../db/deliveries';
import { createPool, type Db } from '../db/pool';
import { inPool } from '../lib/in-pool';
import type { Logger } from '../observability/logger';
import { createTurns } from '../ordering/turns';
import type { TemporalConnectionOptions } from './connection';
import { deliveryStarter } from './delivery-starter';
import { SEARCH_ATTRIBUTES, deliveryWorkflowId, messageWorkflowId, parseDeliveryWorkflowId } from '../../workflows/ids';

/**
 * A delivery's row ends when its run ends: the run records it itself (succeeded, failed, cancelled). A run
 * that is terminated (by an operator, by a reset) or times out cannot, nor can a run that ends before its
 * first task claimed the row, nor a message or fan-out run that ends before starting the deliveries whose
 * rows it made. The reconciler finds those rows and fails them with the reason (docs/reconciler.md):
 *
 * - fast: every RECONCILE_INTERVAL_MS it lists, from Temporal's visibility, the runs of this task queue
 *   that closed so since its last look (less OVERLAP_MS for visibility's lag), and checks their rows;
 * - complete: every pending row that nothing has written for QUIET_MS past when something should have
 *   (its next attempt, or its creation or claim) is checked too, a batch at a time, round and round. A run
 *   that shows in visibility late, or never, is found that way: there is no window in which it is missed.
 *
 * A row is failed only when the newest run of its delivery workflow id has closed (Temporal's history,
 * which is consistent, says so), or when no run of it exists and neither its message workflow nor a
 * fan-out slice of the message still runs to start one. Each failure is a compare-and-set on the row's
 * run, so a run that claims the row meanwhile keeps it.
 *
 * FIFO endpoints (docs/ordering.md): a delivery waiting in its queue has no run and is never judged here;
 * one that holds its queue's turn is, and when it fails the turn passes on. A message run that ended stops
 * holding back the queues that waited for it to be routed, and each pass moves on FIFO queues that stalled.
 *
 * One per cluster: every worker runs this loop, and only the one holding a Postgres advisory lock (per
 * task queue) works; when it dies its session ends, the lock goes, and another worker takes over within
 * an interval. It runs beside the worker, not as a workflow, so it never waits for a task slot: those are
 * exactly what is exhausted when runs pile up.
 */
export const RECONCILE_INTERVAL_MS = 2_000;
/** Visibility lags the runs it lists a little: each look starts this far before the last one did. */
const OVERLAP_MS = 30_000;
/** How far back a worker that becomes the reconciler looks first; older ones are the complete walk's. */
const FIRST_LOOK_BACK_MS = 3_600_000;
/** How long past its due time a pending row goes unwritten before the complete walk checks it. */
export const QUIET_MS = 60_000;
/** Quiet rows checked per pass, and the rest between two walks through all of them. */
const WALK_BATCH = 500;
const WALK_REST_MS = 30_000;
/** Ids per visibility query of the walk, and history reads in flight at once. */
const IDS_PER_QUERY = 100;
const READS_IN_FLIGHT = 16;

export type Reconciler = { stop(): Promise<void> };

export async function startReconciler(o: {
  connection: TemporalConnectionOptions;
  namespace: string;
  taskQueue: string;
  databaseUrl: string;
  db: Db;
  log: Logger;
}): Promise<Reconciler> {
  const connection = await Connection.connect(o.connection);
  const client = new Client({ connection, namespace: o.namespace });
  const rec = createReconciliation({ client, db: o.db, taskQueue: o.taskQueue, log: o.log });
  const leadership = createLeadership(o.databaseUrl, `hookflow-reconciler:${o.namespace}:${o.taskQueue}`);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<void> = Promise.resolve();
  let leading = false;

  const once = async () => {
    const lead = await leadership.holds();
    if (lead && !leading) o.log.info({ taskQueue: o.taskQueue }, 'this worker reconciles delivery rows');
    if (!lead) rec.forget();
    leading = lead;
    if (lead) await rec.pass();
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      pass = once()
        .catch((err: unknown) => o.log.warn({ err }, 'reconciler pass failed; trying again'))
        .finally(schedule);
    }, RECONCILE_INTERVAL_MS);
  };
  schedule();

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await pass;
      await leadership.release();
      await connection.close();
    },
  };
}

/**
 * A session-level advisory lock on a connection of its own: held while the session lives, so a worker
 * that dies or loses Postgres gives it up without a word. Re-taken on a new connection after an error.
 */
function createLeadership(databaseUrl: string, name: string) {
  const pool = createPool(databaseUrl, 1);
  let session: pg.PoolClient | undefined;
  let lost = false;
  return {
    async holds(): Promise<boolean> {
      if (session && !lost) return true;
      session?.release(true);
      session = undefined;
      lost = false;
      const client = await pool.connect();
      client.on('error', () => (lost = true));
      try {
        const { rows } = await client.query<{ held: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS held', [name]);
        if (rows[0]?.held) {
          session = client;
          return true;
        }
        client.release();
        return false;
      } catch (err) {
        client.release(true);
        throw err;
      }
    },
    async release(): Promise<void> {
      session?.release(true);
      session = undefined;
      await pool.end();
    },
  };
}

const { EventType, HistoryEventFilterType } = proto.temporal.api.enums.v1;
type RunEnd = 'running' | 'none' | { closed: string };
/** A pending row to judge, with what brought it here: its run's close as visibility listed it, or why its fan-out ended. */
type Candidate = PendingDelivery & { closedBy?: { runId: string; status: string }; hint?: string };
type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;

/** The passes, apart from leadership, so a test can run one on demand. */
export function createReconciliation(o: { client: Client; db: Db; taskQueue: string; log: Logger; quietMs?: number }) {
  const { client, db } = o;
  const turns = createTurns({ db, start: deliveryStarter(client, o.taskQueue), log: o.log });
  const quietMs = o.quietMs ?? QUIET_MS;
  let since: number | undefined;
  let walk: { after?: QuietCursor; restUntil: number } = { restUntil: 0 };

  /**
   * The newest run of a workflow id: still running, none at all, or why it closed.
   * Describe first: a close-event read of a run still open waits for it to close.
   */
  async function newestRunEnd(workflowId: string): Promise<RunEnd> {
    let run;
    try {
      run = await client.workflow.getHandle(workflowId).describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return 'none';
      throw err;
    }
    return run.status.name === 'RUNNING' ? 'running' : { closed: await closedBecause(workflowId, run.runId, run.status.name) };
  }

  /** Why a closed run closed: its status says, or for a termination or failure its close event. */
  async function closedBecause(workflowId: string, runId: string, status: string): Promise<string> {
    switch (status) {
      case 'CANCELLED':
        return 'cancelled: the workflow was cancelled';
      case 'TIMED_OUT':
        return 'timed out: the workflow exceeded its execution timeout';
      case 'TERMINATED':
      case 'FAILED': {
        const { history } = await client.workflowService.getWorkflowExecutionHistory({
          namespace: client.options.namespace,
          execution: { workflowId, runId },
          historyEventFilterType: HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
        });
        return closeReason(history?.events?.[0]);
      }
      default:
        return 'ended: its run closed without recording the end of this delivery';
    }
  }

  /** Whether the message's own fan-out (its message workflow, a slice of it) may still start a delivery. */
  async function fanoutRunning(messageId: string): Promise<boolean> {
    if ((await newestRunEnd(messageWorkflowId(messageId))) === 'running') return true;
    const { count } = await client.workflow.count(
      `TaskQueue = "${o.taskQueue}" AND WorkflowType = "fanoutWorkflow" AND MessageId = "${messageId}" AND ExecutionStatus = "Running"`,
    );
    return count > 0;
  }

  /**
   * The reason a pending row fails for, or undefined while something may still end it. `hint` is why the
   * message or slice that made it ended, when that is what brought the row here.
   */
  async function verdict(row: Candidate, fanouts: Map<string, Promise<boolean>>): Promise<string | undefined> {
    const workflowId = deliveryWorkflowId(row.messageId, row.endpointId);
    // Its own run closed (visibility said so): no need to ask which run is newest, since a newer one
    // claims the row again whatever this pass writes.
    if (row.closedBy && row.closedBy.runId === row.runId) return closedBecause(workflowId, row.runId, row.closedBy.status);
    const end = await newestRunEnd(workflowId);
    if (end === 'running') return undefined;
    if (end !== 'none') return end.closed;
    if (!fanouts.has(row.messageId)) fanouts.set(row.messageId, fanoutRunning(row.messageId));
    if (await fanouts.get(row.messageId)) return undefined;
    return row.hint ?? 'never started: the fan-out of its message ended before starting this delivery';
  }

  /** Checks rows a few at a time and fails the orphans in one statement. */
  async function settle(rows: Candidate[]): Promise<number> {
    const fanouts = new Map<string, Promise<boolean>>();
    const orphans: (PendingDelivery & { reason: string })[] = [];
    await inPool(rows.length, READS_IN_FLIGHT, async (i) => {
      const row = rows[i]!;
      const reason = await verdict(row, fanouts);
      if (reason !== undefined) orphans.push({ messageId: row.messageId, endpointId: row.endpointId, runId: row.runId, reason });
    });
    const { failed, queues } = await failOrphans(db, orphans);
    await turns.handOnAll(queues);
    return failed;
  }

  /** Rows of runs that visibility lists as closed without a word since the last look. */
  async function recentlyClosed(): Promise<number> {
    const started = Date.now();
    const from = since ?? started - FIRST_LOOK_BACK_MS;
    const query = `TaskQueue = "${o.taskQueue}" AND CloseTime > "${new Date(from).toISOString()}" AND (` +
      '(WorkflowType = "deliveryWorkflow" AND ExecutionStatus IN ("Terminated", "Canceled", "TimedOut")) OR ' +
      '(WorkflowType IN ("messageWorkflow", "fanoutWorkflow") AND ExecutionStatus IN ("Terminated", "Canceled", "TimedOut", "Failed")))';
    let failed = 0;
    let batch: WorkflowExecutionInfo[] = [];
    const flush = async () => {
      failed += await settleClosed(batch);
      batch = [];
    };
    for await (const run of client.workflow.list({ query, pageSize: 1_000 })) {
      batch.push(run);
      if (batch.length >= 1_000) await flush();
    }
    await flush();
    since = started - OVERLAP_MS;
    return failed;
  }

  async function settleClosed(runs: WorkflowExecutionInfo[]): Promise<number> {
    const targets: DeliveryTarget[] = [];
    const closedBy = new Map<string, Candidate['closedBy']>();
    const fanouts: WorkflowExecutionInfo[] = [];
    for (const run of runs) {
      if (run.type !== 'deliveryWorkflow') {
        if (run.typedSearchAttributes.get(SEARCH_ATTRIBUTES.messageId)) fanouts.push(run);
        continue;
      }
      // Its id names the delivery, search attributes or not (a run an operator started by hand).
      const target = parseDeliveryWorkflowId(run.workflowId);
      if (target) targets.push(target);
      closedBy.set(run.workflowId, { runId: run.runId, status: run.status.name });
    }
    const rows: Candidate[] = (await pendingDeliveries(db, targets))
      .map((row) => ({ ...row, closedBy: closedBy.get(deliveryWorkflowId(row.messageId, row.endpointId)) }));
    if (fanouts.length > 0) {
      const hints = new Map<string, string>();
      for (const run of fanouts) {
        const messageId = run.typedSearchAttributes.get(SEARCH_ATTRIBUTES.messageId)!;
        hints.set(messageId, `never started: ${await closedBecause(run.workflowId, run.runId, run.status.name)} (${run.type} ${run.workflowId})`);
        if (run.type === 'messageWorkflow') await turns.routingEnded(messageId);
      }
      for (const row of await unclaimedDeliveries(db, [...hints.keys()])) rows.push({ ...row, hint: hints.get(row.messageId) });
    }
    return settle(rows);
  }

  /** The next batch of the walk through quiet pending rows; rows whose run visibility lists as running are skipped. */
  async function walkOnce(): Promise<number> {
    if (Date.now() < walk.restUntil) return 0;
    const rows = await quietDeliveries(db, { quietMs, after: walk.after, limit: WALK_BATCH });
    walk = rows.length < WALK_BATCH ? { restUntil: Date.now() + WALK_REST_MS } : { after: rows[rows.length - 1]!.cursor, restUntil: 0 };
    const running = new Set<string>();
    const ids = [...new Set(rows.map((r) => deliveryWorkflowId(r.messageId, r.endpointId)))].filter((id) => /^[\w.:-]+$/.test(id));
    for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
      const list = ids.slice(i, i + IDS_PER_QUERY).map((id) => `"${id}"`).join(', ');
      for await (const run of client.workflow.list({ query: `WorkflowId IN (${list}) AND ExecutionStatus = "Running"` })) running.add(run.workflowId);
    }
    // Visibility may not list a run that started a moment ago: verdict() asks its history before failing anything.
    return settle(rows.filter((r) => !running.has(deliveryWorkflowId(r.messageId, r.endpointId))));
  }

  return {
    async pass(): Promise<void> {
      const started = Date.now();
      const failed = (await recentlyClosed()) + (await walkOnce());
      if (failed > 0) o.log.info({ failed, durationMs: Date.now() - started }, 'delivery rows whose runs ended without a word: marked failed');
      const resumed = await turns.resume();
      if (resumed > 0) o.log.info({ queues: resumed }, 'FIFO queues that had stalled moved on');
    },
    /** Exported for tests: one batch of the complete walk, now. */
    walkOnce,
    /** Another worker reconciles now: start afresh if this one becomes the reconciler again. */
    forget(): void {
      since = undefined;
      walk = { restUntil: 0 };
    },
  };
}

/** Why a terminated or failed run closed, in one line for GET /events/:id, from its close event. */
function closeReason(close: HistoryEvent | undefined): string {
  if (close?.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED) {
    return `failed: ${close.workflowExecutionFailedEventAttributes?.failure?.message ?? 'the workflow failed'}`;
  }
  const why = close?.workflowExecutionTerminatedEventAttributes?.reason;
  return `terminated${why ? `: ${why}` : ''}`;
}
