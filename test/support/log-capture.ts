import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/observability/logger';

/** A logger whose JSON lines are kept in memory, for tests that check what did (or did not) reach the logs. */
export function capturedLogs(level = 'debug'): { log: Logger; text: () => string } {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  return { log: createLogger(level, sink), text: () => text };
}
