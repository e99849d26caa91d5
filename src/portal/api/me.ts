import { ApiFailure, api, unwrap, type components } from './client';

export type Me = Extract<components['schemas']['Me'], { kind: 'tenant' }>;

/** The session behind the token: its tenant, read-only flag, expiry and theme. */
export async function loadMe(): Promise<Me> {
  const me = await unwrap(api.GET('/me', {}));
  if (me.kind !== 'tenant') throw new ApiFailure(403, 'forbidden', 'This page needs a portal link, not an operator key.');
  return me as Me;
}
