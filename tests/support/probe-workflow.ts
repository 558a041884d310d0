import { proxyActivities } from '@temporalio/workflow';
import type { ProbeActivities } from './probe-activities.js';

const { recordOrg, readOrgName } = proxyActivities<ProbeActivities>({ startToCloseTimeout: '10 seconds' });

/** Test-only: proves a bundled workflow runs on the dev server and its activities use Postgres. */
export async function probeWorkflow(slug: string, name: string): Promise<string> {
  const id = await recordOrg(slug, name);
  return readOrgName(id);
}
