import { activityInfo, heartbeat } from '@temporalio/activity';

/**
 * Heartbeats `details()` at half the heartbeat timeout while `work` runs, so an activity that is
 * waiting out Graph's Retry-After (up to ten times for one page) is not taken for a dead one; a
 * worker that really dies stops heartbeating and its activity moves elsewhere.
 */
export async function keepHeartbeating<T>(details: () => unknown, work: () => Promise<T>): Promise<T> {
  const every = Math.max(500, (activityInfo().heartbeatTimeoutMs ?? 60_000) / 2);
  const timer = setInterval(() => heartbeat(details()), every);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/**
 * A heartbeat for a loop that could beat on every page: at most once a second. Temporal's core
 * sends the latest details only every 80 % of the heartbeat timeout anyway, and turning details
 * into a payload on every page cost a full read of 2,000 pages half a second of the worker's CPU.
 */
export function heartbeatAtMostEverySecond(details: () => unknown): () => void {
  let last = 0;
  return () => {
    const now = Date.now();
    if (now - last < 1_000) return;
    last = now;
    heartbeat(details());
  };
}
