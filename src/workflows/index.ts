/** Entry point of the workflow bundle. */
export { deploymentWorkflow } from './deployment';
export { planWorkflow } from './plan';
