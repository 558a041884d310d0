import { promises as fs } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';

/** `npm run build` writes the workflow bundle that production workers load (no bundling at start). */
export const bundlePath = fileURLToPath(new URL('../workflow-bundle.js', import.meta.url));

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const { code } = await bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('../../workflows/index.ts', import.meta.url)),
    // The same interceptors as a worker that bundles at start (workflowInterceptorModules in worker/worker.ts).
    workflowInterceptorModules: [fileURLToPath(new URL('../../workflows/trace-context.ts', import.meta.url))],
  });
  await fs.writeFile(bundlePath, code);
  console.log(`Workflow bundle written to ${bundlePath} (${(code.length / 1024).toFixed(0)} KiB)`);
}
