// The workflow bundle's entry point: every workflow the worker runs is exported here.
export { onboardingWorkflow } from './onboarding/workflow.js';
export { groupSelectionWorkflow } from './group-selection/workflow.js';
export { directorySyncWorkflow } from './sync/workflow.js';
export { webhookDeliveryWorkflow } from './webhooks/workflow.js';
