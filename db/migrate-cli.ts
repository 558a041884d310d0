import '../lib/require-node.js';
import { loadConfigOrExit } from '../lib/config.js';
import { createDb } from './client.js';
import { migrateToLatest } from './migrate.js';

/** `npm run migrate`: applies pending migrations to DATABASE_URL and exits. */
const config = loadConfigOrExit('DATABASE_URL');
const db = createDb(config.DATABASE_URL, { max: 1 });
try {
  const applied = await migrateToLatest(db);
  console.log(applied.length === 0 ? 'Database is up to date.' : `Applied: ${applied.join(', ')}`);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  await db.destroy();
}
