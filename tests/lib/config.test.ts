import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, workerTuning } from '../../lib/config.js';
import { projectRoot } from '../../lib/paths.js';

const run = promisify(execFile);

describe('configuration', () => {
  it('runs on embedded defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      PORT: 3000,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: 'directory-sync',
      PUBLIC_URL: 'http://localhost:3000',
    });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.TEMPORAL_ADDRESS).toBeUndefined();
  });

  it('gives a worker twice as many activity slots as database connections, unless told otherwise', () => {
    expect(workerTuning(loadConfig({}))).toEqual({ poolSize: 10, maxConcurrentActivities: 20 });
    expect(workerTuning(loadConfig({ DATABASE_POOL_SIZE: '25' }))).toEqual({ poolSize: 25, maxConcurrentActivities: 50 });
    expect(workerTuning(loadConfig({ DATABASE_POOL_SIZE: '25', WORKER_MAX_CONCURRENT_ACTIVITIES: '30' }))).toEqual({ poolSize: 25, maxConcurrentActivities: 30 });
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', PORT: '' }).PORT).toBe(3000);
  });

  it.each([
    [{ PORT: 'abc' }, 'Invalid configuration: PORT must be an integer port between 1 and 65535 (got "abc")'],
    [{ PORT: '70000' }, 'Invalid configuration: PORT must be an integer port between 1 and 65535 (got "70000")'],
    [{ DATABASE_URL: 'mysql://db/x' }, 'Invalid configuration: DATABASE_URL must be a postgres:// connection URL (got "mysql://db/x")'],
    [{ TEMPORAL_ADDRESS: 'temporal' }, 'Invalid configuration: TEMPORAL_ADDRESS must be host:port, for example 127.0.0.1:7233 (got "temporal")'],
    [{ SESSION_SECRET: 'short' }, 'Invalid configuration: SESSION_SECRET must be at least 32 characters of random text (its value is a secret and is not shown)'],
    [{ DATA_ENCRYPTION_KEY: 'short-key' }, 'Invalid configuration: DATA_ENCRYPTION_KEY must be at least 32 characters of random text (its value is a secret and is not shown)'],
    [{ ENTRA_CLIENT_SECRET: 'tiny' }, 'Invalid configuration: ENTRA_CLIENT_SECRET must be the client secret value of the Entra app registration (its value is a secret and is not shown)'],
    [{ DATABASE_URL: 'mysql://hook:s3cret-pw@db/x' }, 'Invalid configuration: DATABASE_URL must be a postgres:// connection URL (got "mysql://hook:***@db/x")'],
    [{ TRUST_PROXY: 'everyone' }, 'Invalid configuration: TRUST_PROXY must be the proxies whose X-Forwarded-For to believe: a number of hops, or a comma-separated list of loopback, linklocal, uniquelocal, addresses and CIDR ranges (got "everyone")'],
    [{ PUBLIC_URL: 'ftp://x' }, 'Invalid configuration: PUBLIC_URL must be an http(s) URL where browsers reach the app (got "ftp://x")'],
    [{ TEMPORAL_TASK_QUEUE: 'has space' }, 'Invalid configuration: TEMPORAL_TASK_QUEUE must be a task queue name without spaces (got "has space")'],
    [{ DATABASE_POOL_SIZE: '1' }, 'Invalid configuration: DATABASE_POOL_SIZE must be a number of connections between 2 and 200 (got "1")'],
    [{ DATABASE_POOL_SIZE: '7.5' }, 'Invalid configuration: DATABASE_POOL_SIZE must be a whole number of connections (got "7.5")'],
    [{ WORKER_MAX_CONCURRENT_ACTIVITIES: 'many' }, 'Invalid configuration: WORKER_MAX_CONCURRENT_ACTIVITIES must be a number of activity slots between 1 and 2000 (got "many")'],
    [{ WEB_METRICS_PORT: '0' }, 'Invalid configuration: WEB_METRICS_PORT must be a port for the web process\'s Prometheus endpoint (got "0")'],
  ])('refuses %j with a one-line message naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(new ConfigError(message));
  });

  it('stops a process with that one line and exit code 78, before touching anything', async () => {
    const failure = await run(process.execPath, ['--import', 'tsx', 'web/main.ts'], {
      cwd: projectRoot,
      env: { PATH: process.env.PATH, PORT: 'not-a-port' },
    }).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 78 });
    expect((failure as { stderr: string }).stderr.trim()).toBe(
      'Invalid configuration: PORT must be an integer port between 1 and 65535 (got "not-a-port")',
    );
  });

  it('refuses to run a production process without its external services', async () => {
    const failure = await run(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
      cwd: projectRoot,
      env: { PATH: process.env.PATH },
    }).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 78 });
    expect((failure as { stderr: string }).stderr.trim()).toBe(
      'Invalid configuration: DATABASE_URL must be set for this process',
    );
  });
});
