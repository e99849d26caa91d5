import { existsSync, readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { TEMPORAL_SERVER_VERSION, TOOLS } from '../../src/embedded/tools';
import { commandLine, containerEnvironment, interpolate, loadCompose, readCompose, words, type Service } from '../support/compose';

/**
 * The container deployment, checked without Docker: docker-compose.yml, Dockerfile and .dockerignore
 * must agree with each other, with the settings hookflow reads and with the Temporal it embeds.
 * test/integration/compose.test.ts runs the file's commands.
 */
const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

const compose = readCompose();
const services = compose.services;
const dockerfile = read('Dockerfile');
const packageJson = JSON.parse(read('package.json')) as { scripts: Record<string, string> };

const dependsOn = (service: Service): Record<string, { condition?: string }> =>
  Array.isArray(service.depends_on)
    ? Object.fromEntries(service.depends_on.map((name) => [name, { condition: 'service_started' }]))
    : (service.depends_on ?? {});

const environment = (service: Service): Record<string, unknown> =>
  Array.isArray(service.environment)
    ? Object.fromEntries(service.environment.map((entry) => [entry.split('=')[0], entry.split('=').slice(1).join('=')]))
    : (service.environment ?? {});

const hasHealthcheck = (service: Service) => {
  const test = words(service.healthcheck?.test);
  return service.healthcheck !== undefined && service.healthcheck.disable !== true && test.length > 0 && test[0] !== 'NONE';
};

/** A one-shot runs to completion: nothing restarts it once it succeeded, and whoever waits for it waits for its success. */
const isOneShot = (name: string) =>
  /^(no|on-failure(:\d+)?)?$/.test(services[name]!.restart ?? '') &&
  Object.values(services).some((other) => dependsOn(other)[name]?.condition === 'service_completed_successfully');

/** Started by `docker compose up` (a service with profiles only when one is asked for). */
const startedByUp = (service: Service) => (service.profiles ?? []).length === 0;

/** The keys of the env schema in src/config.ts. */
const settings = (() => {
  const schema = read('src/config.ts').split('const envSchema')[1]!.split(/^\}\);/m)[0]!;
  return new Set([...schema.matchAll(/^\s+([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]!));
})();

/**
 * Settings of src/config.ts that api and worker containers have no use for: the embedded runtime of
 * `hookflow start`, where tools are found, the Temporal CLI's other names for the TLS files. Every
 * other setting is passed through to both roles.
 */
const NOT_FOR_CONTAINERS = new Set([
  // set per role below
  'PORT', 'API_KEYS',
  'TEMPORAL_DEV_PORT', 'TEMPORAL_UI_PORT', 'TEMPORAL_ENGINE', 'TEMPORAL_ENGINE_METRICS_PORT', 'TEMPORAL_DYNAMIC_CONFIG',
  'TEMPORAL_SQLITE_PRAGMAS', 'TEMPORAL_HISTORY_SHARDS', 'HOOKFLOW_DATA_DIR', 'EMBEDDED_RESTARTS',
  'TEMPORAL_CLI_PATH', 'TCTL_PATH', 'TEMPORAL_SERVER_PATH', 'TEMPORAL_SQL_TOOL_PATH', 'TEMPORAL_SCHEMA_DIR', 'HOOKFLOW_TOOLS_DIR', 'XDG_CACHE_HOME', 'PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CLIENT_KEY_PATH',
]);

describe('docker-compose.yml', () => {
  it('parses as a Compose-spec file without the obsolete version key', () => {
    expect(compose).toBeTypeOf('object');
    expect(compose.version).toBeUndefined();
    expect(services).toBeTypeOf('object');
  });

  it('has every service of the deployment', () => {
    for (const name of ['postgres', 'temporal-schema', 'temporal', 'temporal-namespace', 'temporal-ui', 'temporal-cli', 'api', 'worker']) {
      expect(services, name).toHaveProperty(name);
    }
  });

  it('builds api and worker from ./Dockerfile', () => {
    expect(existsSync(new URL('Dockerfile', root))).toBe(true);
    for (const name of ['api', 'worker']) {
      const build = services[name]!.build;
      expect(build, name).toBeDefined();
      const { context, dockerfile: file } = typeof build === 'string' ? { context: build, dockerfile: undefined } : build!;
      expect(context, name).toMatch(/^\.\/?$/);
      expect(file ?? 'Dockerfile', name).toBe('Dockerfile');
    }
  });

  it('runs api and worker through the same CLI entry as `npm run api` / `npm run worker`', () => {
    const api = words(services.api!.command);
    const worker = words(services.worker!.command);
    expect(api.at(-1)).toBe('api');
    expect(worker.at(-1)).toBe('worker');
    // Identical but for the role, so both containers run one code path with one set of flags.
    expect(api.slice(0, -1)).toEqual(worker.slice(0, -1));
    for (const role of ['api', 'worker'] as const) {
      const script = words(packageJson.scripts[role]);
      const entry = script.at(-2)!;
      expect(entry).toBe('bin/hookflow.js');
      expect(words(services[role]!.command).at(-2), role).toBe(entry);
      expect(existsSync(new URL(entry, root))).toBe(true);
    }
  });

  it('can scale the worker: no host ports, no fixed container name', () => {
    expect(services.worker!.ports ?? []).toEqual([]);
    expect(services.worker!.container_name).toBeUndefined();
  });

  it('gives every service `up` starts a healthcheck, unless it is a one-shot', () => {
    for (const [name, service] of Object.entries(services).filter(([, service]) => startedByUp(service))) {
      expect(hasHealthcheck(service) || isOneShot(name), `${name} has neither a healthcheck nor is a one-shot`).toBe(true);
    }
  });

  it('waits only on conditions that can be met', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [target, { condition }] of Object.entries(dependsOn(service))) {
        expect(services, `${name} depends on unknown ${target}`).toHaveProperty(target);
        if (condition === 'service_healthy') expect(hasHealthcheck(services[target]!), `${name} waits for ${target} to be healthy`).toBe(true);
      }
    }
    for (const name of ['api', 'worker']) {
      const deps = dependsOn(services[name]!);
      expect(deps.postgres?.condition, name).toBe('service_healthy');
      expect(deps.temporal?.condition, name).toBe('service_healthy');
    }
  });

  it('points api and worker at the compose Postgres and Temporal unless told otherwise, with only variables hookflow reads', () => {
    expect(settings).toContain('DATABASE_URL');
    for (const name of ['api', 'worker']) {
      const env = environment(services[name]!);
      expect(interpolate(String(env.DATABASE_URL), {}), name).toBe('postgres://postgres:postgres@postgres:5432/hookflow');
      expect(interpolate(String(env.DATABASE_URL), { POSTGRES_PASSWORD: 'pw' }), name).toBe('postgres://postgres:pw@postgres:5432/hookflow');
      expect(interpolate(String(env.DATABASE_URL), { DATABASE_URL: 'postgres://db.example/x' }), name).toBe('postgres://db.example/x');
      expect(interpolate(String(env.TEMPORAL_ADDRESS), {}), name).toBe('temporal:7233');
      for (const key of Object.keys(env)) expect(settings, `${name}: ${key}`).toContain(key);
    }
    // The api refuses to start without keys; Compose should say so before anything starts.
    expect(String(environment(services.api!).API_KEYS)).toMatch(/^\$\{API_KEYS:\?/);
    expect(() => loadCompose({})).toThrow(/API_KEYS: set API_KEYS/);
  });

  it('passes every production setting through to api and worker', () => {
    for (const name of ['api', 'worker']) {
      const env = environment(services[name]!);
      const missing = [...settings].filter((key) => !NOT_FOR_CONTAINERS.has(key) && !(key in env));
      expect(missing, `${name}: add these to x-hookflow-env in docker-compose.yml, or to NOT_FOR_CONTAINERS here with the reason`).toEqual([]);
    }
    const shell = { HOOKFLOW_ENCRYPTION_KEY: 'key', PUBLIC_URL: 'https://hooks.example.com', TEMPORAL_TLS_CA: '/certs/ca.pem' };
    const passed = containerEnvironment(loadCompose({ API_KEYS: 'k' }).services.worker!, shell);
    expect(passed).toMatchObject(shell);
    // Unset in the shell: unset in the container, so hookflow's default applies.
    expect(passed).not.toHaveProperty('PORTAL_FRAME_ANCESTORS');
  });

  it("runs Temporal as Temporal publishes it: the server image, its schema by the admin tools' temporal-sql-tool, the namespace by the CLI", () => {
    const server = TEMPORAL_SERVER_VERSION.replace(/^v/, '');
    const cli = TOOLS.temporal.module.split('@v')[1]!;
    expect(services.temporal!.image).toBe(`temporalio/server:${server}`);
    expect(Object.values(services).map((s) => s.image ?? '')).not.toContainEqual(expect.stringMatching(/auto-setup/));
    expect(services['temporal-schema']!.image?.startsWith(`temporalio/admin-tools:${server}-`)).toBe(true);
    expect(commandLine(services['temporal-schema']!).join(' ')).toMatch(/temporal-sql-tool .*create-database[\s\S]*setup-schema -v 0\.0[\s\S]*update-schema -d/);
    expect(dependsOn(services.temporal!)['temporal-schema']?.condition).toBe('service_completed_successfully');
    for (const name of ['temporal-namespace', 'temporal-cli']) expect(services[name]!.image, name).toBe(`temporalio/temporal:${cli}`);
    for (const name of ['api', 'worker']) expect(dependsOn(services[name]!)['temporal-namespace']?.condition, name).toBe('service_completed_successfully');
  });

  it("publishes Temporal's frontend and UI on 127.0.0.1 unless TEMPORAL_PUBLISH_IP says otherwise", () => {
    for (const name of ['temporal', 'temporal-ui']) {
      const ports = (services[name]!.ports ?? []).map(String);
      expect(ports.length, name).toBeGreaterThan(0);
      for (const port of ports) {
        expect(interpolate(port, {}), name).toMatch(/^127\.0\.0\.1:/);
        expect(interpolate(port, { TEMPORAL_PUBLISH_IP: '0.0.0.0' }), name).toMatch(/^0\.0\.0\.0:/);
      }
    }
  });

  it('registers the four Keyword search attributes the workflows set', () => {
    const script = commandLine(services['temporal-namespace']!).join(' ');
    for (const attribute of ['TenantId', 'EventType', 'MessageId', 'EndpointId']) {
      expect(script).toMatch(new RegExp(`--name ${attribute} --type Keyword`));
    }
    expect(environment(services['temporal-namespace']!).TEMPORAL_ADDRESS).toBe('temporal:7233');
  });

  it('pins every pulled image to a tag', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.build) continue;
      expect(service.image, name).toMatch(/^[^:]+:[^:]+$/);
      expect(service.image, name).not.toMatch(/:latest$/);
    }
  });
});

