/**
 * The engine ceiling (scenario d): the least a Temporal delivery can be. A parent starts one abandoned
 * child, as messageWorkflow does, and the child runs one activity that does nothing, as deliveryWorkflow
 * runs `deliver`. No database, no HTTP, no local activity: whatever rate this reaches is what the
 * Temporal server and the SDK worker allow on this machine.
 *
 * The options are experiments (bench/run.ts --engine-…), each adding one thing hookflow does or could do.
 */
import type { SearchAttributePair } from '@temporalio/common';
import { ParentClosePolicy, proxyActivities, proxyLocalActivities, startChild } from '@temporalio/workflow';
import { deliverySearchAttributes } from '../workflows/ids';

export type EngineActivities = { noop(tag: string): Promise<void> };

export type EngineOptions = {
  /** Run the child's no-op as a local activity. */
  localActivity?: boolean;
  /** Children per parent (hookflow's fan-out starts up to 500 from one run). */
  fanout?: number;
  /** Put hookflow's search attributes on both workflows (3 keys on the parent, 4 on each child). */
  searchAttributes?: boolean;
};

const { noop } = proxyActivities<EngineActivities>({ startToCloseTimeout: '30s' });
const local = proxyLocalActivities<EngineActivities>({ startToCloseTimeout: '30s' });

/** Each child's tag is `<parent tag>#<n>`, so the benchmark counts `fanout` deliveries per parent. */
export async function engineParent(tag: string, o: EngineOptions = {}): Promise<void> {
  const fanout = o.fanout ?? 1;
  await Promise.all(
    Array.from({ length: fanout }, (_, n) => {
      const childTag = `${tag}#${n}`;
      const typedSearchAttributes: SearchAttributePair[] = o.searchAttributes
        ? deliverySearchAttributes({ tenantId: 'bench', eventType: 'bench.ping', messageId: tag, endpointId: `ep${n}` })
        : [];
      return startChild(o.localActivity ? engineChildLocal : engineChild, {
        args: [childTag],
        workflowId: `${tag}:child:${n}`,
        parentClosePolicy: ParentClosePolicy.ABANDON,
        typedSearchAttributes,
      });
    }),
  );
}

export async function engineChild(tag: string): Promise<void> {
  await noop(tag);
}

export async function engineChildLocal(tag: string): Promise<void> {
  await local.noop(tag);
}
