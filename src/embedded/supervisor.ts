import type { ChildProcess } from 'node:child_process';
import type { Logger } from '../observability/logger';

/**
 * A server process `hookflow start` runs for itself (Postgres, the Temporal dev server, the Temporal
 * server): `exited` resolves with a reason ("signal SIGKILL", "exit code 1") when the process ends.
 */
export type EmbeddedProcess = { exited: Promise<string>; stop(): Promise<void> };

/** `exited` for a spawned child: resolves at its exit, at once if it has already exited. */
export function exitReason(child: ChildProcess): Promise<string> {
  const describe = (code: number | null, signal: NodeJS.Signals | null) => (signal ? `signal ${signal}` : `exit code ${code}`);
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(describe(child.exitCode, child.signalCode));
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve(describe(code, signal)));
    // A binary that cannot be run never exits; it only errs.
    child.once('error', (err) => resolve(`could not run: ${err.message}`));
  });
}

export type Supervised<T> = {
  /** The running instance (a new object after each restart; its address stays the same). */
  current(): T;
  stop(): Promise<void>;
};

export type SuperviseOptions<T> = {
  name: string;
  log: Logger;
  /** Starts the process on the same data and the same ports every time, so its clients reconnect by themselves. */
  start: () => Promise<T>;
  /** Called once when the process died and `attempts` restarts in a row did not last: the caller stops the service and exits non-zero. */
  onGiveUp: (err: Error) => void;
  /** True once the owner stops: a process exiting then was asked to (or got the same Ctrl-C) and stays down. */
  isStopping?: () => boolean;
  initialDelayMs?: number;
  maxDelayMs?: number;
  attempts?: number;
  /** A process that ran this long before dying starts a fresh series of attempts; a shorter life continues the series. */
  stableMs?: number;
};

/**
 * Restarts an embedded process that dies (OOM killer, a crash) on the same data, with exponential
 * backoff, and gives up after `attempts` failures in a row so a process manager can restart the tree.
 * The first delay also lets a Ctrl-C that reached the whole process group (and so the child too) mark
 * the service as stopping before anything is restarted.
 */
export async function supervise<T extends EmbeddedProcess>(o: SuperviseOptions<T>): Promise<Supervised<T>> {
  const initialDelayMs = o.initialDelayMs ?? 1_000;
  const maxDelayMs = o.maxDelayMs ?? 30_000;
  const attempts = o.attempts ?? 6;
  const stableMs = o.stableMs ?? 60_000;
  let current = await o.start();
  let startedAt = Date.now();
  let stopped = false;
  const stopping = () => stopped || (o.isStopping?.() ?? false);
  let starting: Promise<unknown> | undefined;
  let wake: (() => void) | undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const watch = async () => {
    let failures = 0;
    for (;;) {
      const reason = await current.exited;
      if (stopping()) return;
      const upMs = Date.now() - startedAt;
      if (upMs >= stableMs) failures = 0;
      let lastError: Error | undefined;
      for (;;) {
        if (failures >= attempts) {
          const why = lastError
            ? `the last of ${attempts} restarts failed: ${lastError.message}`
            : attempts === 0
              ? 'EMBEDDED_RESTARTS=0 leaves restarts to the process manager'
              : `it died ${attempts} times in a row within ${stableMs / 1000} s of a restart`;
          o.onGiveUp(new Error(`embedded ${o.name} died (${reason}) and is not restarted again: ${why}`, { cause: lastError }));
          return;
        }
        const delayMs = Math.min(initialDelayMs * 2 ** failures, maxDelayMs);
        o.log.error({ process: o.name, reason, upMs, attempt: failures + 1, restartInMs: delayMs }, `embedded ${o.name} died (${reason}); restarting it on the same data`);
        await pause(delayMs);
        if (stopping()) return;
        const attempt = o.start();
        starting = attempt.catch(() => undefined);
        failures += 1;
        try {
          current = await attempt;
          startedAt = Date.now();
          o.log.warn({ process: o.name, attempt: failures }, `embedded ${o.name} restarted`);
          break;
        } catch (err) {
          lastError = err instanceof Error ? err : new Error(String(err));
          o.log.error({ err, process: o.name, attempt: failures }, `embedded ${o.name} did not restart`);
        } finally {
          starting = undefined;
        }
      }
    }
  };
  void watch();

  return {
    current: () => current,
    async stop() {
      stopped = true;
      wake?.();
      await starting;
      await current.stop();
    },
  };
}
