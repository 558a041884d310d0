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
