import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type ReplayResult } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../../src/lib/paths';
import * as workflows from '../../workflows';

/**
 * Saved histories of runs of every released version of the workflows (test/histories/<version>/, written by
 * `npm run histories:record`), replayed through the workflow code checked out. A change that would
 * break a run in flight, because it issues other commands than the history holds and is not
 * guarded by patched(), fails here with a DeterminismViolationError naming the file.
 */
const root = fileURLToPath(new URL('../histories/', import.meta.url));
/** Folders are `v<n>-<commit>`; ordered by n. */
const versions = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort((a, b) => Number(/^v(\d+)/.exec(a)?.[1]) - Number(/^v(\d+)/.exec(b)?.[1]));
const files = versions.flatMap((version) => readdirSync(join(root, version)).filter((f) => f.endsWith('.json')).map((f) => `${version}/${f}`));
const historyOf = (file: string) => historyFromJSON(JSON.parse(readFileSync(join(root, file), 'utf8')));

const results = new Map<string, ReplayResult>();
beforeAll(async () => {
  // The replay worker's state changes are logged at INFO; a replay failure is in the results.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
  const histories = files.map((file) => ({ workflowId: file, history: historyOf(file) }));
  for await (const result of Worker.runReplayHistories({ workflowBundle: { code } }, histories)) results.set(result.workflowId, result);
}, 120_000);

describe('saved workflow histories replay on the current workflow code', () => {
  it.each(files)('%s', (file) => {
    const result = results.get(file);
    expect(result, `${file} was not replayed`).toBeDefined();
    expect(result?.error && `${result.error.name}: ${result.error.message}`, file).toBeUndefined();
  });

  it('every workflow type has histories in the newest version folder', () => {
    const types = Object.entries(workflows).filter(([, value]) => typeof value === 'function').map(([name]) => name).sort();
    const newest = versions[versions.length - 1]!;
    const recorded = new Set(
      files.filter((f) => f.startsWith(`${newest}/`)).map((f) => historyOf(f).events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name),
    );
    expect(types.filter((t) => !recorded.has(t))).toEqual([]);
  });
});

const quietLogger = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: console.error };
