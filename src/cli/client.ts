import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Hookflow, HookflowError } from '@hookflow/client';
import { loadClientConfig, type ClientConfig } from '../config';

export type ApiTarget = { url: string; key: string };

/**
 * The API as the `hookflow` client commands reach it: HOOKFLOW_API_URL (default the local service on
 * PORT) with HOOKFLOW_API_KEY, else the first of API_KEYS, else the key `hookflow start` generated.
 */
export function apiTarget(config: ClientConfig = loadClientConfig()): ApiTarget {
  const keyFile = join(resolve(config.dataDir), 'api-key');
  const key = config.apiKey ?? (existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : undefined);
  if (!key) throw new Error('No API key: set HOOKFLOW_API_KEY (or API_KEYS), or run from the directory where `hookflow start` keeps .hookflow/api-key.');
  return { url: config.apiUrl, key };
}

/**
 * A portal session's URL (`<PUBLIC_URL>/portal#token=hfp_…`) as an API target: the API is PUBLIC_URL,
 * the key the session's token.
 */
export function portalTarget(portalUrl: string): ApiTarget {
  let url: URL;
  try {
    url = new URL(portalUrl);
  } catch {
    throw new Error('--portal must be the url of a portal session, <PUBLIC_URL>/portal#token=hfp_…');
  }
  const token = new URLSearchParams(url.hash.slice(1)).get('token');
  const at = url.pathname.lastIndexOf('/portal');
  if (!token || at < 0) throw new Error('--portal must be the url of a portal session, <PUBLIC_URL>/portal#token=hfp_…');
  return { url: `${url.origin}${url.pathname.slice(0, at)}`, key: token };
}

/** The typed client (@hookflow/client) every client command calls the API with. */
export function hookflowClient(target: ApiTarget = apiTarget()): Hookflow {
  return new Hookflow(target.url, target.key);
}

/** An error as a client command prints it: the status, the contract's code and message, and any details. */
export function describeError(err: unknown): string {
  if (!(err instanceof HookflowError)) return err instanceof Error ? err.message : String(err);
  const details = err.details.length > 0 ? `\n${JSON.stringify(err.details, null, 2)}` : '';
  return `${err.status} ${err.code}: ${err.message}${details}`;
}
