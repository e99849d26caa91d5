import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import { deliverySearchAttributes, deliveryWorkflowId } from '../../workflows/ids';
import type { StartDelivery } from '../ordering/turns';

/**
 * Starts the delivery workflow of a FIFO delivery that was given its queue's turn. The id is the contract's
 * `delivery:<message>:<endpoint>`, so a start repeated while the run lives is refused as already started.
 * A first run may replace only a run that ended without a word before claiming the row (terminated);
 * a delivery queued again (redeliver, recover) gets a new run beside its closed ones.
 */
export function deliveryStarter(client: Client, taskQueue: string): StartDelivery {
  return async (turn) => {
    const { messageId, endpointId, tenantId, eventType } = turn;
    try {
      await client.workflow.start('deliveryWorkflow', {
        taskQueue,
        workflowId: deliveryWorkflowId(messageId, endpointId),
        args: [{ messageId, endpointId, tenantId, eventType }],
        workflowIdReusePolicy: turn.firstRun ? WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY : WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        typedSearchAttributes: deliverySearchAttributes({ tenantId, eventType, messageId, endpointId }),
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  };
}
