import { Client, Connection, type WorkflowExecutionInfo } from '@temporalio/client';
// CommonJS: its namespaces are properties of the default export under Node's ESM loader.
import proto from '@temporalio/proto';
import type { Db } from '../db/pool';
import { failRun, failUnclaimed } from '../db/deliveries';
import type { Logger } from '../observability/logger';
import type { TemporalConnectionOptions } from './connection';
import { SEARCH_ATTRIBUTES } from '../../workflows/ids';

/** How often the reconciler looks for runs that ended without a word. */
export const RECONCILE_INTERVAL_MS = 2_000;
/** Visibility lags the runs it lists a little: each look starts this far before the last one did. */
const OVERLAP_MS = 30_000;
/** How far back the first look after start-up reaches (terminations while no worker ran). */
const FIRST_LOOK_BACK_MS = 24 * 3_600_000;

/**
 * A delivery run records its own end, a cancelled one included (workflows/index.ts). A run that is
 * terminated (an operator, a reset) or times out cannot: this loop finds such runs of the worker's task
 * queue in Temporal's visibility and fails the rows they owned, with the reason, within seconds. A
 * message or slice workflow that ended so fails the rows it created that no delivery run claimed.
 */
export async function startReconciler(o: { connection: TemporalConnectionOptions; namespace: string; taskQueue: string; db: Db; log: Logger }): Promise<{ stop(): Promise<void> }> {
  const connection = await Connection.connect(o.connection);
  const client = new Client({ connection, namespace: o.namespace });
  let since = Date.now() - FIRST_LOOK_BACK_MS;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<void> = Promise.resolve();

  const once = async () => {
    const started = Date.now();
    const query = `TaskQueue = "${o.taskQueue}" AND WorkflowType IN ("deliveryWorkflow", "messageWorkflow", "fanoutWorkflow") ` +
      `AND ExecutionStatus IN ("Terminated", "Canceled", "TimedOut") AND CloseTime > "${new Date(since).toISOString()}"`;
    for await (const run of client.workflow.list({ query })) {
      if (stopped) return;
      const reason = await endReason(client, run);
      if (run.type === 'deliveryWorkflow') {
        const failed = await failRun(o.db, run.runId, reason);
        if (failed > 0) o.log.info({ workflowId: run.workflowId, runId: run.runId, reason }, 'delivery run ended without a word: marked failed');
      } else {
        const messageId = run.typedSearchAttributes.get(SEARCH_ATTRIBUTES.messageId);
        if (messageId) await failUnclaimed(o.db, messageId, reason);
      }
    }
    since = started - OVERLAP_MS;
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
      await connection.close();
    },
  };
}

const { EventType, HistoryEventFilterType } = proto.temporal.api.enums.v1;

/** The run's close event says why it ended: a termination's reason, a cancellation, a timeout. */
async function endReason(client: Client, run: WorkflowExecutionInfo): Promise<string> {
  const status = run.status.name;
  if (status === 'CANCELLED') return 'cancelled: the workflow was cancelled';
  if (status === 'TIMED_OUT') return 'timed out: the workflow exceeded its execution timeout';
  const { history } = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId: run.workflowId, runId: run.runId },
    historyEventFilterType: HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
  });
  const close = history?.events?.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED);
  const why = close?.workflowExecutionTerminatedEventAttributes?.reason;
  return `terminated${why ? `: ${why}` : ''}`;
}
