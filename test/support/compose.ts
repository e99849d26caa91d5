import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { PACKAGE_ROOT } from '../../src/lib/paths';

/**
 * docker-compose.yml as Compose reads it: YAML merge keys resolved, `${…}` interpolated from an
 * environment (the shell and .env), and a service's `environment` as its container would get it. What
 * the unit test checks and what the integration test runs come from here.
 */
export type Healthcheck = { test?: string | string[]; disable?: boolean };
export type Service = {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: unknown[];
  profiles?: string[];
  container_name?: string;
  restart?: string;
  healthcheck?: Healthcheck;
  configs?: { source: string; target: string }[];
  depends_on?: string[] | Record<string, { condition?: string }>;
};
export type Compose = { version?: unknown; name?: string; services: Record<string, Service>; configs?: Record<string, { content?: string }> };

export const composeText = () => readFileSync(new URL('docker-compose.yml', `file://${PACKAGE_ROOT}/`), 'utf8');

/** The file as written, `${…}` and all. */
export function readCompose(): Compose {
  return parse(composeText(), { merge: true }) as Compose;
}

/**
 * Compose's interpolation (compose-spec, "Interpolation"): `$$` is a dollar; `${VAR}` and `$VAR`;
 * `${VAR:-default}` / `${VAR-default}` (unset or empty / unset); `${VAR:?error}` / `${VAR?error}`;
 * `${VAR:+alternative}` / `${VAR+alternative}`; defaults may nest further expressions.
 */
export function interpolate(text: string, env: Record<string, string | undefined>): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c !== '$') {
      out += c;
      i += 1;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '{') {
      const end = closingBrace(text, i + 2);
      out += expression(text.slice(i + 2, end), env);
      i = end + 1;
    } else {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1))?.[0];
      if (!name) {
        out += '$';
        i += 1;
      } else {
        out += env[name] ?? '';
        i += 1 + name.length;
      }
    }
  }
  return out;
}

function closingBrace(text: string, from: number): number {
  let depth = 1;
  for (let i = from; i < text.length; i += 1) {
    if (text[i] === '$' && text[i + 1] === '$') i += 1;
    else if (text[i] === '$' && text[i + 1] === '{') {
      depth += 1;
      i += 1;
    } else if (text[i] === '}' && --depth === 0) return i;
  }
  throw new Error(`unterminated \${ in "${text}"`);
}

function expression(body: string, env: Record<string, string | undefined>): string {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([\s\S]*))?$/.exec(body);
  if (!match) throw new Error(`invalid interpolation \${${body}}`);
  const [, name, operator, rest = ''] = match;
  const value = env[name!];
  const unset = operator?.startsWith(':') ? !value : value === undefined;
  switch (operator?.replace(':', '')) {
    case undefined:
      return value ?? '';
    case '-':
      return unset ? interpolate(rest, env) : value!;
    case '?':
      if (unset) throw new Error(`${name}: ${interpolate(rest, env)}`);
      return value!;
    case '+':
      return unset ? '' : interpolate(rest, env);
    default:
      throw new Error(`invalid interpolation \${${body}}`);
  }
}

/** Every string in the file interpolated, as `docker compose config` would show it. */
export function loadCompose(env: Record<string, string | undefined>): Compose {
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') return interpolate(value, env);
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    return value;
  };
  return walk(readCompose()) as Compose;
}

/**
 * A service's environment as its container gets it: `KEY: value` as given (numbers as text), and a bare
 * `KEY:` passed through from `env` when set there, else left out.
 */
export function containerEnvironment(service: Service, env: Record<string, string | undefined> = {}): Record<string, string> {
  const entries: [string, string | number | boolean | null][] = Array.isArray(service.environment)
    ? service.environment.map((entry) => (entry.includes('=') ? [entry.split('=')[0]!, entry.split('=').slice(1).join('=')] : [entry, null]))
    : Object.entries(service.environment ?? {});
  const out: Record<string, string> = {};
  for (const [key, value] of entries) {
    if (value !== null) out[key] = String(value);
    else if (env[key] !== undefined) out[key] = env[key]!;
  }
  return out;
}

/** `entrypoint` followed by `command`, as the container runs them. */
export const commandLine = (service: Service): string[] => [...words(service.entrypoint), ...words(service.command)];

export const words = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value.map(String) : value.trim().split(/\s+/);

/**
 * Builds test/support/dockerize, which renders the temporalio/server image's config template as the
 * image's dockerize does, into `dir`; with Go, before any test runs (seconds once Go's build cache is warm).
 */
export async function buildConfigRenderer(go: string, dir: string): Promise<string> {
  const out = join(dir, 'dockerize-render');
  await promisify(execFile)(go, ['build', '-o', out, '.'], { cwd: join(PACKAGE_ROOT, 'test', 'support', 'dockerize') });
  return out;
}
