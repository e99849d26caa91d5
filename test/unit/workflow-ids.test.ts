import { describe, expect, it } from 'vitest';
import { deliveryWorkflowId, fanoutWorkflowId, messageWorkflowId, parseDeliveryWorkflowId, recoverWorkflowId } from '../../workflows/ids';

/** The workflow ids operators type (contract: "Temporal, for operators"); tests elsewhere use the builders. */
describe('workflow ids', () => {
  it('are the contract\'s', () => {
    expect(messageWorkflowId('msg_1')).toBe('message:msg_1');
    expect(deliveryWorkflowId('msg_1', 'ep_2')).toBe('delivery:msg_1:ep_2');
    expect(fanoutWorkflowId('msg_1', 'ep_2')).toBe('fanout:msg_1:ep_2');
    expect(recoverWorkflowId('ep_2', '3f1c')).toBe('recover:ep_2:3f1c');
  });

  it('a delivery workflow id names its delivery, colons in the message id and all', () => {
    expect(parseDeliveryWorkflowId(deliveryWorkflowId('sync:8812:done', 'ep_2'))).toEqual({ messageId: 'sync:8812:done', endpointId: 'ep_2' });
    expect(parseDeliveryWorkflowId('message:msg_1')).toBeUndefined();
  });
});
