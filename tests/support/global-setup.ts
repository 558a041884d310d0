import '../../lib/require-node.js';
import type { TestProject } from 'vitest/node';
import { startServices } from './services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalCliPath: string;
    postgresAdminUrl: string;
  }
}

/**
 * ONE Temporal dev server (or TEMPORAL_ADDRESS) and ONE PostgreSQL (DATABASE_URL, else an
 * embedded one) for the whole run. Files get their own databases and task queues.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const services = await startServices((line) => console.log(line));
  project.provide('temporalAddress', services.temporalAddress);
  project.provide('temporalCliPath', services.temporalCliPath);
  project.provide('postgresAdminUrl', services.postgresAdminUrl);
  return services.stop;
}
