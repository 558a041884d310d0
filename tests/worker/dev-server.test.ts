import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchAttributeKeys } from '../../workflows/search-attributes.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createProbeActivities } from '../support/probe-activities.js';
import { probeWorkflow } from '../support/probe-workflow.js';
import { connectToTemporal, uniqueName } from '../support/temporal.js';

describe('the real Temporal dev server', () => {
  let database: TestDatabase;
  let temporal: Awaited<ReturnType<typeof connectToTemporal>>;
  beforeAll(async () => {
    database = await createTestDatabase();
    temporal = await connectToTemporal();
  });
  afterAll(async () => {
    await temporal.close();
    await database.drop();
  });

  it('runs a bundled workflow whose activities write and read Postgres', async () => {
    const worker = await Worker.create({
      connection: temporal.nativeConnection,
      taskQueue: temporal.taskQueue,
      workflowsPath: fileURLToPath(new URL('../support/probe-workflow.ts', import.meta.url)),
      activities: createProbeActivities(database.db),
    });
    const result = await worker.runUntil(
      temporal.client.workflow.execute(probeWorkflow, {
        workflowId: uniqueName('probe'),
        taskQueue: temporal.taskQueue,
        args: ['probe-org', 'Probe Org'],
      }),
    );
    expect(result).toBe('Probe Org');
    const stored = await database.db.selectFrom('orgs').select(['slug', 'name']).execute();
    expect(stored).toEqual([{ slug: 'probe-org', name: 'Probe Org' }]);
  });

  it('has the project custom search attributes registered', async () => {
    const { customAttributes } = await temporal.connection.operatorService.listSearchAttributes({ namespace: 'default' });
    for (const key of searchAttributeKeys) expect(Object.keys(customAttributes ?? {})).toContain(key.name);
  });
});
