/**
 * The parent's side of bench/receiver.ts: forks it, learns its ports, and keeps the first arrival of
 * every (webhook-id, path) pair. Webhook ids are `bench.<scenario>.<run>.<n>`, so receipts are counted
 * per scenario and a straggler from an earlier scenario never counts for a later one.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ReceiverMessage } from './receiver';

export class Receivers {
  ports: number[] = [];
  /** webhook-id → first arrival at each distinct path (one per endpoint). */
  readonly arrivals = new Map<string, number[]>();
  private readonly seen = new Set<string>();
  private readonly delivered = new Map<string, number>();
  private readonly duplicates = new Map<string, number>();
  private readonly last = new Map<string, number>();

  private constructor(private readonly child: ChildProcess) {}

  static async start(servers: number): Promise<Receivers> {
    const child = fork(fileURLToPath(new URL('./receiver.ts', import.meta.url)), [String(servers)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const receivers = new Receivers(child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the receiver process did not start in 30 s')), 30_000);
      child.once('exit', (code) => reject(new Error(`the receiver process exited with code ${code}`)));
      child.on('message', (message: ReceiverMessage) => {
        if (message.type === 'ready') {
          receivers.ports = message.ports;
          clearTimeout(timer);
          resolve();
        } else {
          for (const [id, path, at] of message.receipts) receivers.record(id, path, at);
        }
      });
    });
    return receivers;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The URL of endpoint `n` of a group, spread over the receiver servers. */
  url(group: string, n: number): string {
    return `http://127.0.0.1:${this.ports[n % this.ports.length]}/${group}/${n}`;
  }

  private record(id: string, path: string, at: number): void {
    const scenario = id.split('.')[1] ?? 'unknown';
    const key = `${id} ${path}`;
    if (this.seen.has(key)) {
      this.duplicates.set(scenario, (this.duplicates.get(scenario) ?? 0) + 1);
      return;
    }
    this.seen.add(key);
    const list = this.arrivals.get(id);
    if (list) list.push(at);
    else this.arrivals.set(id, [at]);
    this.delivered.set(scenario, (this.delivered.get(scenario) ?? 0) + 1);
    this.last.set(scenario, Math.max(this.last.get(scenario) ?? 0, at));
  }

  deliveredCount(scenario: string): number {
    return this.delivered.get(scenario) ?? 0;
  }

  duplicateCount(scenario: string): number {
    return this.duplicates.get(scenario) ?? 0;
  }

  lastArrival(scenario: string): number | undefined {
    return this.last.get(scenario);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
