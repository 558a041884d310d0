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
    /**
     * Listens for the org's new events from now on: call it before looking at the feed, so an
     * event committed between the look and the wait still wakes the waiter. `wait` resolves at
     * once if one came since `watch`, else at the next, after `timeoutMs` or once `abort` fires.
     * `stop` ends the watch.
     */
    async watch(orgId: string) {
      let came = false;
      let wake: () => void = () => undefined;
      const waiter = () => {
        came = true;
        wake();
      };
      if (!waiters.has(orgId)) waiters.set(orgId, new Set());
      waiters.get(orgId)!.add(waiter);
      await connect().catch(() => undefined); // without a connection, waits last their timeout
      return {
        wait: (timeoutMs: number, abort?: AbortSignal) =>
          new Promise<void>((resolve) => {
            if (came) return resolve();
            const done = () => {
              clearTimeout(timer);
              abort?.removeEventListener('abort', done);
              resolve();
            };
            const timer = setTimeout(done, timeoutMs);
            abort?.addEventListener('abort', done);
            wake = done;
          }),
        stop(): void {
          waiters.get(orgId)?.delete(waiter);
          if (waiters.get(orgId)?.size === 0) waiters.delete(orgId);
        },
      };
    },
    async close(): Promise<void> {
      const open = client;
      client = undefined;
      await (await open?.catch(() => undefined))?.end();
    },
  };
}

export type EventsListener = ReturnType<typeof createEventsListener>;
