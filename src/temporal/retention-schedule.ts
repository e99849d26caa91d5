import { Client, Connection, ScheduleAlreadyRunning, ScheduleOverlapPolicy, type ScheduleOptionsStartWorkflowAction } from '@temporalio/client';
import type { Config } from '../config';
import type { Logger } from '../observability/logger';
import { temporalConnectionOptions } from './connection';
import type { retentionWorkflow } from '../../workflows';

/** `hookflow-retention` for the default task queue; one per task queue, so hookflows sharing a namespace keep apart. */
export const retentionScheduleId = (taskQueue: string) => `${taskQueue}-retention`;

/**
 * Creates the Schedule that runs `retentionWorkflow` every RETENTION_INTERVAL, or brings an existing one
 * up to this worker's RETENTION and RETENTION_INTERVAL. Idempotent, so every worker runs it at start;
 * a pause set by an operator stays. Overlap SKIP: a purge still running when the next is due is not doubled.
 */
export async function ensureRetentionSchedule(o: { address: string; config: Pick<Config, 'temporal' | 'retention'>; log: Logger }): Promise<void> {
  const { temporal, retention } = o.config;
  const scheduleId = retentionScheduleId(temporal.taskQueue);
  const connection = await Connection.connect(temporalConnectionOptions(o.config.temporal, o.address));
  try {
    const client = new Client({ connection, namespace: temporal.namespace });
    const spec = { intervals: [{ every: retention.intervalMs }] };
    const action: ScheduleOptionsStartWorkflowAction<typeof retentionWorkflow> = {
      type: 'startWorkflow',
      workflowType: 'retentionWorkflow',
      // Temporal appends the scheduled time: `hookflow-retention-2026-11-23T10:00:00Z`.
      workflowId: scheduleId,
      taskQueue: temporal.taskQueue,
      args: [{ retentionMs: retention.maxAgeMs }],
    };
    try {
      await client.schedule.create({ scheduleId, spec, action, policies: { overlap: ScheduleOverlapPolicy.SKIP } });
      o.log.info({ scheduleId, retentionMs: retention.maxAgeMs, intervalMs: retention.intervalMs }, 'retention schedule created');
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      await client.schedule.getHandle(scheduleId).update((previous) => ({
        ...previous,
        spec,
        action,
        policies: { ...previous.policies, overlap: ScheduleOverlapPolicy.SKIP },
      }));
    }
  } finally {
    await connection.close();
  }
}
