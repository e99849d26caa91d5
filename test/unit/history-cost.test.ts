import { describe, expect, it } from 'vitest';
import Long from 'long';
// A CommonJS module: Node's ESM loader sees only its default export.
import proto, { type temporal as Proto } from '@temporalio/proto';

const { temporal } = proto;
import { linkedRuns, runCost, workflowType } from '../../bench/history-cost';

const T = temporal.api.enums.v1.EventType;
type Event = Proto.api.history.v1.IHistoryEvent;

// The client hands int64 fields over as Long objects; these tests do the same.
const long = (n: number) => Long.fromNumber(n);
let nextId = 1;
const ev = (eventType: Proto.api.enums.v1.EventType, extra: Partial<Event> = {}): Event => ({ eventId: long(nextId++), eventType, ...extra });

const wft = (): Event[] => [ev(T.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED), ev(T.EVENT_TYPE_WORKFLOW_TASK_STARTED), ev(T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)];

describe('runCost', () => {
  it('counts a delivery-shaped run: two local activities in one task, an activity retried twice, a timer', () => {
    const history: Event[] = [
      ev(T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, { workflowExecutionStartedEventAttributes: { workflowType: { name: 'deliveryWorkflow' } } }),
      ...wft(),
      ev(T.EVENT_TYPE_MARKER_RECORDED, { markerRecordedEventAttributes: { markerName: 'core_local_activity', workflowTaskCompletedEventId: long(4) } }),
      ev(T.EVENT_TYPE_MARKER_RECORDED, { markerRecordedEventAttributes: { markerName: 'core_local_activity', workflowTaskCompletedEventId: long(4) } }),
      ev(T.EVENT_TYPE_TIMER_STARTED),
      ev(T.EVENT_TYPE_TIMER_FIRED),
      ...wft(),
      ev(T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
      ev(T.EVENT_TYPE_ACTIVITY_TASK_STARTED, { activityTaskStartedEventAttributes: { attempt: 3 } }),
      ev(T.EVENT_TYPE_ACTIVITY_TASK_COMPLETED),
      ...wft(),
      ev(T.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED),
    ];
    const c = runCost(history);
    expect(c).toMatchObject({
      events: history.length,
      workflowTasks: 3,
      workflowTasksCompleted: 3,
      activityTasks: 1,
      activityAttempts: 3,
      localActivities: 2,
      localActivityBatches: 1,
      timers: 1,
      childStarts: 0,
    });
    // start 1 + attempts 3 + one local-activity batch + timer 1
    expect(c.billableActions).toBe(6);
    expect(workflowType(history)).toBe('deliveryWorkflow');
  });

  it('counts failed workflow tasks, signals, upserts and child starts, and bills no start for a history without one', () => {
    const c = runCost([
      ev(T.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED),
      ev(T.EVENT_TYPE_WORKFLOW_TASK_FAILED),
      ev(T.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED),
      ev(T.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES),
      ev(T.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED),
      ev(T.EVENT_TYPE_MARKER_RECORDED, { markerRecordedEventAttributes: { markerName: 'core_patch', workflowTaskCompletedEventId: long(3) } }),
    ]);
    expect(c).toMatchObject({ workflowTasks: 1, workflowTasksFailed: 1, signals: 1, searchAttributeUpserts: 1, childStarts: 1, localActivities: 0 });
    expect(c.billableActions).toBe(2);
  });
});

describe('linkedRuns', () => {
  it('follows started children and the continue-as-new successor', () => {
    const runs = linkedRuns('message:m1', [
      ev(T.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED, { childWorkflowExecutionStartedEventAttributes: { workflowExecution: { workflowId: 'delivery:m1:e1', runId: 'r1' } } }),
      ev(T.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW, { workflowExecutionContinuedAsNewEventAttributes: { newExecutionRunId: 'r2' } }),
    ]);
    expect(runs).toEqual([
      { workflowId: 'delivery:m1:e1', runId: 'r1' },
      { workflowId: 'message:m1', runId: 'r2' },
    ]);
  });
});
