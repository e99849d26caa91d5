/**
 * What a workflow run cost the engine, read from its event history by event type only, so the count
 * stays right whatever the workflows do: events, workflow tasks, activity tasks and attempts,
 * local-activity markers, timers, child starts, signals, and Temporal Cloud's billable actions.
 *
 * Billable actions follow https://docs.temporal.io/cloud/actions: a workflow start (client start,
 * child start, continue-as-new: one per run), each activity attempt (start or retry), all local
 * activities recorded in one workflow task together, each timer, each signal, each search-attribute
 * upsert, each accepted update. Heartbeats and queries are billable too but leave no event; hookflow's
 * workflows use neither.
 */
// A CommonJS module: Node's ESM loader sees only its default export.
import proto, { type temporal as Proto } from '@temporalio/proto';

const { temporal } = proto;

type HistoryEvent = Proto.api.history.v1.IHistoryEvent;
const T = temporal.api.enums.v1.EventType;

export type RunCost = {
  events: number;
  workflowTasks: number;
  workflowTasksCompleted: number;
  /** Workflow tasks that failed or timed out (each also counts in workflowTasks). */
  workflowTasksFailed: number;
  activityTasks: number;
  activityAttempts: number;
  localActivities: number;
  /** Workflow tasks that recorded at least one local-activity marker: Cloud bills one action per such task. */
  localActivityBatches: number;
  timers: number;
  childStarts: number;
  signals: number;
  searchAttributeUpserts: number;
  updates: number;
  continuedAsNew: number;
  billableActions: number;
};

export const COST_FIELDS: (keyof RunCost)[] = [
  'events', 'workflowTasks', 'workflowTasksCompleted', 'workflowTasksFailed', 'activityTasks', 'activityAttempts',
  'localActivities', 'localActivityBatches', 'timers', 'childStarts', 'signals', 'searchAttributeUpserts', 'updates',
  'continuedAsNew', 'billableActions',
];

export const zeroCost = (): RunCost => Object.fromEntries(COST_FIELDS.map((f) => [f, 0])) as RunCost;

export function addCost(into: RunCost, c: RunCost): RunCost {
  for (const f of COST_FIELDS) into[f] += c[f];
  return into;
}

/** int64 fields arrive as Long objects from the client, plain numbers from JSON. */
const num = (v: unknown): number => {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'object' && 'toNumber' in v && typeof v.toNumber === 'function') return (v.toNumber as () => number)();
  return Number(v);
};

/** The SDKs record a local activity as a marker named like `core_local_activity` (TypeScript, Python, .NET, Rust) or `LocalActivity` (Go, Java). */
const isLocalActivityMarker = (name: string | null | undefined) => /local_?activity/i.test(name ?? '');

export function runCost(events: HistoryEvent[]): RunCost {
  const c = zeroCost();
  c.events = events.length;
  const batches = new Set<number>();
  for (const e of events) {
    switch (e.eventType) {
      case T.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
        c.workflowTasks += 1;
        break;
      case T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        c.workflowTasksCompleted += 1;
        break;
      case T.EVENT_TYPE_WORKFLOW_TASK_FAILED:
      case T.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
        c.workflowTasksFailed += 1;
        break;
      case T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        c.activityTasks += 1;
        break;
      case T.EVENT_TYPE_ACTIVITY_TASK_STARTED:
        // Only the last attempt's start is in the history; its `attempt` says how many there were.
        c.activityAttempts += Math.max(1, num(e.activityTaskStartedEventAttributes?.attempt));
        break;
      case T.EVENT_TYPE_MARKER_RECORDED:
        if (isLocalActivityMarker(e.markerRecordedEventAttributes?.markerName)) {
          c.localActivities += 1;
          batches.add(num(e.markerRecordedEventAttributes?.workflowTaskCompletedEventId));
        }
        break;
      case T.EVENT_TYPE_TIMER_STARTED:
        c.timers += 1;
        break;
      case T.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        c.childStarts += 1;
        break;
      case T.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        c.signals += 1;
        break;
      case T.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
        c.searchAttributeUpserts += 1;
        break;
      case T.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        c.updates += 1;
        break;
      case T.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
        c.continuedAsNew += 1;
        break;
      default:
        break;
    }
  }
  c.localActivityBatches = batches.size;
  const started = events.some((e) => e.eventType === T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED) ? 1 : 0;
  c.billableActions = started + c.activityAttempts + c.localActivityBatches + c.timers + c.signals + c.searchAttributeUpserts + c.updates;
  return c;
}

/** The workflow type of a run, from its first event. */
export function workflowType(events: HistoryEvent[]): string {
  return events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? 'unknown';
}

/** Runs this run leads to: the children it started, and its continue-as-new successor. */
export function linkedRuns(workflowId: string, events: HistoryEvent[]): { workflowId: string; runId: string }[] {
  const out: { workflowId: string; runId: string }[] = [];
  for (const e of events) {
    const child = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
    if (child?.workflowId && child.runId) out.push({ workflowId: child.workflowId, runId: child.runId });
    const next = e.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
    if (next) out.push({ workflowId, runId: next });
  }
  return out;
}
