import pg from 'pg';

/**
 * One PostgreSQL connection per worker process that LISTENs for new directory events (migration
 * 0014 notifies on commit, with the org's id): delivery workflows wake within milliseconds of a
 * commit instead of polling. If the connection drops, waiters fall back to their own timeouts and
 * the next wait connects again.
 */
export function createEventsListener(databaseUrl: string) {
  const waiters = new Map<string, Set<() => void>>();
  let client: Promise<pg.Client> | undefined;

  const connect = () =>
    (client ??= (async () => {
      const listener = new pg.Client({ connectionString: databaseUrl, application_name: 'hook-events-listener' });
      listener.on('notification', (message) => {
        for (const wake of waiters.get(message.payload ?? '') ?? []) wake();
      });
      listener.on('error', () => {
        client = undefined; // reconnect on the next wait
        void listener.end().catch(() => undefined);
      });
      await listener.connect();
      await listener.query('listen hook_directory_events');
      return listener;
    })().catch((error: unknown) => {
      client = undefined;
      throw error;
    }));

  return {
    /** Resolves when the org has a new event, or after `timeoutMs`, or once `abort` fires. */
    async wait(orgId: string, timeoutMs: number, abort?: AbortSignal): Promise<void> {
      await connect().catch(() => undefined);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          abort?.removeEventListener('abort', done);
          waiters.get(orgId)?.delete(done);
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        abort?.addEventListener('abort', done);
        if (!waiters.has(orgId)) waiters.set(orgId, new Set());
        waiters.get(orgId)!.add(done);
      });
    },
    async close(): Promise<void> {
      const open = client;
      client = undefined;
      await (await open?.catch(() => undefined))?.end();
    },
  };
}

export type EventsListener = ReturnType<typeof createEventsListener>;
