import { api, unwrap, type Attempt } from './client';

export type AttemptDetail = Attempt & {
  request: { url: string; headers: Record<string, string>; body: string } | null;
  response: { statusCode: number | null; headers: Record<string, string>; body: string } | null;
};

export const loadAttempt = (id: string) => unwrap(api.GET('/attempts/{id}', { params: { path: { id } } })) as Promise<AttemptDetail>;
