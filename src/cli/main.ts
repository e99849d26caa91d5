import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { offlineOpenApiDocument } from '../api/app';
import { ConfigError, loadConfig, type Config } from '../config';
import { migrate } from '../db/pool';
import { createLogger, type Logger } from '../observability/logger';
import { embeddedApiKey } from '../embedded';
import { startService, type Role, type Service } from '../service';
import { schemaDir } from '../embedded/temporal-server';
import { findTool, obtainToolTimed, TOOLS, type ToolName } from '../embedded/tools';
import type { Hookflow, RawJson } from '@hookflow/client';

/**
 * `hookflow start | api | worker | migrate`. `start` is the whole service on one machine; the others
 * are one role each for deployments where Temporal and Postgres already run.
 */
const program = new Command('hookflow').description('Webhook delivery on Temporal and Postgres');

program
  .command('start')
  .description('Everything on one machine: embedded Temporal and Postgres unless configured, the worker and the API')
  .action(() => run(['api', 'worker'], true));
program.command('api').description('The HTTP API only (needs DATABASE_URL and TEMPORAL_ADDRESS)').action(() => run(['api'], false));
program.command('worker').description('The delivery worker only (needs DATABASE_URL and TEMPORAL_ADDRESS)').action(() => run(['worker'], false));
program
  .command('migrate')
  .description('Apply database migrations to DATABASE_URL and exit')
  .action(async () => {
    const { config, log } = setup();
    if (!config.databaseUrl) await fail(log, new ConfigError('DATABASE_URL must be set for `hookflow migrate`.'));
    await migrate(config.databaseUrl!, log);
    log.info('migrations applied');
  });

program
  .command('openapi')
  .description('Print the OpenAPI document of the HTTP API, without a running server (builds generate typed clients from it)')
  .option('--out <file>', 'write it to this file instead of stdout')
  .action(async (o: { out?: string }) => {
    const text = `${JSON.stringify(offlineOpenApiDocument(), null, 2)}\n`;
    if (!o.out) return void process.stdout.write(text);
    await mkdir(dirname(o.out), { recursive: true });
    await writeFile(o.out, text);
  });

/** What `npm test` and both engines run: the Temporal CLI, and the Temporal server with its schema tool. */
const BUILDABLE_TOOLS: ToolName[] = ['temporal', 'temporal-server', 'temporal-sql-tool'];

program
  .command('tools')
  .description('Find or build, once, the Temporal CLI, the Temporal server and its SQL schema tool (what `npm start` and `npm test` run)')
  .argument('[names...]', `which ones: ${BUILDABLE_TOOLS.join(', ')} (default: all)`)
  .action(async (names: string[]) => {
    const { config } = setup();
    // What this command does is said on stdout, line by line; the logger says only what went wrong.
    const log = createLogger('warn');
    const wanted = names.length > 0 ? names : BUILDABLE_TOOLS;
    const unknown = wanted.filter((name) => !BUILDABLE_TOOLS.includes(name as ToolName));
    if (unknown.length > 0) await fail(log, new ConfigError(`hookflow tools: no tool named ${unknown.join(', ')}; choose from ${BUILDABLE_TOOLS.join(', ')}.`));
    try {
      for (const name of wanted as ToolName[]) {
        if (!findTool(name, config.tools)) process.stdout.write(`${name}: building ${TOOLS[name].module} with Go, once…\n`);
        const tool = await obtainToolTimed(name, config.tools, log);
        if (!tool) throw new ConfigError(`hookflow tools: no ${name}, and no Go to build it: install Go, or set ${TOOLS[name].env}.`);
        const how = tool.builtMs === undefined ? 'found' : `built in ${Math.round(tool.builtMs / 1000)} s`;
        process.stdout.write(`${name}: ${tool.path} (${how})\n`);
      }
      if (wanted.includes('temporal-server')) process.stdout.write(`the server's Postgres schema: ${await schemaDir(config.tools)}\n`);
    } catch (err) {
      await fail(log, err);
    }
  });

const print = (value: unknown) => process.stdout.write(`${typeof value === 'string' ? value : JSON.stringify(value, null, 2)}\n`);
const collect = (value: string, previous: string[] = []) => [...previous, value];
const list = (value: string) => value.split(',').map((item) => item.trim()).filter(Boolean);
/** Checked, then sent as written: the API keeps a payload's digits and key order, which JSON.parse would not. */
const jsonText = (value: string) => {
  try {
    JSON.parse(value);
  } catch {
    throw new InvalidArgumentError('not valid JSON');
  }
  return value;
};

/**
 * Client commands: they call the HTTP API with @hookflow/client (HOOKFLOW_API_URL, HOOKFLOW_API_KEY; see
 * src/cli/client.ts), loaded only here, so the service's own roles never load it.
 */
function client(action: (hookflow: Hookflow, rawJson: (text: string) => RawJson) => Promise<unknown>): () => Promise<void> {
  return async () => {
    const { hookflowClient, describeError } = await import('./client');
    const { rawJson } = await import('@hookflow/client');
    try {
      print((await action(hookflowClient(), rawJson)) ?? '');
    } catch (err) {
      process.stderr.write(`${describeError(err)}\n`);
      process.exit(1);
    }
  };
}

