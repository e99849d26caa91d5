/** What the workflows and the activities exchange. Plain data: it is recorded in workflow history. */

/**
 * Rows per page of a fan-out, a recovery and a redelivery to all: the activity reads at most this many, and
 * the workflow continues as new when a page is this full, so the two must agree or paging silently stops.
 * Each child costs the parent ~3 history events, so a page of 500 stays far below Temporal's 2,000 pending
 * children and 51,200 events. A plain constant, so workflow code may import it (it is bundled and replayed).
 */
export const FANOUT_PAGE_SIZE = 500;

export type MessageWorkflowInput = {
  messageId: string;
  tenantId: string;
  eventType: string;
  channels: string[];
  /** Set by continue-as-new: the fan-out resumes after this endpoint. */
  afterSeq?: string;
};

/**
 * One slice of deliveries, started by one `fanoutWorkflow`: a page of a message's endpoints (every
 * version), or the deliveries of a recovery or a redelivery to all, which start again (`redeliver`).
 * Version 1 slices carry `endpointIds` of one message; later ones may list `deliveries` instead.
 */
export type FanoutWorkflowInput = {
  messageId: string;
  tenantId: string;
  eventType: string;
  endpointIds: string[];
  deliveries?: DeliveryWorkflowInput[];
  redeliver?: boolean;
};

export type DeliveryWorkflowInput = {
  messageId: string;
  endpointId: string;
  tenantId: string;
  eventType: string;
};

/**
 * The retry policy of one delivery, from the worker's configuration and the endpoint's own schedule.
 * Computed by an activity because workflow code cannot read configuration.
 */
export type DeliveryPlan = {
  startToCloseMs: number;
  scheduleToCloseMs: number;
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  /** 0 = unlimited (the expiry ends the delivery). */
  maximumAttempts: number;
  /** An endpoint's `retrySchedule`: the delay before attempt n+1 is retryScheduleMs[n-1]. */
  retryScheduleMs: number[] | null;
  /** The endpoint's `rateLimitPerSecond`: each attempt first reserves a slot. Absent = no limit. */
  rateLimitPerSecond?: number | null;
};

export type DeliverInput = {
  messageId: string;
  endpointId: string;
  plan: DeliveryPlan;
  /** Under a rate limit: when the first attempt's reserved slot is (epoch ms). */
  slotAt?: number;
};

/** The run of a delivery workflow that owns its row in Postgres (src/db/deliveries.ts). */
export type RunClaim = { runId: string; claimedAt: number };

export type FirstAttemptInput = { messageId: string; endpointId: string; run: RunClaim };

/**
 * What one step of a delivery came to. `retry` carries the delay before the next attempt when it is not
 * Temporal's own backoff (an endpoint's schedule, a receiver's Retry-After, a rate-limit slot), and
 * `attempted: false` when no POST was made (waiting for a rate-limit slot is never an attempt).
 */
export type Outcome =
  | { kind: 'succeeded' }
  | { kind: 'retry'; failureType: string; reason: string; delayMs: number; attempted: boolean }
  | { kind: 'failed'; failureType: string; reason: string };

/** What the first attempt came to; with a retry, the plan the retrying activity follows. */
export type FirstAttemptResult = Exclude<Outcome, { kind: 'retry' }> | (Extract<Outcome, { kind: 'retry' }> & { plan: DeliveryPlan });

/** The retrying activity of a run that owns its row; `first` is the inline first attempt's failure. */
export type RetryInput = {
  messageId: string;
  endpointId: string;
  run: RunClaim;
  plan: DeliveryPlan;
  first: { failureType: string; reason: string; delayMs: number };
};

export type FailDeliveryInput = { messageId: string; endpointId: string; run: RunClaim; reason: string };

/** `POST /events/:id/redeliver` to every endpoint the message was for, a page at a time. */
export type RedeliverWorkflowInput = { messageId: string; tenantId: string; eventType: string; afterEndpointId?: string };

/** Redeliver every delivery to one endpoint that failed within [since, until). */
export type RecoverWorkflowInput = {
  endpointId: string;
  since: string;
  until: string | null;
  /** Set by continue-as-new: the page resumes after this delivery. */
  after?: { updatedAt: string; messageId: string };
};
