import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// `npm run test:load`: the load suite, on its own (it is not part of `npm test`).
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['tests/load/**/*.load.ts'],
    globalSetup: ['tests/support/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 900_000,
    hookTimeout: 300_000,
  },
});