const events = program.command('events').description('Send and inspect events through the API');
events
  .command('send')
  .description('POST /events')
  .requiredOption('--tenant <id>', 'tenant id')
  .requiredOption('--type <type>', 'event type, e.g. sync.completed')
  .option('--payload <json>', 'the payload, a JSON object', jsonText, '{}')
  .option('--id <id>', 'your event id (idempotency)')
  .option('--channel <channel>', 'a channel (repeatable)', collect)
  .option('--ordering-key <key>', 'on FIFO endpoints, order among the events with this key only')
  .action((o: { tenant: string; type: string; payload: string; id?: string; channel?: string[]; orderingKey?: string }) =>
    client((hookflow, rawJson) =>
      hookflow.events.send({ tenantId: o.tenant, type: o.type, payload: rawJson(o.payload), id: o.id, channels: o.channel, orderingKey: o.orderingKey }),
    )(),
  );
events
  .command('get <id>')
  .description('GET /events/:id with its deliveries')
  .action((id: string) => client((hookflow) => hookflow.events.get(id))());

const endpoints = program.command('endpoints').description('Manage endpoints through the API');
endpoints
  .command('add')
  .description('POST /endpoints')
  .requiredOption('--tenant <id>', 'tenant id')
  .requiredOption('--url <url>', 'where deliveries go')
  .option('--event-type <type>', 'subscribe to this type only (repeatable; none = all)', collect)
  .option('--channel <channel>', 'only events sharing this channel (repeatable)', collect)
  .option('--secret <whsec>', 'the signing secret (default: generated)')
  .option('--description <text>', 'a description')
  .option('--filter <json>', 'only events this payload filter matches (docs/filters.md), a JSON object', jsonText)
  .option('--fifo', 'deliver in order: one message at a time, in the order they were accepted (per ordering key)')
  .action((o: { tenant: string; url: string; eventType?: string[]; channel?: string[]; secret?: string; description?: string; filter?: string; fifo?: boolean }) =>
    client((hookflow, rawJson) =>
      hookflow.endpoints.create({
        tenantId: o.tenant, url: o.url, eventTypes: o.eventType, channels: o.channel, secret: o.secret, description: o.description,
        // Sent as written, so the filter's numbers keep their digits.
        filter: o.filter === undefined ? undefined : rawJson(o.filter),
        ordering: o.fifo ? 'fifo' : undefined,
      }),
    )(),
  );
endpoints
  .command('get <id>')
  .description('GET /endpoints/:id, with its FIFO queue (GET /endpoints/:id/queue) when it delivers in order or messages still wait')
  .action((id: string) =>
    client(async (hookflow) => {
      const [endpoint, queue] = await Promise.all([hookflow.endpoints.get(id), hookflow.endpoints.queue(id)]);
      return endpoint.ordering === 'fifo' || queue.waiting > 0 ? { ...endpoint, queue: { waiting: queue.waiting, queues: queue.queues, nextCursor: queue.nextCursor } } : endpoint;
    })(),
  );
endpoints
  .command('queue <id>')
  .description("GET /endpoints/:id/queue: a FIFO endpoint's queues, how many messages wait in each, and what each waits for")
  .option('--cursor <cursor>', 'the next page of queues (nextCursor)')
  .action((id: string, o: { cursor?: string }) =>
    client((hookflow) => hookflow.endpoints.queue(id, { cursor: o.cursor }))(),
  );
endpoints
  .command('list')
  .description('GET /endpoints (the first page, newest first)')
  .option('--tenant <id>', 'only this tenant')
  .action((o: { tenant?: string }) => client(async (hookflow) => await hookflow.endpoints.list({ tenantId: o.tenant }))());

program
  .command('replay')
  .description("Redeliver an endpoint's failed deliveries (POST /endpoints/:id/recover, run as a Temporal workflow)")
  .requiredOption('--endpoint <id>', 'endpoint id')
  .option('--since <time>', 'ISO-8601; default: the beginning', '1970-01-01T00:00:00Z')
  .option('--until <time>', 'ISO-8601; default: now')
  .option('--status <status>', 'which deliveries: only "failed" is replayable', 'failed')
  .action((o: { endpoint: string; since: string; until?: string; status: string }) =>
    client(async (hookflow) => {
      if (o.status !== 'failed') throw new Error('--status: only failed deliveries are replayed (succeeded ones: POST /events/:id/redeliver).');
      return hookflow.endpoints.recover(o.endpoint, { since: o.since, until: o.until });
    })(),
  );

