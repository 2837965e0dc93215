// The stage registry: the lifecycle stages (prepare before, cleanup after) and the traffic
// stages, in timeline order. Adding a traffic stage is a folder with its descriptor and its
// runner plus one line in BUILTIN_TRAFFIC_STAGES (or a registerStage call, as a plug-in or a
// test does). Only descriptors are imported here: no stage's runner loads with the registry.
import { appsStage } from './apps/descriptor';
import { dashboardStage } from './dashboard/descriptor';
import { dynamicParametersStage } from './dynamicParameters/descriptor';
import { morningRushStage } from './morningRush/descriptor';
import type { StageIdentity, TrafficStageDefinition } from './definition';
import { presentationProblems } from './presentation';
import { ptyStage } from './pty/descriptor';
import { workspaceUpdatesStage } from './workspaceUpdates/descriptor';
import { sshStage } from './ssh/descriptor';

/** The registration lines of the built-in traffic stages; the Plan type derives from this tuple. */
export const BUILTIN_TRAFFIC_STAGES = [
  sshStage,
  ptyStage,
  appsStage,
  dashboardStage,
  dynamicParametersStage,
  workspaceUpdatesStage,
  morningRushStage,
] as const;

export const PREPARE_STAGE: StageIdentity = {
  id: 'prepare',
  title: 'Prepare',
  color: 'yellow',
  metrics: ['latency', 'counters', 'failures'],
  latencyMeaning: 'workspace build',
};

export const CLEANUP_STAGE: StageIdentity = { id: 'cleanup', title: 'Cleanup', color: 'red', metrics: ['failures'] };

const traffic: TrafficStageDefinition[] = [...BUILTIN_TRAFFIC_STAGES];
let version = 0;

/**
 * Adds a traffic stage after the registered ones; returns a function that removes it again.
 * Throws for a duplicate or malformed definition: a plug-in mistake must not surface mid-run.
 */
export function registerStage(definition: TrafficStageDefinition): () => void {
  if (!/^[a-z][a-z0-9_]*$/.test(definition.id)) throw new Error(`stage id "${definition.id}": use lowercase letters, digits and _`);
  if (allStages().some((stage) => stage.id === definition.id)) throw new Error(`stage "${definition.id}" is already registered`);
  if (typeof definition.load !== 'function') throw new Error(`stage "${definition.id}" needs load(), which imports its runner`);
  if (definition.settings.properties.enabled === undefined)
    throw new Error(`stage "${definition.id}": its settings need an "enabled" field`);
  const problems = presentationProblems(definition.id, definition);
  if (problems.length) throw new Error(problems.join('; '));
  traffic.push(definition);
  version++;
  return () => {
    const index = traffic.indexOf(definition);
    if (index >= 0) {
      traffic.splice(index, 1);
      version++;
    }
  };
}

/** Changes whenever a stage is registered or removed (compiled schemas are cached per version). */
export function registryVersion(): number {
  return version;
}

/** Traffic stages in timeline order. */
export function trafficStages(): readonly TrafficStageDefinition[] {
  return traffic;
}

/** Every stage of a run, in the order snapshots list them: prepare, the traffic stages, cleanup. */
export function allStages(): readonly StageIdentity[] {
  return [PREPARE_STAGE, ...traffic, CLEANUP_STAGE];
}

export function findStage(id: string): StageIdentity | undefined {
  return allStages().find((stage) => stage.id === id);
}

export function findTrafficStage(id: string): TrafficStageDefinition | undefined {
  return traffic.find((stage) => stage.id === id);
}

/** A stage's title; the id itself for a stage this build does not know (e.g. from a newer report). */
export function stageTitle(id: string): string {
  return findStage(id)?.title ?? id;
}
