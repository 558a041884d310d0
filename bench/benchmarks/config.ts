import { loadConfig } from '../../lib/config.js';
import type { Benchmark } from '../figures.js';

/** Trivial by design: proves the harness end to end. Every process parses its config once. */
export const configBenchmark: Benchmark = {
  name: 'config',
  description: 'parse the environment into a Config',
  run: (report) => {
    const env = { DATABASE_URL: 'postgres://u@127.0.0.1:5432/hook', TEMPORAL_ADDRESS: '127.0.0.1:7233', PORT: '8080' };
    const rounds = 20_000;
    const started = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) loadConfig(env);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    report({ figure: 'parses per second', value: Math.round(rounds / seconds), unit: 'parses/s', goal: null });
    return Promise.resolve();
  },
};
