/**
 * The Temporal server's own persistence counters, from its Prometheus `/metrics` (start-dev's
 * `--metrics-port`, the server's `global.metrics.prometheus`): `persistence_requests` (execution,
 * history, task and shard stores) and `visibility_persistence_requests`, each by operation.
 */
import { request } from 'undici';

/** operation → requests, summed over services. */
export type OpCounts = Record<string, number>;
/**
 * `persistence`: requests made for hookflow's namespace (workflow executions, history, its task
 * queues). `shared`: requests the server makes for no one namespace — the shards' transfer, timer and
 * visibility task queues — without its cluster-wide housekeeping. `visibility`: the visibility store
 * (records of started and closed workflows, list and count queries), any namespace but the server's own.
 */
export type PersistenceSnapshot = { at: number; persistence: OpCounts; shared: OpCounts; visibility: OpCounts };
export type PersistenceKind = 'persistence' | 'shared' | 'visibility';
export const KINDS: PersistenceKind[] = ['persistence', 'shared', 'visibility'];

const LINE = /^(persistence_requests|visibility_persistence_requests)(?:_total)?\{([^}]*)\}\s+([0-9.eE+-]+)/;
const UNATTRIBUTED = new Set(['', '_unknown_', 'all', 'system']);
/** Cluster metadata, membership and the namespace registry: refreshed on timers whatever the load. */
const HOUSEKEEPING = /^(Get|List|Upsert|Prune|Init)\w*(Cluster|Membership|Members|Metadata|Namespace)/;
const SYSTEM_NAMESPACES = new Set(['temporal_system', 'system']);

export function parsePersistence(text: string, namespace: string, at = Date.now()): PersistenceSnapshot {
  const snap: PersistenceSnapshot = { at, persistence: {}, shared: {}, visibility: {} };
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const op = /operation="([^"]*)"/.exec(m[2]!)?.[1] ?? 'unknown';
    const ns = /namespace="([^"]*)"/.exec(m[2]!)?.[1] ?? '';
    let into: OpCounts | undefined;
    if (m[1] === 'visibility_persistence_requests') into = SYSTEM_NAMESPACES.has(ns) ? undefined : snap.visibility;
    else if (ns === namespace) into = snap.persistence;
    else if (UNATTRIBUTED.has(ns) && !HOUSEKEEPING.test(op)) into = snap.shared;
    if (into) into[op] = (into[op] ?? 0) + Number(m[3]);
  }
  return snap;
}

export async function scrapePersistence(url: string, namespace: string): Promise<PersistenceSnapshot> {
  const res = await request(url);
  if (res.statusCode !== 200) throw new Error(`${url} answered ${res.statusCode}`);
  return parsePersistence(await res.body.text(), namespace);
}

/** Reads: look-ups that change nothing. Everything else (create, update, append, complete, lease…) writes. */
export const isRead = (op: string) => /^(Get|List|Read|Range|Describe|Scan|Count|Is|Load)/.test(op);

/**
 * What happened between two snapshots, less what the server does by itself while idle (task-queue
 * lease renewals, shard updates, queue scans) at the rate measured in `idle` over the same length of time.
 */
export function persistenceDelta(from: PersistenceSnapshot, to: PersistenceSnapshot, idle?: { from: PersistenceSnapshot; to: PersistenceSnapshot }): Record<PersistenceKind, OpCounts> {
  const seconds = (to.at - from.at) / 1000;
  const idleSeconds = idle ? (idle.to.at - idle.from.at) / 1000 : 0;
  const diff = (kind: PersistenceKind) => {
    const out: OpCounts = {};
    for (const op of new Set([...Object.keys(from[kind]), ...Object.keys(to[kind])])) {
      let n = (to[kind][op] ?? 0) - (from[kind][op] ?? 0);
      if (idle && idleSeconds > 0) n -= (((idle.to[kind][op] ?? 0) - (idle.from[kind][op] ?? 0)) / idleSeconds) * seconds;
      if (Math.round(n) > 0) out[op] = Math.round(n);
    }
    return out;
  };
  return { persistence: diff('persistence'), shared: diff('shared'), visibility: diff('visibility') };
}

export const sum = (c: OpCounts) => Object.values(c).reduce((a, b) => a + b, 0);
export const sumWhere = (c: OpCounts, keep: (op: string) => boolean) => Object.entries(c).reduce((a, [op, n]) => a + (keep(op) ? n : 0), 0);
