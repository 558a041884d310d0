import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../lib/paths.js';

/** `npm run test:faults` sets FAULTS=full: more kills, longer outages, more rounds. `npm test` runs the short version. */
export const FULL = process.env.FAULTS === 'full';

/**
 * Records what a fault scenario did and what held, one JSON line in
 * test-results/faults.jsonl (and on stdout): the figures docs/reliability.md reports.
 */
export function faultFigure(scenario: string, figures: Record<string, number | string>): void {
  const line = JSON.stringify({ scenario, mode: FULL ? 'full' : 'short', ...figures });
  console.log(`fault figure: ${line}`);
  const dir = path.join(projectRoot, 'test-results');
  mkdirSync(dir, { recursive: true });
  appendFileSync(path.join(dir, 'faults.jsonl'), `${line}\n`);
}
