import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';

/**
 * The names operators type into the Temporal UI and CLIs (contract: "Temporal, for operators").
 * Built here once; the API, the workflows and the tests all import them.
 */
export const messageWorkflowId = (messageId: string) => `message:${messageId}`;
export const deliveryWorkflowId = (messageId: string, endpointId: string) => `delivery:${messageId}:${endpointId}`;
/** The delivery a delivery workflow id names; a message id may hold colons, a server-made endpoint id never does. */
export function parseDeliveryWorkflowId(workflowId: string): { messageId: string; endpointId: string } | undefined {
  const match = /^delivery:(.+):([^:]+)$/.exec(workflowId);
  return match ? { messageId: match[1]!, endpointId: match[2]! } : undefined;
}
/** One slice of a large fan-out, named after the message and the slice's first endpoint. */
export const fanoutWorkflowId = (messageId: string, firstEndpointId: string) => `fanout:${messageId}:${firstEndpointId}`;

/** A slice of a recovery or a redelivery: the starter's run id keeps it apart from the message's own slices. */
export const redeliverySliceWorkflowId = (messageId: string, firstEndpointId: string, starterRunId: string) =>
  `fanout:${messageId}:${firstEndpointId}:${starterRunId}`;
export const recoverWorkflowId = (endpointId: string, uuid: string) => `recover:${endpointId}:${uuid}`;
export const redeliverWorkflowId = (messageId: string, uuid: string) => `redeliver:${messageId}:${uuid}`;

export const SEARCH_ATTRIBUTES = {
  tenantId: defineSearchAttributeKey('TenantId', SearchAttributeType.KEYWORD),
  eventType: defineSearchAttributeKey('EventType', SearchAttributeType.KEYWORD),
  messageId: defineSearchAttributeKey('MessageId', SearchAttributeType.KEYWORD),
  endpointId: defineSearchAttributeKey('EndpointId', SearchAttributeType.KEYWORD),
};

/** `--search-attribute` values for `temporal server start-dev`. */
export const SEARCH_ATTRIBUTE_FLAGS = Object.values(SEARCH_ATTRIBUTES).map((key) => `${key.name}=Keyword`);

export function messageSearchAttributes(m: { tenantId: string; eventType: string; messageId: string }): SearchAttributePair[] {
  return [
    { key: SEARCH_ATTRIBUTES.tenantId, value: m.tenantId },
    { key: SEARCH_ATTRIBUTES.eventType, value: m.eventType },
    { key: SEARCH_ATTRIBUTES.messageId, value: m.messageId },
  ];
}

export function deliverySearchAttributes(d: { tenantId: string; eventType: string; messageId: string; endpointId: string }): SearchAttributePair[] {
  return [...messageSearchAttributes(d), { key: SEARCH_ATTRIBUTES.endpointId, value: d.endpointId }];
}
