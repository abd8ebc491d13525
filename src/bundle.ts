/** Writes the workflow bundle once at build time so workers start (and resume) without bundling. */
import { promises as fs } from 'node:fs';
import { DefaultLogger, bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOW_BUNDLE } from './worker';

async function main(): Promise<void> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('./workflows'),
    logger: new DefaultLogger('WARN'),
  });
  await fs.writeFile(WORKFLOW_BUNDLE, code);
  console.log(`workflow bundle written to ${WORKFLOW_BUNDLE}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
