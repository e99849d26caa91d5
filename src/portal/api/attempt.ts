import { api, unwrap, type components } from './client';

export type AttemptDetail = components['schemas']['AttemptDetail'];

export const loadAttempt = (id: string) => unwrap(api.GET('/attempts/{id}', { params: { path: { id } } }));
