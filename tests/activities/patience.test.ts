import { ApplicationFailure } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import type { TenantGraph } from '../../activities/graph/clients.js';
import { patientGraph } from '../../activities/graph/patience.js';
import { FailureType } from '../../workflows/failures.js';

const throttled = (retryAfterMs?: number) => ApplicationFailure.create({ type: FailureType.GraphThrottled, message: 'Graph throttled the request (429)', nextRetryDelay: retryAfterMs });
const refused = () => ApplicationFailure.create({ type: FailureType.GraphRefused, message: 'Graph refused: 403', nonRetryable: true });

/** A Graph that answers with `failures` first, then 'ok'; it notes when each request was sent. */
function scripted(failures: Error[]) {
  const sentAt: number[] = [];
  const graph: TenantGraph = <T>() => {
    sentAt.push(Date.now());
    const failure = failures.shift();
    return failure ? Promise.reject(failure) : Promise.resolve('ok' as T);
  };
  return { graph, sentAt };
}

const inActivity = <T>(work: () => Promise<T>) => new MockActivityEnvironment().run(work);

describe("the sync's patience with a Graph that says \"come back later\"", () => {
  it('sends a throttled request again after each Retry-After, past the ten retries of the Graph client, and succeeds', async () => {
    const { graph, sentAt } = scripted(Array.from({ length: 15 }, () => throttled(20)));
    await expect(inActivity(() => patientGraph(graph, 5_000)((client) => Promise.resolve(client)))).resolves.toBe('ok');
    expect(sentAt).toHaveLength(16);
    const gaps = sentAt.slice(1).map((at, i) => at - sentAt[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(19); // never before its Retry-After (timer granularity: 1 ms)
  });

  it('gives up once the next wait would pass its patience, with the last refusal', async () => {
    const { graph, sentAt } = scripted(Array.from({ length: 100 }, () => throttled(50)));
    await expect(inActivity(() => patientGraph(graph, 200)((client) => Promise.resolve(client)))).rejects.toMatchObject({ type: FailureType.GraphThrottled });
    expect(sentAt.length).toBeGreaterThanOrEqual(4);
    expect(sentAt.length).toBeLessThanOrEqual(5);
  });

  it('does not wait out a refusal, or a failure that named no time to come back', async () => {
    for (const failure of [refused(), throttled(undefined), ApplicationFailure.create({ type: FailureType.EntraUnavailable, message: 'could not reach Entra' })]) {
      const { graph, sentAt } = scripted([failure]);
      await expect(inActivity(() => patientGraph(graph, 60_000)((client) => Promise.resolve(client)))).rejects.toBe(failure);
      expect(sentAt).toHaveLength(1);
    }
  });
});
