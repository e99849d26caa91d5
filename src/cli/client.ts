import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringifyJson } from '../lib/json-text';
import { loadClientConfig, type ClientConfig } from '../config';

/**
 * The API as the `hookflow` client commands reach it: HOOKFLOW_API_URL (default the local service on
 * PORT) with HOOKFLOW_API_KEY, else the first of API_KEYS, else the key `hookflow start` generated.
 */
export function apiTarget(config: ClientConfig = loadClientConfig()): { url: string; key: string } {
  const keyFile = join(resolve(config.dataDir), 'api-key');
  const key = config.apiKey ?? (existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : undefined);
  if (!key) throw new Error('No API key: set HOOKFLOW_API_KEY (or API_KEYS), or run from the directory where `hookflow start` keeps .hookflow/api-key.');
  return { url: config.apiUrl, key };
}

export async function callApi(method: string, path: string, body?: unknown): Promise<unknown> {
  const { url, key } = apiTarget();
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : stringifyJson(body),
  });
  const text = await response.text();
  const parsed = text ? (JSON.parse(text) as unknown) : undefined;
  if (!response.ok) {
    const error = (parsed as { error?: { code: string; message: string; details?: unknown } } | undefined)?.error;
    throw new Error(`${response.status} ${error?.code ?? ''}: ${error?.message ?? text}${error?.details ? `\n${JSON.stringify(error.details, null, 2)}` : ''}`);
  }
  return parsed;
}
