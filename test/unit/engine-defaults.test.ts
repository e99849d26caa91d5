import { describe, expect, it } from 'vitest';
import { ENGINE_DYNAMIC_CONFIG, engineDynamicConfig } from '../../src/embedded/engine-defaults';

describe("the embedded engines' dynamic config", () => {
  it('starts from the measured defaults', () => {
    const keys = engineDynamicConfig().map(([key]) => key);
    expect(keys).toEqual(expect.arrayContaining(['history.transferProcessorMaxPollRPS', 'history.hostLevelCacheMaxSize']));
    expect(engineDynamicConfig()).toEqual(ENGINE_DYNAMIC_CONFIG);
  });

  it('lets TEMPORAL_DYNAMIC_CONFIG replace a default and add keys of its own, each key once', () => {
    const merged = engineDynamicConfig([['history.transferProcessorMaxPollRPS', '20'], ['matching.numTaskqueueReadPartitions', '1']]);
    expect(merged.filter(([key]) => key === 'history.transferProcessorMaxPollRPS')).toEqual([['history.transferProcessorMaxPollRPS', '20']]);
    expect(merged).toContainEqual(['matching.numTaskqueueReadPartitions', '1']);
    expect(merged).toContainEqual(ENGINE_DYNAMIC_CONFIG.find(([key]) => key === 'history.hostLevelCacheMaxSize'));
  });

  it('compares keys as Temporal does, without regard to case', () => {
    const merged = engineDynamicConfig([['history.TransferProcessorMaxPollRPS', '20']]);
    expect(merged.filter(([key]) => key.toLowerCase() === 'history.transferprocessormaxpollrps')).toEqual([['history.TransferProcessorMaxPollRPS', '20']]);
  });
});
