// The version the simulated coder CLI reports; shared by the shim script and the server.
export const CLI_SHIM_VERSION = 'v2.0.0-scaletest-sim';