program
  .command('listen')
  .description("Relay a tenant's deliveries to a local URL, over a connection out to hookflow (no public address needed)")
  .argument('<local-url>', 'where to POST each delivery, e.g. http://localhost:4000/webhooks')
  .option('--tenant <id>', 'the tenant whose deliveries to relay (with an operator key)')
  .option('--portal <url>', "a portal session's url (<PUBLIC_URL>/portal#token=hfp_…): relay for its tenant, with its token")
  .option('--event-types <types>', 'only these event types, comma-separated (default: all)', list)
  .option('--channels <channels>', 'only events sharing one of these channels, comma-separated', list)
  .option('--filter <json>', "the endpoint's payload filter, as JSON", jsonText)
  .action(async (localUrl: string, o: { tenant?: string; portal?: string; eventTypes?: string[]; channels?: string[]; filter?: string }) => {
    const { apiTarget, portalTarget, describeError } = await import('./client');
    const { listen } = await import('./listen');
    if (!/^https?:\/\//.test(localUrl)) return usage('the local URL must be http(s)://…');
    if (!o.tenant === !o.portal) return usage('give either --tenant (with an operator key) or --portal <portal session url>');
    try {
      const target = o.portal ? portalTarget(o.portal) : apiTarget();
      const relay = await listen({
        target, localUrl, tenantId: o.tenant, eventTypes: o.eventTypes, channels: o.channels, filter: o.filter, print,
      });
      print(`relay endpoint ${relay.endpoint.id}: ${relay.endpoint.url}`);
      // The secret the local server verifies signatures with, shown once (the portal and the API show it too).
      print(`signing secret: ${relay.secret}`);
      const stop = () => {
        relay.stop();
        process.exit(0);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      const reason = await relay.ended;
      process.stderr.write(`${reason}\n`);
      process.exit(1);
    } catch (err) {
      process.stderr.write(`${describeError(err)}\n`);
      process.exit(1);
    }
  });

function usage(message: string): never {
  process.stderr.write(`hookflow listen: ${message}\n`);
  process.exit(2);
}

function setup(): { config: Config; log: Logger } {
  try {
    const config = loadConfig();
    return { config, log: createLogger(config.logLevel) };
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
}

/**
 * Every start-up failure says why, in the log line itself (message and stack), and the line is
 * written out before the process exits: pino may still hold it in a buffer or a transport thread.
 */
async function fail(log: Logger, err: unknown): Promise<never> {
  if (err instanceof ConfigError) process.stderr.write(`${err.message}\n`);
  else {
    const error = err instanceof Error ? err : new Error(`non-Error thrown: ${String(err)}`);
    log.fatal({ err: error }, `start-up failed: ${error.message}`);
    await flush(log);
  }
  process.exit(err instanceof ConfigError ? 2 : 1);
}

function flush(log: Logger): Promise<void> {
  return new Promise((resolveFlush) => log.flush(() => resolveFlush()));
}

/** npm forwards the Ctrl-C the terminal also sent to node; a signal this soon after the first is that copy. */
const SAME_REQUEST_MS = 2_000;

async function run(roles: Role[], embedded: boolean): Promise<void> {
  const { config, log } = setup();
  if (roles.includes('api') && config.apiKeys.length === 0) {
    if (!embedded) await fail(log, new ConfigError('API_KEYS must be set for `hookflow api`: a comma-separated list of bearer tokens.'));
    const { key, created, path } = embeddedApiKey(config.dataDir);
    config.apiKeys = [key];
    // Printed on purpose, once, the way the contract asks; never through the logger.
    if (created) process.stdout.write(`\nGenerated an API key (shown once, kept in ${path}):\n\n  ${key}\n\n`);
    else log.info({ path }, 'using the API key kept in the data dir (set API_KEYS to choose your own)');
  }

  let service: Service | undefined;
  let stopping = false;
  let stoppingSince = 0;
  const shutdown = async (signal: string) => {
    if (stopping) {
      if (Date.now() - stoppingSince < SAME_REQUEST_MS) return log.info({ signal }, 'already stopping');
      log.warn({ signal }, 'second signal: exiting now');
      await flush(log);
      process.exit(130);
    }
    stopping = true;
    stoppingSince = Date.now();
    log.info({ signal }, 'stopping; work in flight stays with Temporal');
    await service?.stop();
    log.info('stopped cleanly');
    await flush(log);
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  try {
    service = await startService(config, { roles, embedded, log });
  } catch (err) {
    return fail(log, err);
  }
  if (stopping) return;
  // A role that dies, or an embedded process that cannot be restarted, stops everything with a
  // non-zero exit, so a process manager (systemd, Docker, Kubernetes) restarts hookflow.
  void service.failed.then(async (err) => {
    if (stopping) return;
    stopping = true;
    stoppingSince = Date.now();
    log.fatal({ err }, `stopping: ${err.message}`);
    await service.stop();
    log.info('stopped after the failure; exiting with code 1');
    await flush(log);
    process.exit(1);
  });
  log.info(
    { api: service.apiUrl, temporalUi: service.temporalUiUrl, temporal: service.temporalAddress },
    `hookflow ${roles.join(' + ')} ready${service.apiUrl ? ` — API ${service.apiUrl}` : ''}${service.temporalUiUrl ? ` — Temporal UI ${service.temporalUiUrl}` : ''}`,
  );
}

await program.parseAsync(process.argv);
