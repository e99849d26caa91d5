import { api, unwrap } from './client';

export type Period = '24h' | '7d';
export type HealthState = { status: 'healthy' | 'failing' | 'disabled' | 'idle'; since: string | null; reason: string | null };
export type EndpointStats = {
  period: Period;
  bucketSeconds: number;
  buckets: { start: string; succeeded: number; failed: number }[];
  totals: { succeeded: number; failed: number };
  state: HealthState;
};

export const loadStats = (id: string, period: Period) =>
  unwrap(api.GET('/endpoints/{id}/stats', { params: { path: { id }, query: { period } } })) as Promise<EndpointStats>;
