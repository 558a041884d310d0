import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { sampleCpu } from '../../bench/support/cpu-sampler.js';

// A process that spends one CPU second (its own clock, whatever else the machine is doing), says
// so, and stays alive a little longer so that the sample after its work still sees it.
const SPEND_ONE_CPU_SECOND = `
  const start = process.cpuUsage();
  const spent = () => { const u = process.cpuUsage(start); return (u.user + u.system) / 1e6; };
  while (spent() < 1) {}
  console.log('spent');
  setTimeout(() => {}, 1500);
`;

describe('the benchmarks\' CPU sampler', () => {
  it('counts the CPU a process spent to its owner, once, and the machine at least as much', async () => {
    const child = spawn(process.execPath, ['-e', SPEND_ONE_CPU_SECOND], { stdio: ['ignore', 'pipe', 'inherit'] });
    const cpu = sampleCpu(child.pid!);
    const from = Date.now();
    await once(child.stdout, 'data');
    await new Promise((resolve) => setTimeout(resolve, 1000)); // a sample after the work
    const to = Date.now();
    await cpu.stop();
    child.kill();
    const spent = cpu.between(from, to);
    // One second, give or take the child's start (before its clock began) and a tick.
    expect(spent.worker).toBeGreaterThanOrEqual(0.9);
    expect(spent.worker).toBeLessThan(1.5);
    expect(spent.machine).toBeGreaterThanOrEqual(spent.worker - 0.05);
    // Outside the window, nothing.
    expect(cpu.between(to + 60_000, to + 120_000).worker).toBe(0);
  });
});
