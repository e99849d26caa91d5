import { describe, expect, it } from 'vitest';
import { isRead, parsePersistence, persistenceDelta } from '../../bench/engine-metrics';

const text = (n: number) => `# HELP persistence_requests Persistence requests
persistence_requests{namespace="default",operation="UpdateWorkflowExecution",service_name="history"} ${10 + n}
persistence_requests{namespace="default",operation="UpdateWorkflowExecution",service_name="matching"} 1
persistence_requests{namespace="other",operation="UpdateWorkflowExecution",service_name="history"} 99
persistence_requests{namespace="_unknown_",operation="GetTransferTasks",service_name="history"} ${5 + n}
persistence_requests{namespace="system",operation="GetCurrentClusterMetadata",service_name="server"} ${100 * n}
visibility_persistence_requests{namespace="default",operation="RecordWorkflowExecutionStarted",service_name="history"} ${n}
visibility_persistence_requests{namespace="temporal_system",operation="RecordWorkflowExecutionStarted",service_name="history"} 7
persistence_latency_bucket{namespace="default",operation="UpdateWorkflowExecution",le="+Inf"} 500
`;

describe('parsePersistence', () => {
  it("keeps the namespace's requests, the shards' unattributed ones without housekeeping, and visibility without the server's own", () => {
    expect(parsePersistence(text(0), 'default', 0)).toEqual({
      at: 0,
      persistence: { UpdateWorkflowExecution: 11 },
      shared: { GetTransferTasks: 5 },
      visibility: { RecordWorkflowExecutionStarted: 0 },
    });
  });

  it('subtracts the idle rate over the same length of time', () => {
    const idle = { from: parsePersistence(text(0), 'default', 0), to: parsePersistence(text(1), 'default', 10_000) };
    const d = persistenceDelta(parsePersistence(text(0), 'default', 0), parsePersistence(text(20), 'default', 5_000), idle);
    // 20 in 5 s, less 1 per 10 s of idling
    expect(d.persistence).toEqual({ UpdateWorkflowExecution: 20 });
    expect(d.visibility).toEqual({ RecordWorkflowExecutionStarted: 20 });
  });
});

describe('isRead', () => {
  it.each([
    ['GetWorkflowExecution', true],
    ['ReadHistoryBranch', true],
    ['UpdateWorkflowExecution', false],
    ['CreateTasks', false],
    ['CompleteTasksLessThan', false],
  ])('%s is a read: %s', (op, read) => expect(isRead(op)).toBe(read));
});
