// The engine's public API, shared by the CLI, the VS Code extension and Kubernetes shards.
export {
  startRun,
  classifyAccessError,
  DeploymentAccessError,
  type RunEvent,
  type RunHandle,
  type RunResult,
  type StartRunOptions,
} from './run/run';
export {
  defaultPlan,
  validatePlan,
  parsePlanText,
  planJsonSchema,
  PlanError,
  defaultThresholds,
  enabledStages,
  type Plan,
} from './plan/plan';
export { parseThreshold, evaluateThreshold, metricCatalogue } from './judge/thresholds';
export { cleanupRun, type CleanupOutcome, type CleanupProgress } from './cleanup/cleanup';
export { readReport, type RunReport } from './outputs/report/report';
export { findChromium, ChromiumNotFoundError } from './stages/dashboard/chromium';
export { decodeLatency } from './metrics/stageMetrics';
export { registerStage, stageTitle, trafficStages } from './stages/registry';
export { defineTrafficStage, type TrafficStageDefinition } from './stages/definition';
export { DEFAULT_CONNECTIONS_PER_SECOND, planRamp, type RampSettings } from './stages/echo/ramp';
export {
  CONNECTION_COSTS,
  runnerCapacity,
  sshCost,
  type CapacityOptions,
  type ConnectionCost,
  type RunnerCapacity,
  type RunnerMachine,
} from './plan/runnerCapacity';
