import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The checkout's root folder, whether running from sources (tsx) or from dist/. */
export const projectRoot = findRoot(path.dirname(fileURLToPath(import.meta.url)));

/** Where `npm start` keeps its embedded state between runs. */
export const dataDir = path.join(projectRoot, '.data');

/** Where the project installs tools it could not find on the machine. */
export const toolsDir = path.join(projectRoot, '.tools');

function findRoot(start: string): string {
  // lib/ in sources, dist/lib/ in the build.
  return path.basename(path.dirname(start)) === 'dist' ? path.resolve(start, '../..') : path.resolve(start, '..');
}
