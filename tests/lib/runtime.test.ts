import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../lib/paths.js';
import { NODE_MAJOR } from '../../lib/runtime.js';

describe('the Node.js the product runs on', () => {
  it('is Node 24 LTS here: npm scripts put the node_modules Node first, whatever the system has', () => {
    expect(Number(process.versions.node.split('.')[0])).toBe(NODE_MAJOR);
  });

  it('an entry point on another major stops with a clear message instead of failing somewhere later', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', "import('./lib/runtime.ts').then((m) => m.requireSupportedNode('20.19.6'))"], { cwd: projectRoot, encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('runs on Node.js 24 LTS; this is Node.js 20.19.6');
    const fine = spawnSync(process.execPath, ['--import', 'tsx', '-e', "import('./lib/runtime.ts').then((m) => m.requireSupportedNode('24.22.3'))"], { cwd: projectRoot, encoding: 'utf8' });
    expect(fine.status).toBe(0);
  });
});
