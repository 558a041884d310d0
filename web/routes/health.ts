import { Router } from 'express';
import { sql } from 'kysely';
import type { AppDeps } from '../app.js';

const CHECK_TIMEOUT_MS = 2_000;

/**
 * /healthz: the process answers (liveness; restart it if not).
 * /readyz: it can do its job, i.e. Postgres and Temporal answer (readiness; route traffic elsewhere if not).
 */
export function healthRoutes({ db, temporal }: Pick<AppDeps, 'db' | 'temporal'>): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const [postgres, temporalCheck] = await Promise.all([
      check(() => sql`select 1`.execute(db)),
      check(() =>
        temporal.connection.withDeadline(Date.now() + CHECK_TIMEOUT_MS, () =>
          temporal.workflowService.getSystemInfo({}),
        ),
      ),
    ]);
    const ready = postgres === 'ok' && temporalCheck === 'ok';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', postgres, temporal: temporalCheck });
  });
  return router;
}

async function check(probe: () => Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS);
      }),
    ]);
    return 'ok';
  } catch (error) {
    return `unavailable: ${(error as Error).message.split('\n')[0]}`;
  } finally {
    clearTimeout(timer);
  }
}
