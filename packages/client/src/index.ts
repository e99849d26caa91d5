export {
  Hookflow,
  type Attempt, type AttemptDetail, type CreateEndpoint, type CreatePortalSession, type Delivery, type Endpoint, type EndpointSecret,
  type Event, type EventAccepted, type EventType, type HookflowHttp, type HookflowOptions, type ListAttempts, type ListEndpoints,
  type ListEvents, type PortalSession, type PutEventType, type Recover, type Redeliver, type Redelivered, type RotateSecret,
  type SendEvent, type TestEvent, type UpdateEndpoint,
} from './client.js';
export { HookflowConnectionError, HookflowError, type ErrorDetail } from './errors.js';
export { RawJson, rawJson } from './json.js';
export { PageIterator, type Page } from './pagination.js';
export { retryDelayMs, type RetryOptions } from './retry.js';
export { verify, WebhookVerificationError, type WebhookEvent } from './verify.js';
export type { components, paths } from './openapi.js';
