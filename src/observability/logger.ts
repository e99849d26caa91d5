import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * Structured JSON logs; pretty when a person watches a terminal. Fields that could carry a secret
 * are redacted wherever they appear, so a careless `log.info({ endpoint })` cannot leak one.
 * `destination` (tests) takes the JSON lines instead of stdout.
 */
export function createLogger(level = 'info', destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'hookflow' },
    redact: {
      paths: ['secret', '*.secret', 'previousSecret', '*.previousSecret', 'previous_secret', '*.previous_secret', 'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization', 'apiKey', '*.apiKey', 'apiKeys'],
      censor: '[redacted]',
    },
  };
  if (destination) return pino(options, destination);
  return pino({
    ...options,
    transport: process.stdout.isTTY ? { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,service' } } : undefined,
  });
}

export type { Logger };
