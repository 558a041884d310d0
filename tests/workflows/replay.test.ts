import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../lib/paths.js';
import { workflowsPath } from '../../worker/worker.js';

const dir = path.join(projectRoot, 'tests', 'fixtures', 'histories');

/**
 * Today's workflow code must replay the histories that earlier code wrote (recorded with
 * `npm run record-histories`): a non-deterministic change fails here, in CI, before it can
 * break workflows that are running in production.
 */
describe('replaying recorded workflow histories', () => {
  it('replays every history without a non-determinism error', async () => {
    const files = (await readdir(dir)).filter((name) => name.endsWith('.json') && name !== 'checksums.json').sort();
    // Histories are append-only: each file's hash is in the committed list, so re-recording one (or
    // adding one) is a visible decision, never a side effect of `npm run record-histories`.
    const hashes = Object.fromEntries(await Promise.all(files.map(async (name) => [name, createHash('sha256').update(await readFile(path.join(dir, name))).digest('hex')] as const)));
    expect(hashes).toEqual(JSON.parse(await readFile(path.join(dir, 'checksums.json'), 'utf8')));
    expect(files).toEqual(['directorySyncWorkflow-delta-cycle.json', 'directorySyncWorkflow-first-cycle.json', 'groupSelectionWorkflow-saved.json', 'onboardingWorkflow-connected.json', 'onboardingWorkflow-proven-connected.json', 'webhookDeliveryWorkflow-delivered-deleted.json']);
    const histories = await Promise.all(
      files.map(async (name) => ({ workflowId: name, history: historyFromJSON(JSON.parse(await readFile(path.join(dir, name), 'utf8'))) })),
    );
    const results: Array<{ workflowId: string; error?: unknown }> = [];
    for await (const result of Worker.runReplayHistories({ workflowsPath, replayName: 'ci', workflowFailureErrorTypes: { '*': ['NondeterminismError'] } }, histories)) results.push(result);
    expect(results.map((result) => [result.workflowId, result.error === undefined ? 'ok' : result.error instanceof Error ? result.error.message : 'failed'])).toEqual(files.map((name) => [name, 'ok']));
  }, 120_000);
});
