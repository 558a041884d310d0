import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Where the CPU a benchmark spends goes: the product's worker, PostgreSQL, the emulator, Temporal, and the rest. */
export type CpuOwner = 'worker' | 'postgres' | 'emulator' | 'temporal' | 'other';

interface Sample {
  at: number;
  /**
   * CPU seconds each process has used, by pid: its own, not its reaped children's (a killed
   * worker's whole life would land on its parent in the interval it was reaped).
   */
  processes: Map<number, { owner: CpuOwner; seconds: number }>;
  /** CPU seconds every core of the machine has been busy, from /proc/stat. */
  machine: number;
}

/**
 * Seconds the machine spent on each owner, and on everything (`machine`), between two moments;
 * `busiestBackend`: the most one PostgreSQL process spent (a long transaction's backend).
 */
export type CpuSpent = Record<CpuOwner, number> & { machine: number; busiestBackend: number };

// Linux counts CPU time in clock ticks; USER_HZ is 100 on every architecture Node runs on.
const TICKS_PER_SECOND = 100;

/**
 * Samples every process's CPU time (from /proc) every half second while a benchmark runs, so
 * that afterwards the CPU spent between any two moments (a sync's read, its commit) can be told
 * by owner. `workerPid`: the product's worker in a process of its own; the rest are told by name.
 */
export function sampleCpu(workerPid: number) {
  const samples: Sample[] = [];
  let stopped = false;
  const take = () => samples.push({ at: Date.now(), processes: processTimes(workerPid), machine: machineBusy() });
  const running = (async () => {
    while (!stopped) {
      take();
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    take();
  })();
  return {
    async stop() {
      stopped = true;
      await running;
    },
    /** CPU seconds spent between `from` and `to` (epoch milliseconds), each sample interval inside counted whole. */
    between(from: number, to: number): CpuSpent {
      const spent: CpuSpent = { worker: 0, postgres: 0, emulator: 0, temporal: 0, other: 0, machine: 0, busiestBackend: 0 };
      const backends = new Map<number, number>();
      for (let i = 1; i < samples.length; i++) {
        const [before, after] = [samples[i - 1]!, samples[i]!];
        if (after.at <= from || before.at >= to) continue;
        spent.machine += after.machine - before.machine;
        // A process that started or ended in the interval is left out of it (half a second at most).
        for (const [pid, now] of after.processes) {
          const then = before.processes.get(pid);
          if (then === undefined) continue;
          const seconds = Math.max(0, now.seconds - then.seconds);
          spent[now.owner] += seconds;
          if (now.owner === 'postgres') backends.set(pid, (backends.get(pid) ?? 0) + seconds);
        }
      }
      spent.busiestBackend = Math.max(0, ...backends.values());
      return spent;
    },
  };
}

export const cores = availableParallelism();

// Read synchronously: a few hundred small /proc files each half second cost the benchmark's
// process a tenth of a core through promises, and under a hundredth this way.
function processTimes(workerPid: number): Sample['processes'] {
  const times: Sample['processes'] = new Map();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    let stat: string, cmdline: string;
    try {
      [stat, cmdline] = [readFileSync(`/proc/${pid}/stat`, 'utf8'), readFileSync(`/proc/${pid}/cmdline`, 'utf8')];
    } catch {
      continue; // ended meanwhile
    }
    // The command may hold spaces and parentheses: the fields come after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [utime, stime] = [11, 12].map((field) => Number(fields[field]));
    const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    times.set(pid, { owner: ownerOf(pid, workerPid, command, cmdline), seconds: (utime! + stime!) / TICKS_PER_SECOND });
  }
  return times;
}

function ownerOf(pid: number, workerPid: number, command: string, cmdline: string): CpuOwner {
  if (pid === workerPid) return 'worker';
  if (command.startsWith('postgres')) return 'postgres'; // the postmaster, each backend, each background process
  if (command === 'temporal' || cmdline.includes('temporal\0server')) return 'temporal';
  if (cmdline.includes('emulator/main.ts')) return 'emulator';
  return 'other';
}

/** Seconds all cores have been busy since boot (every state but idle and waiting for I/O). */
function machineBusy(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  // Fields: user nice system idle iowait irq softirq steal; time stolen by the hypervisor was not ours.
  const [user, nice, system, , , irq, softirq] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user! + nice! + system! + irq! + softirq!) / TICKS_PER_SECOND;
}
