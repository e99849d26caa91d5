import type { Tracer } from '@opentelemetry/api';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { Db } from '../db/pool';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';

/** What the API's routes need; handed in, so tests can build an app on their own pieces. */
export type ApiDeps = {
  db: Db;
  temporal: Client;
  config: Config;
  log: Logger;
  metrics: Metrics;
  /** Set when tracing is on (src/observability/tracing.ts): a span per request. */
  tracer?: Tracer;
  /** The built portal page (default: dist/portal of the package); tests hand in a fixture. */
  portalDir?: string;
};
