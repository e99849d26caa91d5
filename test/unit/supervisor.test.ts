import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/observability/logger';
import { supervise, type EmbeddedProcess } from '../../src/embedded/supervisor';

/** A stand-in for a server process: `die()` ends it as a SIGKILL would. */
function fakeProcess() {
  let die: (reason: string) => void = () => undefined;
  const exited = new Promise<string>((resolve) => (die = resolve));
  const stop = vi.fn(() => Promise.resolve(die('exit code 0')));
  return { exited, stop, die } satisfies EmbeddedProcess & { die: (reason: string) => void };
}

function setup(o: { attempts?: number; failStarts?: number; isStopping?: () => boolean } = {}) {
  const started: ReturnType<typeof fakeProcess>[] = [];
  let failures = o.failStarts ?? 0;
  const onGiveUp = vi.fn<(err: Error) => void>();
  const lines: { msg: string }[] = [];
  const log = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) });
  const start = () => {
    if (started.length > 0 && failures > 0) {
      failures -= 1;
      return Promise.reject(new Error('port taken'));
    }
    const p = fakeProcess();
    started.push(p);
    return Promise.resolve(p);
  };
  const supervised = supervise({ name: 'Postgres', log, start, onGiveUp, attempts: o.attempts, isStopping: o.isStopping, initialDelayMs: 5, maxDelayMs: 20 });
  return { supervised, started, onGiveUp, lines };
}

describe('supervise', () => {
  it('restarts a dead process and hands out the new one', async () => {
    const { supervised, started, lines } = setup();
    const s = await supervised;
    started[0]!.die('signal SIGKILL');
    await vi.waitFor(() => expect(started).toHaveLength(2));
    expect(s.current()).toBe(started[1]);
    expect(lines.map((l) => l.msg)).toEqual(['embedded Postgres died (signal SIGKILL); restarting it on the same data', 'embedded Postgres restarted']);
    await s.stop();
    expect(started[1]!.stop).toHaveBeenCalled();
  });

  it('keeps trying through failed restarts, then gives up with the last reason', async () => {
    const { supervised, started, onGiveUp } = setup({ attempts: 3, failStarts: 3 });
    await supervised;
    started[0]!.die('signal SIGKILL');
    await vi.waitFor(() => expect(onGiveUp).toHaveBeenCalledOnce());
    expect(onGiveUp.mock.calls[0]![0].message).toBe('embedded Postgres died (signal SIGKILL) and is not restarted again: the last of 3 restarts failed: port taken');
    expect(started).toHaveLength(1);
  });

  it('gives up on a crash loop: restarts that do not last count as failures', async () => {
    const { supervised, started, onGiveUp } = setup({ attempts: 2 });
    await supervised;
    started[0]!.die('signal SIGKILL');
    await vi.waitFor(() => expect(started).toHaveLength(2));
    started[1]!.die('signal SIGKILL');
    await vi.waitFor(() => expect(started).toHaveLength(3));
    started[2]!.die('signal SIGKILL');
    await vi.waitFor(() => expect(onGiveUp).toHaveBeenCalledOnce());
    expect(onGiveUp.mock.calls[0]![0].message).toMatch(/it died 2 times in a row within 60 s of a restart$/);
  });

  it('with 0 attempts, leaves the restart to the process manager at the first death', async () => {
    const { supervised, started, onGiveUp } = setup({ attempts: 0 });
    await supervised;
    started[0]!.die('signal SIGKILL');
    await vi.waitFor(() => expect(onGiveUp).toHaveBeenCalledOnce());
    expect(onGiveUp.mock.calls[0]![0].message).toBe('embedded Postgres died (signal SIGKILL) and is not restarted again: EMBEDDED_RESTARTS=0 leaves restarts to the process manager');
    expect(started).toHaveLength(1);
  });

  it('does not restart a process that exits while its owner stops (a Ctrl-C reached it too)', async () => {
    let stopping = false;
    const { supervised, started, onGiveUp, lines } = setup({ isStopping: () => stopping });
    await supervised;
    stopping = true;
    started[0]!.die('exit code 0');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(started).toHaveLength(1);
    expect(onGiveUp).not.toHaveBeenCalled();
    expect(lines).toEqual([]);
  });

  it('stop() during the backoff cancels the restart', async () => {
    const { supervised, started } = setup();
    const s = await supervised;
    started[0]!.die('signal SIGKILL');
    await s.stop();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(started).toHaveLength(1);
  });
});
