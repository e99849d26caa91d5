import { call, hookflow, type components } from './client';

export type AttemptDetail = components['schemas']['AttemptDetail'];

export const loadAttempt = (id: string) => call(hookflow.attempts.get(id));
