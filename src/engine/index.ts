// The engine's public API, shared by the CLI, the VS Code extension and Kubernetes shards.
export {
  startRun,
  classifyAccessError,
  DeploymentAccessError,
  type RunEvent,
  type RunHandle,
  type RunResult,
  type StartRunOptions,
} from './run';
export { defaultPlan, validatePlan, parsePlanText, planJsonSchema, PlanError, defaultThresholds, enabledStages, type Plan } from './plan';
export { parseThreshold, evaluateThreshold, metricCatalogue } from './thresholds';
export { cleanupRun, type CleanupOutcome, type CleanupProgress } from './cleanup';
export { readReport, type RunReport } from './report';
export { findChromium, ChromiumNotFoundError } from './dashboardStage';
export { decodeLatency } from './metrics';
export { registerStage, stageTitle, trafficStages } from './stages/registry';
export { defineTrafficStage, type TrafficStageDefinition } from './stages/definition';
