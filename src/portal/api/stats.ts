import { api, unwrap, type components } from './client';

export type Period = components['schemas']['EndpointStats']['period'];
export type EndpointStats = components['schemas']['EndpointStats'];
export type HealthState = components['schemas']['EndpointState'];

export const loadStats = (id: string, period: Period) => unwrap(api.GET('/endpoints/{id}/stats', { params: { path: { id }, query: { period } } }));
