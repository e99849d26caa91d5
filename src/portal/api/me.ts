import { api, unwrap } from './client';

export type Theme = { name?: string; primaryColor?: string; logoUrl?: string };
export type Me = { kind: 'tenant'; tenantId: string; readOnly: boolean; expiresAt: string; theme: Theme | null };

export const loadMe = () => unwrap(api.GET('/me', {})) as Promise<Me>;
