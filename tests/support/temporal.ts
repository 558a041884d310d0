import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { inject } from 'vitest';

let runtimeInstalled = false;

/** Routes the SDK's worker logs to this logger instead (before the first connection of the file). */
export function installRuntimeLogger(logger: Parameters<typeof Runtime.install>[0]['logger']): void {
  if (runtimeInstalled) throw new Error('the Temporal runtime of this test file is installed already');
  Runtime.install({ logger });
  runtimeInstalled = true;
}

/** Client and worker connections to the run's one dev server, and a task queue of the file's own. */
export async function connectToTemporal() {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const address = inject('temporalAddress');
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  return {
    client: new Client({ connection, namespace: 'default' }),
    connection,
    nativeConnection,
    taskQueue: uniqueName('tq'),
    close: async () => {
      await nativeConnection.close();
      await connection.close();
    },
  };
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}
