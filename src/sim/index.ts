// The embedded simulated Coder deployment: control plane (this directory) and agents (./agent).
export { startSimDeployment, SIM_BUILD_VERSION } from './server';
export type { SimDeployment, SimDeploymentOptions, SimStats } from './server';
export { loadFaultsFile, validateFaults } from './faultsFile';
export { behaviourFor as coderVersionBehaviour, DEFAULT_CODER_VERSION } from './versions';
export type { FaultsConfig, EndpointClass } from './faults';
