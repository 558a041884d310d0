import { spawn, type ChildProcess } from 'node:child_process';
import { Connection } from '@temporalio/client';
import { searchAttributeKeys } from '../workflows/search-attributes.js';

export interface DevServerOptions {
  binary: string;
  port: number;
  /** Omit for a headless server (tests). */
  uiPort?: number;
  /** SQLite file that keeps workflows across restarts; omit for an in-memory server. */
  dbFilename?: string;
  namespace: string;
  /** Extra `--dynamic-config-value` settings, e.g. a lower continue-as-new suggestion in tests. */
  dynamicConfig?: Record<string, string | number | boolean>;
  onLog?: (line: string) => void;
}

export interface DevServerHandle {
  address: string;
  uiUrl?: string;
  stop: () => Promise<void>;
}

const TYPE_NAMES: Record<string, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

/** The real Temporal server from `temporal server start-dev`, with our search attributes registered. */
export async function startTemporalDevServer(options: DevServerOptions): Promise<DevServerHandle> {
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--namespace',
    options.namespace,
    '--log-level',
    'warn',
    ...(options.uiPort === undefined ? ['--headless'] : ['--ui-port', String(options.uiPort)]),
    ...(options.dbFilename === undefined ? [] : ['--db-filename', options.dbFilename]),
    ...searchAttributeKeys.flatMap((key) => ['--search-attribute', `${key.name}=${TYPE_NAMES[key.type]}`]),
    ...Object.entries(options.dynamicConfig ?? {}).flatMap(([name, value]) => [
      '--dynamic-config-value',
      `${name}=${JSON.stringify(value)}`,
    ]),
  ];
  const child = spawn(options.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const collect = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output.push(text);
    if (output.length > 50) output.shift();
    options.onLog?.(text);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  const address = `127.0.0.1:${options.port}`;
  try {
    await waitUntilServing(address, child, 60_000);
  } catch (error) {
    await stopChild(child);
    throw new Error(`Temporal dev server did not start: ${(error as Error).message}\n${output.join('').slice(-2000)}`);
  }
  return {
    address,
    uiUrl: options.uiPort === undefined ? undefined : `http://127.0.0.1:${options.uiPort}`,
    stop: () => stopChild(child),
  };
}

async function waitUntilServing(address: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  for (;;) {
    if (exited) throw new Error(`the process exited with code ${child.exitCode}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.healthService.check({});
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** SIGTERM lets the server flush its SQLite file; SIGKILL after 10 s if it hangs. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
