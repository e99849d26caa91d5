import { Command } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config';
import { migrate } from '../db/pool';
import { createLogger, type Logger } from '../logger';
import { embeddedApiKey, startService, type Role, type Service } from '../service';

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
    if (!config.databaseUrl) fail(log, new ConfigError('DATABASE_URL must be set for `hookflow migrate`.'));
    await migrate(config.databaseUrl!, log);
    log.info('migrations applied');
  });

function setup(): { config: Config; log: Logger } {
  try {
    const config = loadConfig();
    return { config, log: createLogger(config.logLevel) };
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
}

function fail(log: Logger, err: unknown): never {
  if (err instanceof ConfigError) process.stderr.write(`${err.message}\n`);
  else log.fatal({ err }, 'start-up failed');
  process.exit(err instanceof ConfigError ? 2 : 1);
}

async function run(roles: Role[], embedded: boolean): Promise<void> {
  const { config, log } = setup();
  if (roles.includes('api') && config.apiKeys.length === 0) {
    if (!embedded) fail(log, new ConfigError('API_KEYS must be set for `hookflow api`: a comma-separated list of bearer tokens.'));
    const { key, created, path } = embeddedApiKey(config.dataDir);
    config.apiKeys = [key];
    // Printed on purpose, once, the way the contract asks; never through the logger.
    if (created) process.stdout.write(`\nGenerated an API key (shown once, kept in ${path}):\n\n  ${key}\n\n`);
    else log.info({ path }, 'using the API key kept in the data dir (set API_KEYS to choose your own)');
  }

  let service: Service | undefined;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      log.warn('second signal: exiting now');
      process.exit(130);
    }
    stopping = true;
    log.info({ signal }, 'stopping; work in flight stays with Temporal');
    await service?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  try {
    service = await startService(config, { roles, embedded, log });
  } catch (err) {
    fail(log, err);
  }
  if (stopping) return;
  log.info(
    { api: service.apiUrl, temporalUi: service.temporalUiUrl, temporal: service.temporalAddress },
    `hookflow ${roles.join(' + ')} ready${service.apiUrl ? ` — API ${service.apiUrl}` : ''}${service.temporalUiUrl ? ` — Temporal UI ${service.temporalUiUrl}` : ''}`,
  );
}

await program.parseAsync(process.argv);
