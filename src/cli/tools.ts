import { spawn } from 'node:child_process';
import { ConfigError, loadConfig } from '../config';
import { createLogger } from '../observability/logger';
import { obtainTool, type ToolName } from '../embedded/tools';
import { TEMPORAL_CLI_TLS_VARIABLES, temporalCliEnvironment } from '../temporal/connection';

/**
 * `npm run temporal -- ARGS` and `npm run tctl -- ARGS`: the project's own binaries, pointed at the
 * service's Temporal: TEMPORAL_ADDRESS when set, else the embedded server on TEMPORAL_DEV_PORT, with the
 * service's TLS and API key (TEMPORAL_TLS_*, TEMPORAL_API_KEY) by the names each tool reads.
 */
const [name, ...args] = process.argv.slice(2) as [ToolName, ...string[]];
try {
  const config = loadConfig();
  const log = createLogger('warn');
  const binary = await obtainTool(name, config.tools, log);
  if (!binary) throw new ConfigError(`No ${name} found: put it on PATH, set ${name === 'temporal' ? 'TEMPORAL_CLI_PATH' : 'TCTL_PATH'}, or install Go.`);
  const address = config.temporal.address ?? `127.0.0.1:${config.temporal.devPort}`;
  // The tool gets the shell's environment, with the service's Temporal address and namespace in both spellings,
  // and its TLS as hookflow read it: an inherited TLS variable hookflow did not read would otherwise still count.
  // eslint-disable-next-line no-restricted-properties -- handed to the child, not read
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !TEMPORAL_CLI_TLS_VARIABLES.includes(key)));
  const env = {
    ...inherited,
    ...temporalCliEnvironment(config.temporal),
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: config.temporal.namespace,
    TEMPORAL_CLI_ADDRESS: address,
    TEMPORAL_CLI_NAMESPACE: config.temporal.namespace,
  };
  const child = spawn(binary, args, { stdio: 'inherit', env });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(2);
}
