/** What the workflows and the activities exchange. Plain data: it is recorded in workflow history. */

export type MessageWorkflowInput = {
  messageId: string;
  tenantId: string;
  eventType: string;
  channels: string[];
  /** Set by continue-as-new: the fan-out resumes after this endpoint. */
  afterSeq?: string;
};

/** One slice of a message's endpoints, whose deliveries one `fanoutWorkflow` starts. */
export type FanoutWorkflowInput = {
  messageId: string;
  tenantId: string;
  eventType: string;
  endpointIds: string[];
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

/** Redeliver every delivery to one endpoint that failed within [since, until). */
export type RecoverWorkflowInput = {
  endpointId: string;
  since: string;
  until: string | null;
  /** Set by continue-as-new: the page resumes after this delivery. */
  after?: { updatedAt: string; messageId: string };
};