describe('Dockerfile', () => {
  const instructions = dockerfile
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const named = (keyword: string) => instructions.filter((line) => line.toUpperCase().startsWith(`${keyword} `));

  it('is a multi-stage build', () => {
    expect(named('FROM').length).toBeGreaterThanOrEqual(2);
  });

  it('runs as a user that is not root', () => {
    const users = named('USER');
    expect(users.length).toBeGreaterThan(0);
    const user = users.at(-1)!.split(/\s+/)[1]!.split(':')[0]!;
    expect(['root', '0']).not.toContain(user);
  });

  it('defaults to the api role and checks its health', () => {
    expect(named('CMD').at(-1)).toMatch(/bin\/hookflow\.js"?,?\s*"?api"?\s*\]?$/);
    expect(named('HEALTHCHECK').at(-1)).toMatch(/\/healthz/);
    expect(named('EXPOSE').join(' ')).toMatch(/\b3000\b/);
  });

  it('runs what a build stage compiled, on production dependencies without the optional ones', () => {
    const run = named('RUN').join('\n');
    expect(run).toMatch(/npm run build\b/);
    expect(run).toMatch(/npm ci\b.*--omit=dev\b.*--omit=optional\b/);
    expect(named('COPY').join('\n')).toMatch(/--from=\S+ \/app\/dist \.\/dist/);
    expect(instructions.join('\n')).not.toMatch(/\btsx\b/);
  });

  it('has a build context that holds everything the roles load', () => {
    // .dockerignore is an allowlist; each of these must be let back in.
    const patterns = read('.dockerignore')
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    expect(patterns[0]).toBe('*');
    for (const path of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'workflows', 'activities', 'bin']) {
      expect(patterns, path).toContain(`!${path}`);
    }
  });

  it('carries the @hookflow/client workspace the CLI loads: its sources into the build, its dist into the image', () => {
    const patterns = read('.dockerignore').split(/\r?\n/).map((line) => line.trim());
    for (const path of ['packages/client/package.json', 'packages/client/tsconfig.json', 'packages/client/src']) expect(patterns, path).toContain(`!${path}`);
    // npm ci links the workspace only when its package.json is there: in both stages that run it.
    const beforeCi = dockerfile.split(/RUN npm ci/).slice(0, -1);
    for (const stage of beforeCi) expect(stage.slice(stage.lastIndexOf('FROM '))).toMatch(/COPY packages\/client\/package\.json/);
    expect(named('COPY').join('\n')).toMatch(/--from=\S+ \/app\/packages\/client\/dist \.\/packages\/client\/dist/);
  });
});
