import { apiBenchmark } from './benchmarks/api.js';
import { configBenchmark } from './benchmarks/config.js';
import { deltaBenchmark } from './benchmarks/delta.js';
import { emulatorBenchmark } from './benchmarks/emulator.js';
import { eventsBenchmark } from './benchmarks/events.js';
import { pickerBenchmark, previewBenchmark } from './benchmarks/selection.js';
import { syncBenchmark } from './benchmarks/sync.js';
import type { Benchmark } from './figures.js';

/**
 * `npm run bench -- [name…]`: runs the named benchmarks (all when none is named) and prints one
 * JSON object per line per figure: {"bench","figure","value","unit","goal"}.
 * Benchmarks never run inside `npm test`: timings are figures to compare, not assertions.
 */
const benchmarks: Benchmark[] = [configBenchmark, emulatorBenchmark, pickerBenchmark, previewBenchmark, syncBenchmark, deltaBenchmark, apiBenchmark, eventsBenchmark];

const names = process.argv.slice(2);
const unknown = names.filter((name) => !benchmarks.some((bench) => bench.name === name));
if (unknown.length > 0) {
  console.error(`Unknown benchmark: ${unknown.join(', ')}. Known: ${benchmarks.map((bench) => bench.name).join(', ')}`);
  process.exit(2);
}
for (const bench of benchmarks.filter((candidate) => names.length === 0 || names.includes(candidate.name))) {
  console.error(`# ${bench.name}: ${bench.description}`);
  await bench.run((figure) => console.log(JSON.stringify({ bench: bench.name, ...figure })));
}
